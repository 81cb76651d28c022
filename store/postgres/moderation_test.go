package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/thread"
)

// TestAppendOnlyLogRefusedByTriggers: whoever connects to the database (a psql session, another tool), the
// moderation log, the reports and the appeals cannot be rewritten: only an appeal's text may be blanked, when
// its author deletes their account.
func TestAppendOnlyLogRefusedByTriggers(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	author, reporter := mustReader(t, db, a.SiteID, "author"), mustReader(t, db, a.SiteID, "reporter")
	c := &thread.Comment{ArticleID: a.ID, AuthorID: author.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
	if err := db.AddComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddReport(ctx, &thread.Report{CommentID: c.ID, ReaderID: reporter.ID, Rule: "Spam", At: t0}, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAppeal(ctx, &thread.Appeal{CommentID: c.ID, AuthorID: author.ID, Text: "please", At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ stmt, want string }{
		{"UPDATE moderation_actions SET note = 'rewritten'", "the moderation log is append-only"},
		{"DELETE FROM moderation_actions", "the moderation log is append-only"},
		{"TRUNCATE moderation_actions", "the moderation log is append-only"},
		{"UPDATE reports SET rule = 'Other'", "reports are append-only"},
		{"DELETE FROM reports", "reports are append-only"},
		{"UPDATE appeals SET text = 'rewritten'", "appeals are append-only"},
		{"UPDATE appeals SET created_at = 0, text = ''", "appeals are append-only"},
		{"DELETE FROM appeals", "appeals are append-only"},
	} {
		if _, err := db.pool.Exec(ctx, tc.stmt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.stmt, err, tc.want)
		}
	}
	if _, err := db.pool.Exec(ctx, "UPDATE appeals SET text = ''"); err != nil {
		t.Errorf("blanking an appeal's text: %v", err)
	}
	var actions int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM moderation_actions WHERE note <> 'rewritten'").Scan(&actions); err != nil || actions != 1 {
		t.Errorf("%d actions as written (%v), want the one hold", actions, err)
	}
}

// TestModerationFlow: reports hold a comment at the threshold (logging a system hold), a second report by the
// same reader and a second appeal are CONFLICT, a moderator's change from a status the comment is not in is
// CONFLICT, and the queue, the log, the totals and the reader's data say what happened.
func TestModerationFlow(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	author := mustReader(t, db, a.SiteID, "author")
	r1, r2 := mustReader(t, db, a.SiteID, "r1"), mustReader(t, db, a.SiteID, "r2")
	c := &thread.Comment{ArticleID: a.ID, AuthorID: author.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
	if err := db.AddComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	report := func(r *thread.Reader) (*thread.Comment, error) {
		return db.AddReport(ctx, &thread.Report{CommentID: c.ID, ReaderID: r.ID, Rule: "Spam", At: t0.Add(time.Minute)}, 2)
	}
	if got, err := report(r1); err != nil || got.Status != thread.StatusPublished || got.ReportCount != 1 {
		t.Fatalf("first report: %+v, %v", got, err)
	}
	if _, err := report(r1); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("second report by one reader: %v, want CONFLICT", err)
	}
	got, err := report(r2)
	if err != nil || got.Status != thread.StatusPending || got.Rule != "Spam" {
		t.Fatalf("report at the threshold: %+v, %v", got, err)
	}
	if _, err := db.AddReport(ctx, &thread.Report{CommentID: c.ID + 100, ReaderID: r1.ID, Rule: "Spam", At: t0}, 2); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("reporting a missing comment: %v, want NOT_FOUND", err)
	}
	queue, total, err := db.ModerationQueue(ctx, a.SiteID, 0, thread.PageRequest{First: 10})
	if err != nil || total != 1 || len(queue) != 1 || queue[0].ID != c.ID {
		t.Fatalf("queue: %v, %d, %v", queue, total, err)
	}
	remove := &thread.ModerationAction{SiteID: a.SiteID, ArticleID: a.ID, CommentID: c.ID, ReaderID: author.ID, Kind: thread.ActionRemove,
		Rule: "Spam", Note: "no ads", Moderator: "key:1", At: t0.Add(time.Hour)}
	removed, err := db.Moderate(ctx, remove, &thread.StatusChange{From: []thread.Status{thread.StatusPending, thread.StatusPublished}, To: thread.StatusRemoved})
	if err != nil || removed.Status != thread.StatusRemoved || removed.Note != "no ads" {
		t.Fatalf("remove: %+v, %v", removed, err)
	}
	if _, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: a.SiteID, CommentID: c.ID, Kind: thread.ActionApprove, At: t0},
		&thread.StatusChange{From: []thread.Status{thread.StatusPending}, To: thread.StatusPublished}); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("approving a removed comment: %v, want CONFLICT", err)
	}
	if _, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: a.SiteID, CommentID: c.ID + 100, Kind: thread.ActionApprove, At: t0},
		&thread.StatusChange{From: []thread.Status{thread.StatusPending}, To: thread.StatusPublished}); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("approving a missing comment: %v, want NOT_FOUND", err)
	}
	appeal := &thread.Appeal{CommentID: c.ID, AuthorID: author.ID, Text: "it was not an ad", At: t0.Add(2 * time.Hour)}
	if err := db.AddAppeal(ctx, appeal); err != nil || appeal.ID == 0 {
		t.Fatalf("appeal: %v", err)
	}
	if err := db.AddAppeal(ctx, &thread.Appeal{CommentID: c.ID, AuthorID: author.ID, Text: "again", At: t0}); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("second appeal: %v, want CONFLICT", err)
	}
	answer := &thread.ModerationAction{SiteID: a.SiteID, ArticleID: a.ID, CommentID: c.ID, ReaderID: author.ID, AppealID: appeal.ID,
		Kind: thread.ActionAnswerAppeal, Decision: thread.DecisionUpheld, Note: "it was", At: t0.Add(3 * time.Hour)}
	if _, err := db.Moderate(ctx, answer, &thread.StatusChange{From: []thread.Status{thread.StatusRemoved}}); err != nil {
		t.Fatal(err)
	}
	appeals, err := db.AppealsByComment(ctx, []int64{c.ID})
	if err != nil || appeals[c.ID] == nil || appeals[c.ID].Answer != "it was" || !appeals[c.ID].AnsweredAt.Equal(answer.At) {
		t.Fatalf("appeal with its answer: %+v, %v", appeals[c.ID], err)
	}
	log, err := db.ModerationLog(ctx, a.ID, 0, 10)
	if err != nil || len(log) != 3 || log[0].Kind != thread.ActionAnswerAppeal || !log[2].BySystem {
		t.Fatalf("log: %+v, %v", log, err)
	}
	older, err := db.ModerationLog(ctx, a.ID, log[0].ID, 10)
	if err != nil || len(older) != 2 || older[0].ID != log[1].ID {
		t.Fatalf("log before %d: %+v, %v", log[0].ID, older, err)
	}
	totals, err := db.ModerationTotals(ctx, a.SiteID)
	if err != nil || len(totals) != 3 || totals[0].Kind != thread.ActionAnswerAppeal {
		t.Fatalf("totals: %+v, %v", totals, err)
	}
	rules, err := db.ReportRules(ctx, []int64{c.ID})
	if err != nil || len(rules[c.ID]) != 1 || rules[c.ID][0].Count != 2 {
		t.Fatalf("report rules: %+v, %v", rules, err)
	}
	mine, err := db.CommentsByAuthor(ctx, author.ID, a.ID, []thread.Status{thread.StatusRemoved}, 10)
	if err != nil || len(mine) != 1 {
		t.Fatalf("author's removed comments: %v, %v", mine, err)
	}
	data, err := db.ReaderData(ctx, r1.ID)
	if err != nil || len(data.Reports) != 1 || data.Likes != nil || len(data.Comments) != 0 {
		t.Fatalf("reader data: %+v, %v", data, err)
	}

	suspend := &thread.ModerationAction{SiteID: a.SiteID, ReaderID: author.ID, Kind: thread.ActionSuspend, Note: "ads", Until: t0.Add(48 * time.Hour), At: t0}
	if _, err := db.Moderate(ctx, suspend, nil); err != nil {
		t.Fatal(err)
	}
	readers, err := db.ReadersByID(ctx, []int64{author.ID})
	if err != nil || !readers[author.ID].SuspendedUntil.Equal(suspend.Until) || readers[author.ID].SuspensionReason != "ads" {
		t.Fatalf("suspended reader: %+v, %v", readers[author.ID], err)
	}

	articles, emptied, err := db.DeleteReader(ctx, author.ID)
	if err != nil || len(articles) != 1 || emptied != 1 {
		t.Fatalf("delete reader: %v, %d, %v", articles, emptied, err)
	}
	after, err := db.CommentsByID(ctx, []int64{c.ID})
	if err != nil || after[c.ID].Body != "" || after[c.ID].AuthorID != 0 || after[c.ID].Status != thread.StatusRemoved {
		t.Fatalf("the removed comment of a deleted account: %+v, %v", after[c.ID], err)
	}
	appeals, err = db.AppealsByComment(ctx, []int64{c.ID})
	if err != nil || appeals[c.ID].Text != "" {
		t.Fatalf("the appeal of a deleted account: %+v, %v", appeals[c.ID], err)
	}
}

