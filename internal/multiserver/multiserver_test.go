package multiserver

import (
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/seed"
)

// newestQuery is an anonymous read of the thread, the kind the response cache keeps: the newest comments.
const newestQuery = `query($site: String!, $key: String!) { article(site: $site, key: $key) { commentCount comments(first: 3, orderBy: NEWEST) { edges { node { id } } } } }`

var sampleVars = map[string]any{"site": seed.SiteSlug, "key": seed.ArticleKey}

// newest reads the newest comment's ID on s, anonymously, and returns it with the Cache-Status it came with.
func newest(t testing.TB, s *server) (id, cacheStatus string) {
	t.Helper()
	var out struct {
		Article struct {
			Comments struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
	}
	r := s.query(t, "", newestQuery, sampleVars, &out)
	if len(out.Article.Comments.Edges) == 0 {
		t.Fatalf("server %s: no comments", s.name)
	}
	return out.Article.Comments.Edges[0].Node.ID, r.CacheStatus
}

// TestCommentPostedOnOneServerIsReadOnTheOther: once a server acknowledged a comment, an anonymous read of the
// thread on the other server, whose response cache held the thread before, has it within the notification
// delay (bounded here by 5 s; the delays, polled every millisecond, are logged).
func TestCommentPostedOnOneServerIsReadOnTheOther(t *testing.T) {
	a, b := startPair(t, pgtest.URL(t), "--rate-limit=false")
	article := a.sampleArticle(t)
	token := a.mustCreateReader(t, "Poster")

	const posts = 25 // in each direction
	var delays []time.Duration
	for _, tc := range []struct{ from, to *server }{{a, b}, {b, a}} {
		t.Run(tc.from.name+" to "+tc.to.name, func(t *testing.T) {
			for i := range posts {
				// The thread is in the other server's cache before the post, or the test could not see a stale one.
				var before string
				eventually(t, time.Second, "the thread in "+tc.to.name+"'s response cache", func() (bool, string) {
					var status string
					before, status = newest(t, tc.to)
					return status == "threadline; hit", status
				})
				id, _, _, err := tc.from.addComment(token, article, fmt.Sprintf("Comment %d from %s.", i, tc.from.name))
				if err != nil {
					t.Fatal(err)
				}
				if id == before {
					t.Fatalf("the new comment has the ID of the old newest, %s", id)
				}
				d := eventuallyEvery(t, time.Millisecond, 5*time.Second, "the comment "+id+" acknowledged by "+tc.from.name+" in an anonymous read on "+tc.to.name, func() (bool, string) {
					got, status := newest(t, tc.to)
					return got == id, "newest " + got + ", " + status
				})
				delays = append(delays, d)
			}
		})
	}
	if len(delays) == 0 {
		return
	}
	slices.Sort(delays)
	t.Logf("from acknowledgement on one server to an anonymous read on the other, %d posts: p50 %s, p99 %s, max %s",
		len(delays), percentile(delays, 50), percentile(delays, 99), delays[len(delays)-1])
}

// TestSubscriberOnOtherServerReceivesComment: a graphql-ws subscriber on each server receives the comments
// posted on the other, once each, in the order they were acknowledged, each within the notification delay
// (bounded here by 5 s; the delays are logged).
func TestSubscriberOnOtherServerReceivesComment(t *testing.T) {
	a, b := startPair(t, pgtest.URL(t), "--rate-limit=false")
	article := a.sampleArticle(t)
	token := a.mustCreateReader(t, "Poster")

	const posts = 25
	// The first case is the control: a subscriber on the server that took the comments.
	for _, tc := range []struct{ from, to *server }{{a, a}, {a, b}, {b, a}} {
		t.Run("posted on "+tc.from.name+", subscribed on "+tc.to.name, func(t *testing.T) {
			sub, err := tc.to.subscribe(article, "")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.close()
			tc.to.waitSubscribers(t, 1)
			var ids []string
			var delays []time.Duration
			for i := range posts {
				id, _, _, err := tc.from.addComment(token, article, fmt.Sprintf("Live comment %d from %s.", i, tc.from.name))
				if err != nil {
					t.Fatal(err)
				}
				acked := time.Now()
				ids = append(ids, id)
				eventually(t, 5*time.Second, "the subscriber on "+tc.to.name+" receives the comment "+id+" posted on "+tc.from.name, func() (bool, string) {
					events, ended := sub.received()
					if ended != nil {
						t.Fatalf("the subscription ended: %v", ended)
					}
					for _, e := range events {
						if e.CommentID == id {
							delays = append(delays, max(0, e.at.Sub(acked))) // 0: it came before the answer did
							return true, ""
						}
					}
					return false, fmt.Sprintf("%d events", len(events))
				})
			}
			time.Sleep(100 * time.Millisecond) // room for a duplicate to show
			events, _ := sub.received()
			var got []string
			for _, e := range events {
				if e.Kind != "ADDED" {
					t.Errorf("event %+v, want ADDED", e)
				}
				got = append(got, e.CommentID)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("received %v, want %v (each once, in order)", got, ids)
			}
			slices.Sort(delays)
			t.Logf("from acknowledgement to the subscriber, %d comments: p50 %s, p99 %s, max %s",
				len(delays), percentile(delays, 50), percentile(delays, 99), delays[len(delays)-1])
			sub.close()
			tc.to.waitSubscribers(t, 0)
		})
	}
}

// TestLikesSplitAcrossServersCountExactly: 1,000 readers, made through the API on both servers, like one
// comment at once, half through A and half through B; then each likes it again through the other server. The
// count is exactly 1,000 on both, for readers and for anonymous (cached) reads. Rate limits are off
// (--rate-limit=false): from one address they allow 5 new readers, and these are 1,000.
func TestLikesSplitAcrossServersCountExactly(t *testing.T) {
	const readers = 1000
	a, b := startPair(t, pgtest.URL(t), "--rate-limit=false")
	servers := []*server{a, b}
	article := a.sampleArticle(t)
	comment, _, _, err := a.addComment(a.mustCreateReader(t, "Author"), article, "Like this.")
	if err != nil {
		t.Fatal(err)
	}
	count := func(s *server, token string) (int, string) {
		var out struct{ Node struct{ LikeCount int } }
		r := s.query(t, token, `query($id: ID!) { node(id: $id) { ... on Comment { likeCount } } }`, map[string]any{"id": comment}, &out)
		return out.Node.LikeCount, r.CacheStatus
	}
	for _, s := range servers {
		count(s, "") // the anonymous read is in both caches before the likes
	}

	tokens := make([]string, readers)
	start := time.Now()
	if err := parallel(readers, 16, func(i int) error {
		var err error
		tokens[i], _, err = servers[i%2].createReader(fmt.Sprintf("Reader %d", i))
		return err
	}); err != nil {
		t.Fatalf("createReader: %v", err)
	}
	t.Logf("%d readers made in %s", readers, time.Since(start).Round(time.Millisecond))

	for round, name := range []string{"first likes", "the same likes again, each through the other server"} {
		start := time.Now()
		if err := parallel(readers, 16, func(i int) error {
			return servers[(i+round)%2].likeComment(tokens[i], comment)
		}); err != nil {
			t.Fatalf("%s: likeComment: %v", name, err)
		}
		t.Logf("%s: %d in %s", name, readers, time.Since(start).Round(time.Millisecond))
		for _, s := range servers {
			if n, _ := count(s, tokens[0]); n != readers {
				t.Errorf("after %s, a reader on %s counts %d likes, want %d", name, s.name, n, readers)
			}
			eventually(t, 5*time.Second, fmt.Sprintf("an anonymous read on %s counts %d likes after %s", s.name, readers, name), func() (bool, string) {
				n, status := count(s, "")
				return n == readers, fmt.Sprintf("%d likes, %s", n, status)
			})
		}
	}
}

// TestSiteUpdateReachesRunningServers: `threadline site update`, run against the database while both servers
// serve it, changes what both answer and how both behave, without a restart.
func TestSiteUpdateReachesRunningServers(t *testing.T) {
	db := pgtest.URL(t)
	a, b := startPair(t, db, "--rate-limit=false")
	article := a.sampleArticle(t)
	servers := []*server{a, b}
	siteName := func(s *server, token string) string {
		var out struct {
			Site struct {
				Name          string
				Premoderation bool
			}
		}
		s.query(t, token, `query($s: String!) { site(slug: $s) { name premoderation } }`, map[string]any{"s": seed.SiteSlug}, &out)
		return fmt.Sprintf("%s premoderation=%v", out.Site.Name, out.Site.Premoderation)
	}
	tokens := map[*server]string{}
	for _, s := range servers {
		siteName(s, "") // in the cache before the update
		tokens[s] = s.mustCreateReader(t, "Reader on "+s.name)
		if _, status, _, err := s.addComment(tokens[s], article, "Before the update."); err != nil || status != "PUBLISHED" {
			t.Fatalf("server %s before the update: %s, %v", s.name, status, err)
		}
	}

	cmd := exec.Command(threadlineBin, "site", "update", "--db", db, "--slug", seed.SiteSlug, "--name", "Renamed Daily", "--premoderation=true")
	cmd.Env = withoutThreadlineEnv(cmd.Environ())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("threadline site update: %v\n%s", err, out)
	}
	updated := time.Now()

	const want = "Renamed Daily premoderation=true"
	for _, s := range servers {
		for _, as := range []struct{ who, token string }{{"a reader", tokens[s]}, {"an anonymous reader (the response cache)", ""}} {
			eventually(t, 5*time.Second, fmt.Sprintf("server %s answers %s the new settings %q", s.name, as.who, want), func() (bool, string) {
				got := siteName(s, as.token)
				return got == want, got
			})
			t.Logf("server %s answered %s the new settings %s after the update", s.name, as.who, time.Since(updated).Round(time.Millisecond))
		}
		// Premoderation is a rule the server applies: a new comment waits for a moderator.
		if _, status, _, err := s.addComment(tokens[s], article, "After the update."); err != nil || status != "PENDING" {
			t.Errorf("server %s after the update: a new comment is %s (%v), want PENDING", s.name, status, err)
		}
	}
}

