package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/threadline/threadline/thread"
)

// moderate applies an action of kind to c with change, as a moderator at second sec.
func (f *fixture) moderate(c *thread.Comment, kind thread.ActionKind, change thread.StatusChange, sec int) (*thread.Comment, error) {
	a := &thread.ModerationAction{SiteID: f.site.ID, ArticleID: c.ArticleID, CommentID: c.ID, ReaderID: c.AuthorID, Kind: kind,
		Moderator: "mod", Rule: "Spam", Note: "a note", At: at(sec)}
	return f.s.Moderate(ctx, a, &change)
}

// The changes the domain asks for (thread.Service's), as data: the store applies them and owns no rule.
var (
	remove  = thread.StatusChange{From: []thread.Status{thread.StatusPublished, thread.StatusPending}, To: thread.StatusRemoved}
	restore = thread.StatusChange{From: []thread.Status{thread.StatusRemoved}, To: thread.StatusPublished}
	approve = thread.StatusChange{From: []thread.Status{thread.StatusPending}, ReportedFrom: []thread.Status{thread.StatusPublished}, To: thread.StatusPublished}
)

// testStatusChanges: a change applies from the statuses it names and is a CONFLICT from any other; it moves
// the counts, keeps the rule and note as the status needs them, and is logged.
func testStatusChanges(t *testing.T, s Store) {
	f := newFixture(t, s)
	for i, tc := range []struct {
		name     string
		from     thread.Status
		reported bool
		kind     thread.ActionKind
		change   thread.StatusChange
		want     thread.Status // "" for a CONFLICT
		rule     string
		counts   [2]int // the article's published and top-level comments after
	}{
		{"remove a published comment", thread.StatusPublished, false, thread.ActionRemove, remove, thread.StatusRemoved, "Spam", [2]int{0, 1}},
		{"remove a pending comment", thread.StatusPending, false, thread.ActionRemove, remove, thread.StatusRemoved, "Spam", [2]int{0, 1}},
		{"remove a removed comment", thread.StatusRemoved, false, thread.ActionRemove, remove, "", "", [2]int{0, 1}},
		{"restore a removed comment", thread.StatusRemoved, false, thread.ActionRestore, restore, thread.StatusPublished, "", [2]int{1, 1}},
		{"restore a published comment", thread.StatusPublished, false, thread.ActionRestore, restore, "", "", [2]int{1, 1}},
		{"approve a pending comment", thread.StatusPending, false, thread.ActionApprove, approve, thread.StatusPublished, "", [2]int{1, 1}},
		{"approve a reported comment", thread.StatusPublished, true, thread.ActionApprove, approve, thread.StatusPublished, "", [2]int{1, 1}},
		{"approve an unreported published comment", thread.StatusPublished, false, thread.ActionApprove, approve, "", "", [2]int{1, 1}},
		{"approve a removed comment", thread.StatusRemoved, false, thread.ActionApprove, approve, "", "", [2]int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.article = f.mustArticle(t, fmt.Sprint("case-", i)) // a fresh article for each case
			c := f.commentIn(t, f.article, 0, f.reader(t, "Ann").ID, tc.from, 0)
			if tc.reported {
				_, err := s.AddReport(ctx, &thread.Report{CommentID: c.ID, ReaderID: f.reader(t, "Bob").ID, Rule: "Spam", At: at(1)}, 100)
				must(t, err)
			}
			logged := f.log(t)
			got, err := f.moderate(c, tc.kind, tc.change, 2)
			if tc.want == "" {
				wantCode(t, tc.name, err, thread.CodeConflict)
				if len(f.log(t)) != len(logged) {
					t.Error("a refused change was logged")
				}
			} else {
				must(t, err)
				if got.Status != tc.want || got.Rule != tc.rule || !got.ModeratedAt.Equal(at(2)) {
					t.Errorf("the comment became %+v; want %s with rule %q", got, tc.want, tc.rule)
				}
				if tc.want == thread.StatusPublished && got.ReportCount != 0 {
					t.Errorf("published again with %d reports; want them cleared", got.ReportCount)
				}
				if log := f.log(t); len(log) != len(logged)+1 || log[0].Kind != tc.kind || log[0].CommentID != c.ID || log[0].ID == 0 {
					t.Errorf("the log after the change: %+v", log)
				}
			}
			f.wantCounts(t, tc.counts[0], tc.counts[1])
		})
	}
	_, err := f.moderate(&thread.Comment{ID: 1 << 40, ArticleID: f.article.ID}, thread.ActionRemove, remove, 0)
	wantCode(t, "a change of a missing comment", err, thread.CodeNotFound)
}