// TestSSOReaderUpsert: a site's user maps to one reader, renamed when the name changes.
func TestSSOReaderUpsert(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	first := &thread.Reader{SiteID: a.SiteID, DisplayName: "Ann", CreatedAt: t0}
	if err := db.UpsertSSOReader(ctx, first, "user-1"); err != nil || first.ID == 0 {
		t.Fatalf("upsert: %+v, %v", first, err)
	}
	again := &thread.Reader{SiteID: a.SiteID, DisplayName: "Ann B.", CreatedAt: t0.Add(time.Hour)}
	if err := db.UpsertSSOReader(ctx, again, "user-1"); err != nil || again.ID != first.ID || !again.CreatedAt.Equal(t0) {
		t.Fatalf("upsert again: %+v, %v", again, err)
	}
	got, err := db.ReaderBySSOSubject(ctx, a.SiteID, "user-1")
	if err != nil || got.DisplayName != "Ann B." {
		t.Fatalf("by subject: %+v, %v", got, err)
	}
	if _, err := db.ReaderBySSOSubject(ctx, a.SiteID, "user-2"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("unknown subject: %v, want NOT_FOUND", err)
	}
	if _, err := db.ReaderByTokenHash(ctx, []byte("none")); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("unknown token: %v, want NOT_FOUND", err)
	}
	r := &thread.Reader{SiteID: a.SiteID, DisplayName: "x", CreatedAt: t0}
	if err := db.CreateReader(ctx, r, []byte("same")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateReader(ctx, &thread.Reader{SiteID: a.SiteID, DisplayName: "y", CreatedAt: t0}, []byte("same")); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("token collision: %v, want CONFLICT", err)
	}
	if err := db.CreateModeratorKey(ctx, a.SiteID, "k", []byte("key"), t0); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateModeratorKey(ctx, a.SiteID, "k2", []byte("key"), t0); thread.ErrorCode(err) != thread.CodeConflict {
		t.Fatalf("key collision: %v, want CONFLICT", err)
	}
	if site, _, err := db.ModeratorKeyByHash(ctx, []byte("key")); err != nil || site != a.SiteID {
		t.Fatalf("key by hash: %d, %v", site, err)
	}
	if _, _, err := db.ModeratorKeyByHash(ctx, []byte("nokey")); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Fatalf("unknown key: %v, want NOT_FOUND", err)
	}
}

