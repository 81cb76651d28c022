package graph

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/threadline/threadline/thread"
)

// The moderation log is read newest first; its cursor is the last action's ID.
const logCursorPrefix = "m1:"

func encodeLogCursor(id int64) string {
	return encodeOpaque(logCursorPrefix + strconv.FormatInt(id, 10))
}

func decodeLogCursor(cursor string) (int64, error) {
	num, ok := decodeOpaque(cursor, logCursorPrefix)
	id, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, thread.Errorf(thread.CodeInvalid, "invalid cursor: not a moderation log cursor")
	}
	return id, nil
}

// encodeOpaque hides a cursor's text from clients, who are to pass it back as it is.
func encodeOpaque(text string) string { return base64.RawURLEncoding.EncodeToString([]byte(text)) }

// decodeOpaque returns what follows prefix in a cursor made by encodeOpaque, and whether it was one.
func decodeOpaque(cursor, prefix string) (string, bool) {
	if len(cursor) > 64 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", false
	}
	return strings.CutPrefix(string(raw), prefix)
}

func newActionConnection(list []*thread.ModerationAction, hasNext bool) *ModerationActionConnection {
	conn := &ModerationActionConnection{
		Edges:    make([]*ModerationActionEdge, len(list)),
		Nodes:    make([]*ModerationAction, len(list)),
		PageInfo: &PageInfo{HasNextPage: hasNext},
	}
	for i, a := range list {
		conn.Nodes[i] = &ModerationAction{a}
		conn.Edges[i] = &ModerationActionEdge{Cursor: encodeLogCursor(a.ID), Node: conn.Nodes[i]}
	}
	if n := len(list); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[n-1].Cursor
	}
	return conn
}

// newTransparencyReport sums a site's moderation totals into its report.
func newTransparencyReport(totals []thread.ActionTotal) *TransparencyReport {
	r := &TransparencyReport{Actions: []*ActionCount{}, RemovalsByRule: []*RuleCount{}}
	byKind := map[thread.ActionKind]*ActionCount{}
	for _, t := range totals {
		ac := byKind[t.Kind]
		if ac == nil {
			ac = &ActionCount{Action: actionKind(t.Kind)}
			byKind[t.Kind] = ac
			r.Actions = append(r.Actions, ac)
		}
		ac.Count += t.Count
		switch {
		case t.Kind == thread.ActionRemove:
			r.RemovalsByRule = append(r.RemovalsByRule, &RuleCount{Rule: t.Rule, Count: t.Count})
		case t.Decision == thread.DecisionUpheld:
			r.AppealsUpheld += t.Count
		case t.Decision == thread.DecisionReversed:
			r.AppealsReversed += t.Count
		}
	}
	return r
}

// commentModeration returns how moderators dealt with c, if the viewer may see it: its author sees the note
// and the appeal; the site's moderators also see the reports.
func commentModeration(ctx context.Context, c *Comment) (*CommentModeration, error) {
	l := loadersFor(ctx)
	article, err := load(ctx, l.articles, c.ArticleID)
	if err != nil || article == nil || !thread.CanSeeModeration(ctx, c.Comment, article.SiteID) {
		return nil, err
	}
	appeal, err := load(ctx, l.appeals, c.Comment.ID)
	if err != nil {
		return nil, err
	}
	m := &CommentModeration{
		Note:        optional(c.Note),
		ModeratedAt: optional(c.ModeratedAt),
		Reports:     []*RuleCount{},
		Appeal:      newAppeal(appeal),
		CanAppeal:   thread.CanAppeal(c.Comment, appeal),
	}
	if thread.Moderates(ctx, article.SiteID) {
		m.ReportCount = c.ReportCount
		rules, err := load(ctx, l.reportRules, c.Comment.ID)
		if err != nil {
			return nil, err
		}
		for _, rc := range rules {
			m.Reports = append(m.Reports, &RuleCount{Rule: rc.Rule, Count: rc.Count})
		}
	}
	return m, nil
}

// newReaderData turns an export into its API shape.
func newReaderData(ctx context.Context, d *thread.ReaderData, at time.Time) *ReaderData {
	out := &ReaderData{
		Reader:          newReader(d.Reader),
		ExportedAt:      at,
		Comments:        make([]*Comment, len(d.Comments)),
		LikedCommentIds: make([]string, len(d.Likes)),
		Reports:         make([]*Report, len(d.Reports)),
		Appeals:         make([]*Appeal, len(d.Appeals)),
	}
	for i, c := range d.Comments {
		out.Comments[i] = newComment(ctx, c)
	}
	for i, id := range d.Likes {
		out.LikedCommentIds[i] = globalID(kindComment, id)
	}
	for i, r := range d.Reports {
		out.Reports[i] = &Report{r}
	}
	for i, a := range d.Appeals {
		out.Appeals[i] = newAppeal(a)
	}
	return out
}