// log returns the fixture's article's moderation log, newest first.
func (f *fixture) log(t *testing.T) []*thread.ModerationAction {
	t.Helper()
	list, err := f.s.ModerationLog(ctx, f.article.ID, 0, 100)
	must(t, err)
	return list
}

func testLocksAndSuspensions(t *testing.T, s Store) {
	f := newFixture(t, s)
	ann := f.reader(t, "Ann")
	for i, kind := range []thread.ActionKind{thread.ActionLock, thread.ActionUnlock, thread.ActionLock} {
		_, err := s.Moderate(ctx, &thread.ModerationAction{SiteID: f.site.ID, ArticleID: f.article.ID, Kind: kind, Note: "why", At: at(i)}, nil)
		must(t, err)
		a, err := s.ArticleByKey(ctx, f.site.ID, f.article.Key)
		must(t, err)
		if a.Locked != (kind == thread.ActionLock) {
			t.Errorf("after %s: locked %v", kind, a.Locked)
		}
	}
	until := at(3600)
	_, err := s.Moderate(ctx, &thread.ModerationAction{SiteID: f.site.ID, ReaderID: ann.ID, Kind: thread.ActionSuspend, Note: "rude", Until: until, At: at(10)}, nil)
	must(t, err)
	byID, err := s.ReadersByID(ctx, []int64{ann.ID})
	must(t, err)
	if r := byID[ann.ID]; !r.SuspendedUntil.Equal(until) || r.SuspensionReason != "rude" || !r.Suspended(at(11)) {
		t.Errorf("after a suspension: %+v", r)
	}
	log := f.log(t)
	if len(log) != 3 || log[0].Kind != thread.ActionLock || log[1].Kind != thread.ActionUnlock || log[0].ID <= log[1].ID {
		t.Errorf("the article's log: %+v; want lock, unlock, lock, newest first", log)
	}
	older, err := s.ModerationLog(ctx, f.article.ID, log[0].ID, 1)
	if err != nil || len(older) != 1 || older[0].ID != log[1].ID {
		t.Errorf("ModerationLog before %d, limit 1: %+v, %v; want %d", log[0].ID, older, err, log[1].ID)
	}
	totals, err := s.ModerationTotals(ctx, f.site.ID)
	must(t, err)
	counts := map[thread.ActionKind]int{}
	for _, tot := range totals {
		counts[tot.Kind] += tot.Count
	}
	if counts[thread.ActionLock] != 2 || counts[thread.ActionUnlock] != 1 || counts[thread.ActionSuspend] != 1 {
		t.Errorf("ModerationTotals: %+v", totals)
	}
}

