package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/threadline/threadline/thread"
)

// posts is a small import: a thread with a comment by Ann, her reply to it, an anonymous removed comment,
// and a reply whose parent the import lacks.
func posts() ([]thread.ImportThread, []thread.ImportPost) {
	threads := []thread.ImportThread{{SourceID: "t1", Key: "k", Title: "T", URL: "https://example.com/k", CreatedAt: t0,
		Standfirst: "standfirst", Body: "body", Locked: true}}
	return threads, []thread.ImportPost{
		{SourceID: "1", ThreadID: "t1", Author: "Ann", Body: "one", BodyHTML: "<p>one</p>", Status: thread.StatusPublished, Likes: 4, CreatedAt: at(1)},
		{SourceID: "2", ThreadID: "t1", ParentID: "1", Author: "Ann", Body: "two", BodyHTML: "<p>two</p>", Status: thread.StatusPublished,
			CreatedAt: at(2), EditedAt: at(3)},
		{SourceID: "3", ThreadID: "t1", Body: "three", BodyHTML: "<p>three</p>", Status: thread.StatusRemoved, Rule: "Spam", Note: "n",
			CreatedAt: at(4), ModeratedAt: at(5)},
		{SourceID: "4", ThreadID: "t1", ParentID: "missing", Author: "Bob", Body: "four", BodyHTML: "<p>four</p>", Status: thread.StatusPublished, CreatedAt: at(6)},
	}
}

// testImportsAreIdempotent: a second import of the same items changes nothing; what the first wrote is read back
// as the source said, one reader per author name, counts included.
func testImportsAreIdempotent(t *testing.T, s Store) {
	site := mustSite(t, s, "site")
	threads, items := posts()
	for i, want := range []thread.ImportStats{{Threads: 1, Comments: 4, OrphanReplies: 1}, {Existing: 4}} {
		st, err := s.ImportBatch(ctx, site.ID, "test", threads, items)
		if err != nil || st != want {
			t.Fatalf("import %d: %+v, %v; want %+v", i+1, st, err, want)
		}
	}
	a, err := s.ArticleByKey(ctx, site.ID, "k")
	must(t, err)
	if a.Title != "T" || a.Standfirst != "standfirst" || a.Body != "body" || !a.Locked || a.CommentCount != 3 || a.TopLevelCount != 3 {
		t.Errorf("imported article: %+v; want 3 published, 3 top-level (one an orphan reply)", a)
	}
	list, err := s.TopLevelComments(ctx, a.ID, thread.PageRequest{Order: thread.OrderOldest, First: 10})
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("%d top-level comments, want 3", len(list))
	}
	first, removed := list[0], list[1]
	if first.Body != "one" || first.LikeCount != 4 || first.ReplyCount != 1 || !first.CreatedAt.Equal(at(1)) || first.AuthorID == 0 {
		t.Errorf("first imported comment: %+v", first)
	}
	if removed.Status != thread.StatusRemoved || removed.Rule != "Spam" || removed.Note != "n" || !removed.ModeratedAt.Equal(at(5)) || removed.AuthorID != 0 {
		t.Errorf("imported removed comment: %+v", removed)
	}
	replies, err := s.Replies(ctx, []int64{first.ID}, thread.PageRequest{Order: thread.OrderOldest, First: 10})
	must(t, err)
	if r := replies[first.ID]; len(r) != 1 || r[0].AuthorID != first.AuthorID || !r[0].EditedAt.Equal(at(3)) || r[0].Depth != 1 {
		t.Errorf("imported reply: %+v; want Ann's, edited, at depth 1", r)
	}

	// Another source with the same identifiers is another import: its thread is the article with its key.
	st, err := s.ImportBatch(ctx, site.ID, "other", threads, items[:1])
	if err != nil || st != (thread.ImportStats{Comments: 1}) {
		t.Errorf("an import from another source: %+v, %v; want its comment, on the article with the key", st, err)
	}
	if a, err := s.ArticleByKey(ctx, site.ID, "k"); err != nil || a.CommentCount != 4 {
		t.Errorf("after the other source: %+v, %v; want 4 published", a, err)
	}
}