// TestRateLimitsArePerServer: each server counts in its own memory, so N servers allow N times the limits. One
// client address makes readers on A until A refuses, then on B, which allows as many again; A still refuses.
func TestRateLimitsArePerServer(t *testing.T) {
	a, b := startPair(t, pgtest.URL(t)) // the default limits
	made := func(s *server) int {
		for n := 0; n < 100; n++ {
			if _, _, err := s.createReader(fmt.Sprintf("Reader %d on %s", n, s.name)); err != nil {
				if codeOf(err) != "RATE_LIMITED" {
					t.Fatalf("server %s: reader %d: %v, want RATE_LIMITED", s.name, n+1, err)
				}
				return n
			}
		}
		t.Fatalf("server %s made 100 readers for one address: no limit", s.name)
		return 0
	}
	onA := made(a)
	onB := made(b)
	t.Logf("one address made %d readers on A, then %d more on B", onA, onB)
	if onA == 0 || onB != onA {
		t.Errorf("A allowed %d readers and B %d: want the same limit, counted apart", onA, onB)
	}
	if _, _, err := a.createReader("Again on A"); codeOf(err) != "RATE_LIMITED" {
		t.Errorf("A after B: %v, want RATE_LIMITED still", err)
	}
}

// TestServersStartingTogether: three servers started at once on a new database migrate it once and load the
// sample once, as a deploy that starts every server at the same time does.
func TestServersStartingTogether(t *testing.T) {
	db := pgtest.URL(t)
	servers := make([]*server, 3)
	var wg sync.WaitGroup
	errs := make([]error, len(servers))
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = launch(t, string(rune('A'+i)), db, "--rate-limit=false")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range servers {
		var out struct{ Article struct{ CommentCount int } }
		s.query(t, "", `query($site: String!, $key: String!) { article(site: $site, key: $key) { commentCount } }`, sampleVars, &out)
		if out.Article.CommentCount != 45 {
			t.Errorf("server %s counts %d comments in the sample, want 45: the sample was loaded more than once, or not at all", s.name, out.Article.CommentCount)
		}
	}
}