// testReports: a reader reports a comment once; the threshold holds it (a system action in the log) with the
// rule of the report that held it; the rules are counted.
func testReports(t *testing.T, s Store) {
	f := newFixture(t, s)
	c := f.comment(t, 0, f.reader(t, "Ann").ID, 0)
	readers := []*thread.Reader{f.reader(t, "R1"), f.reader(t, "R2"), f.reader(t, "R3")}
	rules := []string{"Spam", "Rudeness", "Spam"}
	for i, r := range readers {
		got, err := s.AddReport(ctx, &thread.Report{CommentID: c.ID, ReaderID: r.ID, Rule: rules[i], At: at(1 + i)}, 3)
		must(t, err)
		wantStatus := thread.StatusPublished
		if i == 2 {
			wantStatus = thread.StatusPending
		}
		if got.ReportCount != i+1 || got.Status != wantStatus {
			t.Errorf("report %d: %d reports, %s; want %d, %s", i+1, got.ReportCount, got.Status, i+1, wantStatus)
		}
	}
	_, err := s.AddReport(ctx, &thread.Report{CommentID: c.ID, ReaderID: readers[0].ID, Rule: "Spam", At: at(9)}, 3)
	wantCode(t, "a second report by the same reader", err, thread.CodeConflict)
	_, err = s.AddReport(ctx, &thread.Report{CommentID: c.ID + 1000, ReaderID: readers[0].ID, Rule: "Spam", At: at(9)}, 3)
	if err == nil {
		t.Error("a report of a missing comment succeeded")
	}
	held := f.get(t, c.ID)
	if held.Status != thread.StatusPending || held.Rule != "Spam" {
		t.Errorf("held comment: %+v; want pending under Spam", held)
	}
	f.wantCounts(t, 0, 0)
	log := f.log(t)
	if len(log) != 1 || log[0].Kind != thread.ActionHold || !log[0].BySystem || log[0].SiteID != f.site.ID || log[0].CommentID != c.ID {
		t.Errorf("the log after the hold: %+v; want one system hold", log)
	}
	counted, err := s.ReportRules(ctx, []int64{c.ID, c.ID + 1000})
	must(t, err)
	if want := []thread.RuleCount{{Rule: "Spam", Count: 2}, {Rule: "Rudeness", Count: 1}}; !slices.Equal(counted[c.ID], want) || len(counted) != 1 {
		t.Errorf("ReportRules: %v; want %v, most cited first", counted, want)
	}
}

// testAppeals: an author appeals a comment once; the answer closes it and is read back with it.
func testAppeals(t *testing.T, s Store) {
	f := newFixture(t, s)
	ann := f.reader(t, "Ann")
	c := f.comment(t, 0, ann.ID, 0)
	_, err := f.moderate(c, thread.ActionRemove, remove, 1)
	must(t, err)
	ap := &thread.Appeal{CommentID: c.ID, AuthorID: ann.ID, Text: "it was not spam", At: at(2)}
	must(t, s.AddAppeal(ctx, ap))
	if ap.ID == 0 {
		t.Error("AddAppeal set no ID")
	}
	if got := f.get(t, c.ID); !got.AppealOpen {
		t.Error("an appealed comment has no open appeal")
	}
	wantCode(t, "a second appeal", s.AddAppeal(ctx, &thread.Appeal{CommentID: c.ID, AuthorID: ann.ID, Text: "again", At: at(3)}), thread.CodeConflict)

	answer := &thread.ModerationAction{SiteID: f.site.ID, ArticleID: f.article.ID, CommentID: c.ID, ReaderID: ann.ID, AppealID: ap.ID,
		Kind: thread.ActionAnswerAppeal, Decision: thread.DecisionReversed, Note: "you are right", At: at(4)}
	got, err := s.Moderate(ctx, answer, &thread.StatusChange{From: []thread.Status{thread.StatusRemoved, thread.StatusPending}, To: thread.StatusPublished})
	must(t, err)
	if got.Status != thread.StatusPublished || got.AppealOpen {
		t.Errorf("after the answer: %+v; want published, the appeal closed", got)
	}
	appeals, err := s.AppealsByComment(ctx, []int64{c.ID, c.ID + 1000})
	must(t, err)
	a := appeals[c.ID]
	if len(appeals) != 1 || a.ID != ap.ID || a.Text != ap.Text || !a.At.Equal(at(2)) || a.Decision != thread.DecisionReversed ||
		a.Answer != "you are right" || !a.AnsweredAt.Equal(at(4)) {
		t.Errorf("AppealsByComment: %+v", appeals)
	}
}

