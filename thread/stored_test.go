package thread

import "testing"

// TestSiteStoredLimits: a site's row never holds a threshold below one report, and an unset embed bound is
// the default.
func TestSiteStoredLimits(t *testing.T) {
	for _, tc := range []struct {
		threshold, perHour int
		hold, limit        int
	}{
		{0, 0, 1, DefaultEmbedArticlesPerHour},
		{-2, -5, 1, DefaultEmbedArticlesPerHour},
		{3, 7, 3, 7},
	} {
		s := &Site{ReportThreshold: tc.threshold, EmbedArticlesPerHour: tc.perHour}
		if got := s.ReportsToHold(); got != tc.hold {
			t.Errorf("threshold %d: hold after %d reports, want %d", tc.threshold, got, tc.hold)
		}
		if got := s.EmbedArticlesLimit(); got != tc.limit {
			t.Errorf("%d an hour: limit %d, want %d", tc.perHour, got, tc.limit)
		}
	}
}

// TestStatusChangeMarks: a removal cites its rule and note, a hold only its rule, a publication only its note.
func TestStatusChangeMarks(t *testing.T) {
	a := &ModerationAction{Rule: "Spam", Note: "why"}
	for _, tc := range []struct {
		to         Status
		rule, note string
	}{
		{StatusRemoved, "Spam", "why"},
		{StatusPending, "Spam", ""},
		{StatusPublished, "", "why"},
	} {
		if rule, note := (&StatusChange{To: tc.to}).Marks(a); rule != tc.rule || note != tc.note {
			t.Errorf("to %s: %q, %q; want %q, %q", tc.to, rule, note, tc.rule, tc.note)
		}
	}
}

// TestAccountDeletionOf: a removed comment stays emptied, one with replies becomes a placeholder, others go.
func TestAccountDeletionOf(t *testing.T) {
	for _, tc := range []struct {
		c    Comment
		want AccountDeletion
	}{
		{Comment{Status: StatusRemoved, ReplyCount: 2}, EmptyRemoved},
		{Comment{Status: StatusPublished, ReplyCount: 1}, LeaveDeleted},
		{Comment{Status: StatusPublished}, DropComment},
		{Comment{Status: StatusPending}, DropComment},
	} {
		if got := AccountDeletionOf(&tc.c); got != tc.want {
			t.Errorf("%s with %d replies: %d, want %d", tc.c.Status, tc.c.ReplyCount, got, tc.want)
		}
	}
}

// TestImportReply: a reply keeps a parent found in its own article; any other is imported top-level and counted.
func TestImportReply(t *testing.T) {
	for _, tc := range []struct {
		name          string
		found         bool
		parentArticle int64
		parent        int64
		orphans       int
	}{
		{"parent in the article", true, 1, 9, 0},
		{"parent in another article", true, 2, 0, 1},
		{"no parent", false, 0, 0, 1},
	} {
		var st ImportStats
		c := (&ImportPost{Body: "b", Likes: 3}).Comment(1)
		st.Reply(c, tc.found, 9, tc.parentArticle)
		if c.ParentID != tc.parent || st.OrphanReplies != tc.orphans || c.ArticleID != 1 || c.LikeCount != 3 {
			t.Errorf("%s: parent %d, orphans %d, comment %+v", tc.name, c.ParentID, st.OrphanReplies, c)
		}
	}
}
