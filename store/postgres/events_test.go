package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// TestEveryWriteLogsWhatItAnnounces: each write records, in its own transaction, the events thread.Announced
// gives it or the change of what readers see (eventlog.Changed); a write that fails records nothing.
func TestEveryWriteLogsWhatItAnnounces(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	a := mustArticle(t, db)
	site := a.SiteID
	r1, r2, r3 := mustReader(t, db, site, "One"), mustReader(t, db, site, "Two"), mustReader(t, db, site, "Three")
	var last int64
	db.pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&last)
	logged := func(t *testing.T) []eventlog.Record {
		t.Helper()
		rows, err := db.pool.Query(ctx, "SELECT id, kind, site_id, article_id, comment_id, parent_id, reader_id FROM events WHERE id > $1 ORDER BY id", last)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []eventlog.Record
		for rows.Next() {
			var r eventlog.Record
			var kind string
			if err := rows.Scan(&last, &kind, &r.SiteID, &r.ArticleID, &r.CommentID, &r.ParentID, &r.ReaderID); err != nil {
				t.Fatal(err)
			}
			r.Kind = thread.EventKind(kind)
			out = append(out, r)
		}
		return out
	}
	ev := func(kind thread.EventKind, c *thread.Comment) eventlog.Record {
		return eventlog.Record{Kind: kind, SiteID: site, ArticleID: a.ID, CommentID: c.ID, ParentID: c.ParentID}
	}
	c1 := &thread.Comment{ArticleID: a.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0, AuthorID: r3.ID}
	c2 := &thread.Comment{ArticleID: a.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
	c3 := &thread.Comment{ArticleID: a.ID, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0, AuthorID: r1.ID}
	site2 := &thread.Site{Slug: "other", Name: "Other", CreatedAt: t0}
	embedded := &thread.Article{SiteID: site, Key: "embedded", Title: "E", CreatedAt: t0}
	remove := func(id int64) error {
		_, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: site, ArticleID: a.ID, CommentID: id, Kind: thread.ActionRemove, Rule: "r", At: t0},
			&thread.StatusChange{From: []thread.Status{thread.StatusPublished, thread.StatusPending}, To: thread.StatusRemoved})
		return err
	}
	sso := func(name string) error {
		return db.UpsertSSOReader(ctx, &thread.Reader{SiteID: site, DisplayName: name, CreatedAt: t0}, "subject")
	}

	cases := []struct {
		name  string
		write func() error
		want  func() []eventlog.Record
		fail  func() error // a write of the same kind that fails; nil for none
	}{
		{"add", func() error { return db.AddComment(ctx, c1) },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventAdded, c1)} },
			func() error {
				return db.AddComment(ctx, &thread.Comment{ArticleID: a.ID, ParentID: 1 << 40, Body: "b", Status: thread.StatusPublished, CreatedAt: t0})
			}},
		{"reply", func() error { c2.ParentID = c1.ID; return db.AddComment(ctx, c2) },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventAdded, c2)} }, nil},
		{"another", func() error { return db.AddComment(ctx, c3) },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventAdded, c3)} }, nil},
		{"edit", func() error { _, err := db.EditComment(ctx, c2.ID, "e", "<p>e</p>", t0); return err },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventEdited, c2)} },
			func() error { _, err := db.EditComment(ctx, 1<<40, "e", "<p>e</p>", t0); return err }},
		{"like", func() error { _, err := db.Like(ctx, c1.ID, r1.ID); return err },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventLiked, c1)} },
			func() error { _, err := db.Like(ctx, 1<<40, r1.ID); return err }},
		{"unlike", func() error { _, err := db.Unlike(ctx, c1.ID, r1.ID); return err },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventLiked, c1)} },
			func() error { _, err := db.Unlike(ctx, 1<<40, r1.ID); return err }},
		{"remove", func() error { return remove(c3.ID) },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventRemoved, c3)} },
			func() error { return remove(c3.ID) }}, // removed already: CONFLICT
		{"restore", func() error {
			_, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: site, ArticleID: a.ID, CommentID: c3.ID, Kind: thread.ActionRestore, At: t0},
				&thread.StatusChange{From: []thread.Status{thread.StatusRemoved}, To: thread.StatusPublished})
			return err
		}, func() []eventlog.Record { return []eventlog.Record{ev(thread.EventRestored, c3)} }, nil},
		{"report below the threshold", func() error {
			_, err := db.AddReport(ctx, &thread.Report{CommentID: c3.ID, ReaderID: r2.ID, Rule: "r", At: t0}, 5)
			return err
		}, func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, a.ID)} },
			func() error {
				_, err := db.AddReport(ctx, &thread.Report{CommentID: c3.ID, ReaderID: r2.ID, Rule: "r", At: t0}, 5)
				return err // reported already: CONFLICT
			}},
		{"report that holds", func() error {
			_, err := db.AddReport(ctx, &thread.Report{CommentID: c1.ID, ReaderID: r2.ID, Rule: "r", At: t0}, 1)
			return err
		}, func() []eventlog.Record { return []eventlog.Record{ev(thread.EventHeld, c1)} }, nil},
		{"appeal", func() error {
			return db.AddAppeal(ctx, &thread.Appeal{CommentID: c1.ID, AuthorID: r3.ID, Text: "t", At: t0})
		},
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, a.ID)} },
			func() error {
				return db.AddAppeal(ctx, &thread.Appeal{CommentID: c1.ID, AuthorID: r3.ID, Text: "t", At: t0})
			}},
		{"delete", func() error { _, err := db.DeleteComment(ctx, c2.ID); return err },
			func() []eventlog.Record { return []eventlog.Record{ev(thread.EventDeleted, c2)} },
			func() error { _, err := db.DeleteComment(ctx, c2.ID); return err }},
		{"lock", func() error {
			_, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: site, ArticleID: a.ID, Kind: thread.ActionLock, At: t0}, nil)
			return err
		}, func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, a.ID)} }, nil},
		{"suspend", func() error {
			_, err := db.Moderate(ctx, &thread.ModerationAction{SiteID: site, ReaderID: r2.ID, Kind: thread.ActionSuspend, Note: "n", Until: t0, At: t0}, nil)
			return err
		}, func() []eventlog.Record {
			return []eventlog.Record{eventlog.Changed(site, 0), eventlog.ReaderChanged(site, r2.ID)}
		}, nil},
		{"create site", func() error { return db.CreateSite(ctx, site2) },
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site2.ID, 0)} },
			func() error { return db.CreateSite(ctx, &thread.Site{Slug: "other", Name: "Other", CreatedAt: t0}) }},
		{"update site", func() error { site2.Name = "Renamed"; return db.UpdateSite(ctx, site2) },
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site2.ID, 0)} },
			func() error { return db.UpdateSite(ctx, &thread.Site{ID: 1 << 40, Name: "x"}) }},
		{"moderator key", func() error { return db.CreateModeratorKey(ctx, site, "k", []byte("hash"), t0) },
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, 0)} },
			func() error { return db.CreateModeratorKey(ctx, site, "k", []byte("hash"), t0) }},
		{"embed", func() error { _, _, err := db.CreateEmbeddedArticle(ctx, embedded, t0.Add(-1), 10); return err },
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, 0)} },
			func() error {
				_, _, err := db.CreateEmbeddedArticle(ctx, &thread.Article{SiteID: 1 << 40, Key: "x", CreatedAt: t0}, t0, 10)
				return err
			}},
		{"import", func() error {
			_, err := db.ImportBatch(ctx, site, "test", []thread.ImportThread{{SourceID: "i", Key: "imported", Title: "I", CreatedAt: t0}}, nil)
			return err
		}, func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, 0)} },
			func() error {
				_, err := db.ImportBatch(ctx, site, "test", []thread.ImportThread{{SourceID: "j", Key: "j", Title: "J", CreatedAt: t0}},
					[]thread.ImportPost{{SourceID: "p", ThreadID: "nowhere", Body: "b", Status: thread.StatusPublished, CreatedAt: t0}})
				return err
			}},
		{"import again: nothing new", func() error {
			_, err := db.ImportBatch(ctx, site, "test", []thread.ImportThread{{SourceID: "i", Key: "imported", Title: "I", CreatedAt: t0}}, nil)
			return err
		}, func() []eventlog.Record { return nil }, nil},
		{"first sign-in", func() error { return sso("Sam") }, func() []eventlog.Record { return nil }, nil},
		{"sign-in, same name", func() error { return sso("Sam") }, func() []eventlog.Record { return nil }, nil},
		{"sign-in, renamed", func() error { return sso("Samuel") },
			func() []eventlog.Record { return []eventlog.Record{eventlog.Changed(site, 0)} }, nil},
		{"delete account", func() error { _, _, err := db.DeleteReader(ctx, r3.ID); return err },
			func() []eventlog.Record {
				return []eventlog.Record{eventlog.Changed(site, a.ID), eventlog.ReaderChanged(site, r3.ID)}
			},
			nil},
		{"delete account: no such reader", func() error { _, _, err := db.DeleteReader(ctx, 1<<40); return err },
			func() []eventlog.Record { return nil }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.write(); err != nil {
				t.Fatal(err)
			}
			if got, want := logged(t), c.want(); !slices.Equal(got, want) {
				t.Errorf("logged %+v, want %+v", got, want)
			}
			if c.fail == nil {
				return
			}
			if err := c.fail(); err == nil {
				t.Fatal("the failing write succeeded")
			}
			if got := logged(t); len(got) > 0 {
				t.Errorf("a failed write logged %+v", got)
			}
		})
	}
}