// TestConcurrentModeratorsOneWins: moderators removing one held comment at once, on different servers: one
// succeeds and the others get CONFLICT, as with SQLite's single writer; the log has one removal.
func TestConcurrentModeratorsOneWins(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	c := &thread.Comment{ArticleID: a.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPending, CreatedAt: t0}
	if err := db.AddComment(ctx, c); err != nil {
		t.Fatal(err)
	}
	const moderators = 8
	errs := make(chan error, moderators)
	for i := range moderators {
		go func() {
			_, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: a.SiteID, ArticleID: a.ID, CommentID: c.ID, Kind: thread.ActionRemove,
				Rule: "Spam", Moderator: fmt.Sprint("key:", i), At: t0}, &thread.StatusChange{From: []thread.Status{thread.StatusPending}, To: thread.StatusRemoved})
			errs <- err
		}()
	}
	won := 0
	for range moderators {
		switch err := <-errs; {
		case err == nil:
			won++
		case thread.ErrorCode(err) != thread.CodeConflict:
			t.Fatalf("a losing moderator got %v, want CONFLICT", err)
		}
	}
	log, err := db.ModerationLog(ctx, a.ID, 0, 100)
	if won != 1 || err != nil || len(log) != 1 {
		t.Fatalf("%d moderators won, %d actions logged (%v); want one of each", won, len(log), err)
	}
	if got := article(t, db, a.ID); got.TopLevelCount != 1 || got.CommentCount != 0 {
		t.Fatalf("counts %d/%d after one removal of a held comment, want 0/1", got.CommentCount, got.TopLevelCount)
	}
}

// TestConcurrentDeletesOfSiblings: the last two replies under a placeholder deleted at once: both succeed (a
// transaction that loses a deadlock is run again) and the placeholder goes with the last.
func TestConcurrentDeletesOfSiblings(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	for round := range 10 {
		root := mustComment(t, db, a, 0, t0)
		r1, r2 := mustComment(t, db, a, root.ID, t0), mustComment(t, db, a, root.ID, t0)
		if _, err := db.DeleteComment(ctx, root.ID); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		for _, id := range []int64{r1.ID, r2.ID} {
			go func() {
				_, err := db.DeleteComment(ctx, id)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		left, err := db.CommentsByID(ctx, []int64{root.ID, r1.ID, r2.ID})
		if err != nil || len(left) != 0 {
			t.Fatalf("round %d: left %v, %v", round, left, err)
		}
	}
	if got := article(t, db, a.ID); got.TopLevelCount != 0 || got.CommentCount != 0 {
		t.Fatalf("counts %d/%d, want 0/0", got.CommentCount, got.TopLevelCount)
	}
}
