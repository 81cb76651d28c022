package storetest

import (
	"slices"
	"testing"

	"github.com/threadline/threadline/thread"
)

func testReaders(t *testing.T, s Store) {
	f := newFixture(t, s)
	r := &thread.Reader{SiteID: f.site.ID, DisplayName: "Ann", CreatedAt: t0}
	must(t, s.CreateReader(ctx, r, []byte("Ann's token hash")))
	got, err := s.ReaderByTokenHash(ctx, []byte("Ann's token hash"))
	if err != nil || got.ID != r.ID || got.SiteID != f.site.ID || got.DisplayName != "Ann" || !got.CreatedAt.Equal(t0) || got.Suspended(t0) {
		t.Errorf("ReaderByTokenHash: %+v, %v; want %+v", got, err, r)
	}
	_, err = s.ReaderByTokenHash(ctx, []byte("unknown"))
	wantCode(t, "ReaderByTokenHash of an unknown hash", err, thread.CodeNotFound)
	bob := f.reader(t, "Bob")
	byID, err := s.ReadersByID(ctx, []int64{r.ID, bob.ID, bob.ID + 1000})
	must(t, err)
	if len(byID) != 2 || byID[r.ID].DisplayName != "Ann" || byID[bob.ID].DisplayName != "Bob" {
		t.Errorf("ReadersByID: %v; want Ann and Bob, the missing left out", byID)
	}
}

// testSSOReaders: a site's user maps to one reader, renamed as the site renames them; another site's user
// with the same subject is another reader.
func testSSOReaders(t *testing.T, s Store) {
	f := newFixture(t, s)
	other := mustSite(t, s, "other")
	first := &thread.Reader{SiteID: f.site.ID, DisplayName: "Ann", CreatedAt: t0}
	must(t, s.UpsertSSOReader(ctx, first, "user-1"))
	again := &thread.Reader{SiteID: f.site.ID, DisplayName: "Ann B.", CreatedAt: at(10)}
	must(t, s.UpsertSSOReader(ctx, again, "user-1"))
	if first.ID == 0 || again.ID != first.ID || again.DisplayName != "Ann B." || !again.CreatedAt.Equal(t0) {
		t.Errorf("UpsertSSOReader twice: %+v then %+v; want one reader, renamed, created at %v", first, again, t0)
	}
	elsewhere := &thread.Reader{SiteID: other.ID, DisplayName: "Ann", CreatedAt: t0}
	must(t, s.UpsertSSOReader(ctx, elsewhere, "user-1"))
	if elsewhere.ID == first.ID {
		t.Error("the same subject on another site is the same reader")
	}
	got, err := s.ReaderBySSOSubject(ctx, f.site.ID, "user-1")
	if err != nil || got.ID != first.ID || got.DisplayName != "Ann B." {
		t.Errorf("ReaderBySSOSubject: %+v, %v", got, err)
	}
	_, err = s.ReaderBySSOSubject(ctx, f.site.ID, "user-2")
	wantCode(t, "ReaderBySSOSubject of an unknown subject", err, thread.CodeNotFound)
}

// testReaderDataAndDeletion: ReaderData returns what a reader wrote; DeleteReader empties it, keeping
// placeholders where others replied, withdrawing likes, and leaves the reader without name or token.
func testReaderDataAndDeletion(t *testing.T, s Store) {
	f := newFixture(t, s)
	ann := &thread.Reader{SiteID: f.site.ID, DisplayName: "Ann", CreatedAt: t0}
	must(t, s.CreateReader(ctx, ann, []byte("Ann's token hash")))
	bob := f.reader(t, "Bob")
	other := f.mustArticle(t, "other")
	withReply := f.comment(t, 0, ann.ID, 1)
	f.comment(t, withReply.ID, bob.ID, 2)
	alone := f.comment(t, 0, ann.ID, 3)
	elsewhere := f.commentIn(t, other, 0, ann.ID, thread.StatusPublished, 4)
	bobs := f.comment(t, 0, bob.ID, 5)
	_, err := s.Like(ctx, bobs.ID, ann.ID)
	must(t, err)
	must(t, s.AddAppeal(ctx, &thread.Appeal{CommentID: alone.ID, AuthorID: ann.ID, Text: "please", At: at(6)}))
	_, err = s.AddReport(ctx, &thread.Report{CommentID: bobs.ID, ReaderID: ann.ID, Rule: "Spam", At: at(7)}, 100)
	must(t, err)

	d, err := s.ReaderData(ctx, ann.ID)
	must(t, err)
	if got, want := ids(d.Comments), []int64{withReply.ID, alone.ID, elsewhere.ID}; !slices.Equal(got, want) {
		t.Errorf("ReaderData comments %v, want %v (oldest first)", got, want)
	}
	if !slices.Equal(d.Likes, []int64{bobs.ID}) || len(d.Reports) != 1 || d.Reports[0].Rule != "Spam" || len(d.Appeals) != 1 || d.Appeals[0].Text != "please" {
		t.Errorf("ReaderData: likes %v, reports %+v, appeals %+v", d.Likes, d.Reports, d.Appeals)
	}

	articles, emptied, err := s.DeleteReader(ctx, ann.ID)
	must(t, err)
	slices.Sort(articles)
	if want := []int64{f.article.ID, other.ID}; emptied != 3 || !slices.Equal(articles, want) {
		t.Errorf("DeleteReader: articles %v, %d comments; want %v, 3", articles, emptied, want)
	}
	if p := f.get(t, withReply.ID); p == nil || p.Status != thread.StatusDeleted || p.Body != "" || p.AuthorID != 0 {
		t.Errorf("a comment with a reply became %+v, want a placeholder", p)
	}
	if f.get(t, alone.ID) != nil || f.get(t, elsewhere.ID) != nil {
		t.Error("comments without replies are still there")
	}
	if got := f.get(t, bobs.ID); got.LikeCount != 0 {
		t.Errorf("the deleted reader's like still counts: %d", got.LikeCount)
	}
	f.wantCounts(t, 2, 2) // Bob's comment and reply published; the placeholder and Bob's comment listed
	if _, err := s.ReaderByTokenHash(ctx, []byte("Ann's token hash")); err == nil {
		t.Error("the deleted reader's token still signs in")
	}
	byID, err := s.ReadersByID(ctx, []int64{ann.ID})
	must(t, err)
	if r := byID[ann.ID]; r != nil && r.DisplayName != "" {
		t.Errorf("the deleted reader kept the name %q", r.DisplayName)
	}
	d, err = s.ReaderData(ctx, ann.ID)
	must(t, err)
	if len(d.Comments) != 0 || len(d.Likes) != 0 || len(d.Appeals) == 1 && d.Appeals[0].Text != "" {
		t.Errorf("after DeleteReader: %+v", d)
	}
}