// testModerationQueue: pending, reported and appealed comments of a site, oldest first, paged, with their
// total; of one article when asked.
func testModerationQueue(t *testing.T, s Store) {
	f := newFixture(t, s)
	other := f.mustArticle(t, "other")
	ann := f.reader(t, "Ann")
	f.comment(t, 0, ann.ID, 0) // published, unreported: not queued
	pending := f.commentIn(t, f.article, 0, ann.ID, thread.StatusPending, 1)
	reported := f.comment(t, 0, ann.ID, 2)
	_, err := s.AddReport(ctx, &thread.Report{CommentID: reported.ID, ReaderID: f.reader(t, "Bob").ID, Rule: "Spam", At: at(3)}, 100)
	must(t, err)
	appealed := f.comment(t, 0, ann.ID, 4)
	_, err = f.moderate(appealed, thread.ActionRemove, remove, 5)
	must(t, err)
	must(t, s.AddAppeal(ctx, &thread.Appeal{CommentID: appealed.ID, AuthorID: ann.ID, Text: "please", At: at(6)}))
	elsewhere := f.commentIn(t, other, 0, ann.ID, thread.StatusPending, 7)
	f.commentIn(t, f.article, 0, ann.ID, thread.StatusRemoved, 8) // removed, not appealed: not queued

	for _, tc := range []struct {
		name    string
		article int64
		want    []int64
	}{
		{"site", 0, []int64{pending.ID, reported.ID, appealed.ID, elsewhere.ID}},
		{"article", other.ID, []int64{elsewhere.ID}},
	} {
		var got []int64
		var after *thread.Key
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("more pages than comments")
			}
			list, total, err := s.ModerationQueue(ctx, f.site.ID, tc.article, thread.PageRequest{Order: thread.OrderOldest, First: 2, After: after})
			must(t, err)
			if total != len(tc.want) {
				t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
			}
			page := list[:min(2, len(list))]
			got = append(got, ids(page)...)
			if len(list) <= 2 {
				break
			}
			k := thread.KeyOf(page[len(page)-1])
			after = &k
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s queue: %v, want %v", tc.name, got, tc.want)
		}
	}
	mine, err := s.CommentsByAuthor(ctx, ann.ID, f.article.ID, []thread.Status{thread.StatusPending, thread.StatusRemoved}, 10)
	must(t, err)
	if len(mine) != 3 || mine[0].CreatedAt.Before(mine[2].CreatedAt) {
		t.Errorf("CommentsByAuthor pending and removed: %v; want 3, newest first", ids(mine))
	}
	if mine, err := s.CommentsByAuthor(ctx, ann.ID, f.article.ID, []thread.Status{thread.StatusPending}, 10); err != nil || !slices.Equal(ids(mine), []int64{pending.ID}) {
		t.Errorf("CommentsByAuthor pending: %v, %v; want %d", ids(mine), err, pending.ID)
	}
}

// testModerationLogIsAppendOnly: the database itself refuses to rewrite or delete the log, whatever client
// tries.
func testModerationLogIsAppendOnly(t *testing.T, s Store) {
	f := newFixture(t, s)
	_, err := s.Moderate(ctx, &thread.ModerationAction{SiteID: f.site.ID, ArticleID: f.article.ID, Kind: thread.ActionLock, Note: "why", At: t0}, nil)
	must(t, err)
	for _, stmt := range []string{
		"UPDATE moderation_actions SET note = 'rewritten'",
		"DELETE FROM moderation_actions",
	} {
		if err := s.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: the database accepted it", stmt)
		}
	}
	if log := f.log(t); len(log) != 1 || log[0].Note != "why" {
		t.Errorf("the log after the attempts: %+v", log)
	}
}