// testImportModeration: actions and appeals of imported comments are written once, naming the comments by
// their source identifiers.
func testImportModeration(t *testing.T, s Store) {
	site := mustSite(t, s, "site")
	threads, items := posts()
	_, err := s.ImportBatch(ctx, site.ID, "test", threads, items)
	must(t, err)
	actions := []thread.ImportAction{
		{SourceID: "a1", ArticleKey: "k", CommentID: "3", Kind: thread.ActionRemove, Rule: "Spam", Note: "n", At: at(5)},
		{SourceID: "a2", ArticleKey: "k", Kind: thread.ActionLock, Note: "closed", At: at(6)},
	}
	appeals := []thread.ImportAppeal{
		{SourceID: "p1", CommentID: "1", Text: "why", At: at(7)},
		{SourceID: "p2", CommentID: "3", Text: "anonymous: no author to appeal", At: at(7)},
	}
	for i, want := range []int{3, 0} {
		n, err := s.ImportModeration(ctx, site.ID, "test", actions, appeals)
		if err != nil || n != want {
			t.Fatalf("import %d: %d written, %v; want %d", i+1, n, err, want)
		}
	}
	a, err := s.ArticleByKey(ctx, site.ID, "k")
	must(t, err)
	log, err := s.ModerationLog(ctx, a.ID, 0, 10)
	must(t, err)
	if len(log) != 2 || log[0].Kind != thread.ActionLock || log[1].Kind != thread.ActionRemove || log[1].CommentID == 0 {
		t.Errorf("imported log: %+v", log)
	}
	appealsBy, err := s.AppealsByComment(ctx, []int64{log[1].CommentID})
	must(t, err)
	if len(appealsBy) != 0 {
		t.Errorf("an appeal of an anonymous comment was imported: %+v", appealsBy)
	}
}

// testExportOrder: articles by creation, each followed by its comments parents first then oldest first (with
// authors' names), then appeals, then the moderation log, oldest first; one article's when asked.
func testExportOrder(t *testing.T, s Store) {
	f := newFixture(t, s)
	later := f.mustArticle(t, "later")
	ann := f.reader(t, "Ann")
	root := f.comment(t, 0, ann.ID, 1)
	reply := f.comment(t, root.ID, 0, 2)
	second := f.comment(t, 0, ann.ID, 3)
	onLater := f.commentIn(t, later, 0, ann.ID, thread.StatusPublished, 0)
	_, err := f.moderate(second, thread.ActionRemove, remove, 4)
	must(t, err)
	must(t, s.AddAppeal(ctx, &thread.Appeal{CommentID: second.ID, AuthorID: ann.ID, Text: "please", At: at(5)}))

	visit := func(key string) []string {
		var seen []string
		err := s.ExportSite(ctx, f.site.ID, key, thread.ExportVisitor{
			Article: func(a *thread.Article) error { seen = append(seen, "article "+a.Key); return nil },
			Comment: func(c *thread.Comment, author string) error {
				seen = append(seen, fmt.Sprintf("comment %d by %q", c.ID, author))
				return nil
			},
			Action: func(a *thread.ModerationAction, key string) error {
				seen = append(seen, fmt.Sprintf("action %s on %s", a.Kind, key))
				return nil
			},
			Appeal: func(a *thread.Appeal) error {
				seen = append(seen, fmt.Sprintf("appeal of %d", a.CommentID))
				return nil
			},
		})
		must(t, err)
		return seen
	}
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"", []string{
			"article article",
			fmt.Sprintf("comment %d by %q", root.ID, "Ann"),
			fmt.Sprintf("comment %d by %q", second.ID, "Ann"),
			fmt.Sprintf("comment %d by %q", reply.ID, ""),
			"article later",
			fmt.Sprintf("comment %d by %q", onLater.ID, "Ann"),
			fmt.Sprintf("appeal of %d", second.ID),
			"action remove on article",
		}},
		{"later", []string{"article later", fmt.Sprintf("comment %d by %q", onLater.ID, "Ann")}},
	} {
		if got := visit(tc.key); !slices.Equal(got, tc.want) {
			t.Errorf("export of %q:\n got %q\nwant %q", tc.key, got, tc.want)
		}
	}
}
