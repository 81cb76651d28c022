// Package storetest is the conformance suite of Threadline's stores: what every implementation of thread.Store
// must do, checked through the interface alone. An implementation runs it from a test of its own:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openEmptyStore(t) })
//	}
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// Store is what the suite holds an implementation to: all of thread.Store, and two hooks into the database
// beneath it for what the interface cannot show.
type Store interface {
	thread.Store
	// Exec runs one SQL statement on the store's database, bypassing the store: the suite proves with it that
	// the database itself refuses to rewrite the moderation log.
	Exec(ctx context.Context, query string) error
	// QueryCount returns how many statements the store has run so far: the suite proves with it that a page
	// costs the same number of statements whatever its size.
	QueryCount() int64
}

// Run runs the suite. open returns a new, empty, migrated store for each test, closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s Store)
	}{
		{"Sites", testSites},
		{"SiteSettings", testSiteSettings},
		{"ModeratorKeys", testModeratorKeys},
		{"Articles", testArticles},
		{"EmbeddedArticles", testEmbeddedArticles},
		{"Comments", testComments},
		{"CommentErrors", testCommentErrors},
		{"KeysetPages", testKeysetPages},
		{"ReplyPages", testReplyPages},
		{"DeletionPlaceholders", testDeletionPlaceholders},
		{"Likes", testLikes},
		{"Readers", testReaders},
		{"SSOReaders", testSSOReaders},
		{"ReaderDataAndDeletion", testReaderDataAndDeletion},
		{"StatusChanges", testStatusChanges},
		{"LocksAndSuspensions", testLocksAndSuspensions},
		{"Reports", testReports},
		{"Appeals", testAppeals},
		{"ModerationQueue", testModerationQueue},
		{"ModerationLogIsAppendOnly", testModerationLogIsAppendOnly},
		{"ImportsAreIdempotent", testImportsAreIdempotent},
		{"ImportModeration", testImportModeration},
		{"ExportOrder", testExportOrder},
		{"PagesCostConstantStatements", testPagesCostConstantStatements},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// t0 is the suite's clock: every time it writes is t0 plus some seconds, in whole milliseconds as stores keep them.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func at(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }

var ctx = context.Background()

// fixture is a site with an article, the ground most tests stand on.
type fixture struct {
	s       Store
	site    *thread.Site
	article *thread.Article
}

func newFixture(t *testing.T, s Store) *fixture {
	t.Helper()
	f := &fixture{s: s, site: mustSite(t, s, "site")}
	f.article = f.mustArticle(t, "article")
	return f
}

func mustSite(t *testing.T, s Store, slug string) *thread.Site {
	t.Helper()
	site := &thread.Site{Slug: slug, Name: "Site " + slug, FrameAncestors: []string{"*"}, Rules: thread.DefaultRules,
		ReportThreshold: 3, EmbedArticlesPerHour: thread.DefaultEmbedArticlesPerHour, CreatedAt: t0}
	if err := s.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	if site.ID == 0 {
		t.Fatal("CreateSite set no ID")
	}
	return site
}

// mustArticle creates an empty article as an import does (the one way the interface offers besides embeds).
func (f *fixture) mustArticle(t *testing.T, key string) *thread.Article {
	t.Helper()
	th := thread.ImportThread{SourceID: key, Key: key, Title: "Title " + key, URL: "https://example.com/" + key, CreatedAt: t0}
	st, err := f.s.ImportBatch(ctx, f.site.ID, "storetest", []thread.ImportThread{th}, nil)
	if err != nil || st.Threads != 1 {
		t.Fatalf("import article %s: %+v, %v", key, st, err)
	}
	a, err := f.s.ArticleByKey(ctx, f.site.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// comment adds a published comment (a reply when parent is not 0) at second sec, by author (0: anonymous).
func (f *fixture) comment(t *testing.T, parent, author int64, sec int) *thread.Comment {
	t.Helper()
	return f.commentIn(t, f.article, parent, author, thread.StatusPublished, sec)
}

func (f *fixture) commentIn(t *testing.T, a *thread.Article, parent, author int64, status thread.Status, sec int) *thread.Comment {
	t.Helper()
	body := fmt.Sprintf("comment at %d", sec)
	c := &thread.Comment{ArticleID: a.ID, ParentID: parent, AuthorID: author, Body: body, BodyHTML: "<p>" + body + "</p>",
		Status: status, CreatedAt: at(sec)}
	if err := f.s.AddComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 {
		t.Fatal("AddComment set no ID")
	}
	return c
}

var readerSeq int

func (f *fixture) reader(t *testing.T, name string) *thread.Reader {
	t.Helper()
	readerSeq++
	r := &thread.Reader{SiteID: f.site.ID, DisplayName: name, CreatedAt: t0}
	if err := f.s.CreateReader(ctx, r, []byte(fmt.Sprintf("token hash %d %s", readerSeq, name))); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 {
		t.Fatal("CreateReader set no ID")
	}
	return r
}

// get reads a comment back, whatever its status; nil when its row is gone.
func (f *fixture) get(t *testing.T, id int64) *thread.Comment {
	t.Helper()
	all, err := f.s.CommentsByID(ctx, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	return all[id]
}

// counts reads the article's counts back: published comments and listed top-level ones.
func (f *fixture) counts(t *testing.T) (comments, topLevel int) {
	t.Helper()
	a, err := f.s.ArticleByKey(ctx, f.site.ID, f.article.Key)
	if err != nil {
		t.Fatal(err)
	}
	return a.CommentCount, a.TopLevelCount
}

func (f *fixture) wantCounts(t *testing.T, comments, topLevel int) {
	t.Helper()
	if c, tl := f.counts(t); c != comments || tl != topLevel {
		t.Errorf("article counts: %d comments, %d top-level; want %d, %d", c, tl, comments, topLevel)
	}
}

// wantCode fails unless err is a thread.Error with code.
func wantCode(t *testing.T, what string, err error, code thread.Code) {
	t.Helper()
	if thread.ErrorCode(err) != code {
		t.Errorf("%s: got %v (code %q), want %s", what, err, thread.ErrorCode(err), code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(list []*thread.Comment) []int64 {
	out := make([]int64, len(list))
	for i, c := range list {
		out[i] = c.ID
	}
	return out
}
