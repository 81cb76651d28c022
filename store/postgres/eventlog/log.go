// Package eventlog is the durable, ordered log of changes that several Threadline servers on one PostgreSQL
// database share (table events, migration 0002): the store appends to it in the transaction of each write,
// and every server's Follower reads it, after a LISTEN/NOTIFY wake-up, to publish live events to its own
// subscribers and to invalidate its response cache.
//
// Identity values are taken before commit, so the order of ids is not the order of commits: a reader could see
// 11 before 10 commits, and skip 10. Readers therefore read only rows whose transaction is below the oldest
// one still running (pg_snapshot_xmin): all of those have ended, so no more such rows can appear, and every
// reader sees the same rows in the same order, (xid, id). A position (xid, id) is then valid on every server
// and after restarts. The price: a write transaction that stays open, in any database of the cluster, holds
// back the events committed after it took its xid, on every server, until it ends (keep write transactions
// short: imports commit in batches). The order is the order in which transactions first wrote, which keeps
// cause before effect for a transaction that writes only after it read what another committed (as a like
// after its comment's post).
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

// Channel is the notification channel the events table's trigger notifies on commit.
const Channel = "threadline_events"

// KindChanged is the kind of a record that only says the cached answers about an article (0: every article)
// are stale: site settings, locks, imports, accounts. It is not a live event.
const KindChanged thread.EventKind = "changed"

// KindReaderChanged is the kind of a record that says a reader's credentials may no longer grant what they
// did (a suspension, an account deleted: see thread.Service.OnReaderChange): every server checks that reader's
// live connections again. It is not a live event, and says nothing of the cache (a Changed record beside it
// does, where the write changed what readers see).
const KindReaderChanged thread.EventKind = "reader"

// Record is one change, as the log keeps it: IDs only (0 for none). A follower loads the comments when it reads.
type Record struct {
	Kind                                   thread.EventKind
	SiteID, ArticleID, CommentID, ParentID int64
	// ReaderID is the reader of a KindReaderChanged record.
	ReaderID int64
}

// EventRecord is the record of a live event.
func EventRecord(e thread.Event) Record {
	return Record{Kind: e.Kind, SiteID: e.SiteID, ArticleID: e.Comment.ArticleID, CommentID: e.Comment.ID,
		ParentID: e.Comment.ParentID}
}

// Changed is the record that says the cached answers about an article of a site (0: every article) are stale.
func Changed(siteID, articleID int64) Record {
	return Record{Kind: KindChanged, SiteID: siteID, ArticleID: articleID}
}

// ReaderChanged is the record that says the credentials of a reader of a site changed (see KindReaderChanged).
func ReaderChanged(siteID, readerID int64) Record {
	return Record{Kind: KindReaderChanged, SiteID: siteID, ReaderID: readerID}
}

// Execer runs a statement: a pgx.Tx, or a store's wrapper of one.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Append records changes in the write's transaction tx, so that they commit with it or not at all. Once it
// has committed, a Notifier's Committed wakes every server's follower (the database's first migrations had a
// trigger notify in the transaction itself; see Notifier).
func Append(ctx context.Context, tx Execer, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	kinds := make([]string, len(recs))
	ids := func() []int64 { return make([]int64, len(recs)) }
	sites, articles, comments, parents, readers := ids(), ids(), ids(), ids(), ids()
	for i, r := range recs {
		kinds[i], sites[i], articles[i], comments[i], parents[i], readers[i] = string(r.Kind), r.SiteID, r.ArticleID, r.CommentID, r.ParentID, r.ReaderID
	}
	_, err := tx.Exec(ctx, `INSERT INTO events (kind, site_id, article_id, comment_id, parent_id, reader_id)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])`,
		kinds, sites, articles, comments, parents, readers)
	if err != nil {
		return fmt.Errorf("append to the event log: %w", err)
	}
	return nil
}

// Row is a record read from the log, with its position.
type Row struct {
	Record
	Position live.Position
	At       time.Time
}

// Loaders load what a follower needs to turn rows into live events, in one query each: the store's
// CommentsByID and ReadersByID.
type Loaders struct {
	Comments func(ctx context.Context, ids []int64) (map[int64]*thread.Comment, error)
	Readers  func(ctx context.Context, ids []int64) (map[int64]*thread.Reader, error)
}

// Log reads the event log of a database.
type Log struct {
	pool *pgxpool.Pool
	load Loaders
}

// New returns the log of the database pool connects to; load turns its rows into events.
func New(pool *pgxpool.Pool, load Loaders) *Log { return &Log{pool: pool, load: load} }

var _ live.Source = (*Log)(nil)

// querier is a connection or a pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// page is what one read of the log sees, in one snapshot.
type page struct {
	rows []Row
	// through is the position through which the log was read: the last row when the page is full, else the
	// last row below xmin, of any article.
	through live.Position
	// pruned is the greatest position pruned: a reader after an earlier one may have missed events.
	pruned live.Position
	// next is the xid the next transaction will get: no position can reach it yet.
	next uint64
	// heldBack says rows are committed above xmin: an open transaction holds them back, so read again soon.
	heldBack bool
	// future says rows or the pruned position have xids no transaction has had yet: they were restored from
	// a dump into another cluster, whose xids are lower (see forgetFuture).
	future bool
}

// The parts of a read's answer.
const (
	partPruned = iota
	partHead
	partNext
	partHeldBack
	partRow
)

// read reads, in one statement and so one snapshot, the rows after position after (of one article if
// articleID > 0, live events only), at most limit, below the oldest running transaction, and what the
// reader needs to know beside them.
func read(ctx context.Context, q querier, after live.Position, articleID int64, limit int) (page, error) {
	// Two statements rather than one with "$4 = 0 OR": a generic plan of that could not use the article's index.
	ofArticle, args := "", []any{after.XID, int64(after.Seq), limit}
	if articleID > 0 {
		ofArticle, args = "AND article_id = $4 AND kind <> '"+string(KindChanged)+"'", append(args, articleID)
	}
	rows, err := q.Query(ctx, `WITH s AS MATERIALIZED (SELECT pg_current_snapshot() AS snap)
		SELECT `+fmt.Sprint(partPruned)+`, xid, id, '', 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, now() FROM event_log_pruned
		UNION ALL
		(SELECT `+fmt.Sprint(partHead)+`, xid, id, '', 0, 0, 0, 0, 0, now() FROM events
			WHERE xid < (SELECT pg_snapshot_xmin(snap) FROM s) ORDER BY xid DESC, id DESC LIMIT 1)
		UNION ALL
		SELECT `+fmt.Sprint(partNext)+`, pg_snapshot_xmax(snap), 0, '', 0, 0, 0, 0, 0, now() FROM s
		UNION ALL
		(SELECT `+fmt.Sprint(partHeldBack)+`, xid, id, '', 0, 0, 0, 0, 0, now() FROM events
			WHERE xid >= (SELECT pg_snapshot_xmin(snap) FROM s) ORDER BY xid DESC, id DESC LIMIT 1)
		UNION ALL
		(SELECT `+fmt.Sprint(partRow)+`, xid, id, kind, site_id, article_id, comment_id, parent_id, reader_id, at FROM events
			WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < (SELECT pg_snapshot_xmin(snap) FROM s)
				`+ofArticle+`
			ORDER BY xid, id LIMIT $3)`,
		args...)
	if err != nil {
		return page{}, fmt.Errorf("read the event log: %w", err)
	}
	defer rows.Close()
	var p page
	var head live.Position
	var newest uint64 // the greatest xid above xmin
	for rows.Next() {
		var part int
		var xid uint64
		var id int64
		var r Row
		var kind string
		if err := rows.Scan(&part, &xid, &id, &kind, &r.SiteID, &r.ArticleID, &r.CommentID, &r.ParentID, &r.ReaderID, &r.At); err != nil {
			return page{}, fmt.Errorf("read the event log: %w", err)
		}
		pos := live.Position{Epoch: live.LogEpoch, XID: xid, Seq: uint64(id)}
		switch part {
		case partPruned:
			p.pruned = pos
		case partHead:
			head = pos
		case partNext:
			p.next = xid
		case partHeldBack:
			p.heldBack, newest = true, xid
		case partRow:
			r.Kind, r.Position = thread.EventKind(kind), pos
			p.rows = append(p.rows, r)
		}
	}
	if err := rows.Err(); err != nil {
		return page{}, fmt.Errorf("read the event log: %w", err)
	}
	p.future = (p.heldBack && newest >= p.next) || p.pruned.XID >= p.next
	// UNION ALL promises no order between its parts.
	slices.SortFunc(p.rows, func(a, b Row) int { return a.Position.Compare(b.Position) })
	p.through = maxPosition(after, p.pruned)
	if n := len(p.rows); n > 0 && n == limit {
		p.through = p.rows[n-1].Position
	} else {
		p.through = maxPosition(p.through, head)
	}
	return p, nil
}

func maxPosition(a, b live.Position) live.Position {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// Head returns the position of the last event every reader can see now: a follower that starts there
// publishes the events committed from now on.
func (l *Log) Head(ctx context.Context) (live.Position, error) {
	p, err := read(ctx, l.pool, live.Position{Epoch: live.LogEpoch}, 0, 0)
	return p.through, err
}

// Rows returns the log's rows after position after, of one article (0: of every article, and the records
// of kinds KindChanged and KindReaderChanged with them), oldest first, at most limit, and the position through which the log was
// read. It fails with live.ErrMissed when some rows after `after` were pruned, or when no reader could have
// been at `after` yet.
func (l *Log) Rows(ctx context.Context, after live.Position, articleID int64, limit int) ([]Row, live.Position, error) {
	p, err := read(ctx, l.pool, after, articleID, limit)
	if err != nil {
		return nil, live.Position{}, err
	}
	if after.Compare(p.pruned) < 0 || after.XID >= p.next {
		return nil, live.Position{}, live.ErrMissed
	}
	return p.rows, p.through, nil
}

// Read returns the live events of an article after position after, for a subscriber catching up (it
// implements live.Source).
func (l *Log) Read(ctx context.Context, after live.Position, articleID int64, limit int) ([]live.Message, live.Position, error) {
	if articleID <= 0 {
		return nil, live.Position{}, errors.New("eventlog: Read needs an article")
	}
	rows, through, err := l.Rows(ctx, after, articleID, limit)
	if err != nil {
		return nil, live.Position{}, err
	}
	msgs, err := l.events(ctx, rows)
	return msgs, through, err
}

// events turns rows into live events, loading their comments and authors in one query each. A comment whose
// row is gone (deleted with no replies) is named by its IDs in its "deleted" event; its earlier events are
// left out: the "deleted" one that follows tells of it.
func (l *Log) events(ctx context.Context, rows []Row) ([]live.Message, error) {
	var ids []int64
	for _, r := range rows {
		if r.Kind != KindChanged && r.CommentID != 0 {
			ids = append(ids, r.CommentID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	comments, err := l.load.Comments(ctx, slices.Compact(ids))
	if err != nil {
		return nil, fmt.Errorf("load the comments of the events: %w", err)
	}
	var authorIDs []int64
	for _, c := range comments {
		if c != nil && c.AuthorID != 0 {
			authorIDs = append(authorIDs, c.AuthorID)
		}
	}
	var authors map[int64]*thread.Reader
	if len(authorIDs) > 0 && l.load.Readers != nil {
		slices.Sort(authorIDs)
		if authors, err = l.load.Readers(ctx, slices.Compact(authorIDs)); err != nil {
			return nil, fmt.Errorf("load the authors of the events: %w", err)
		}
	}
	msgs := make([]live.Message, 0, len(ids))
	for _, r := range rows {
		if r.Kind == KindChanged || r.CommentID == 0 {
			continue
		}
		c := comments[r.CommentID]
		if c == nil {
			if r.Kind != thread.EventDeleted {
				continue
			}
			c = &thread.Comment{ID: r.CommentID, ArticleID: r.ArticleID, ParentID: r.ParentID, Status: thread.StatusDeleted}
		}
		msgs = append(msgs, live.Message{Position: r.Position,
			Event: thread.Event{Kind: r.Kind, SiteID: r.SiteID, Comment: c, Author: authors[c.AuthorID]}})
	}
	return msgs, nil
}

// forgetFuture deletes the rows whose xids no transaction has had yet, and moves the pruned position to the
// oldest open transaction. Such rows come from a dump restored into another cluster, whose transactions count
// from lower xids: their positions would sort after every new event for as long as that cluster takes to
// reach them. Every reader then starts again from the pruned position (RESYNC), which is the truth: the
// positions of before the restore mean nothing now.
func (l *Log) forgetFuture(ctx context.Context) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE event_log_pruned SET xid = pg_snapshot_xmin(pg_current_snapshot()), id = 0
			WHERE xid >= pg_snapshot_xmax(pg_current_snapshot())
				OR EXISTS (SELECT FROM events WHERE xid >= pg_snapshot_xmax(pg_current_snapshot()))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM events WHERE xid >= pg_snapshot_xmax(pg_current_snapshot())`)
		return err
	})
}

// pruneLock is the advisory lock that lets one server at a time prune.
const pruneLock = 0x7468_6c6e_6576_6c67 // "thlnevlg"

// DefaultPruneBatch bounds the rows one Prune call removes.
const DefaultPruneBatch = 10_000

// Prune removes up to DefaultPruneBatch of the oldest rows written more than olderThan ago, and returns how
// many it removed (0 while another server prunes). Readers after an earlier position than the greatest pruned
// then get live.ErrMissed.
func (l *Log) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	var removed int64
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(pruneLock)).Scan(&locked); err != nil || !locked {
			return err
		}
		// The oldest rows in reading order, of which those old enough go: a bounded scan even when none are.
		var xid uint64
		var id int64
		err := tx.QueryRow(ctx, `WITH gone AS (
				DELETE FROM events e USING (
					SELECT xid, id FROM (
						SELECT xid, id, at FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
						ORDER BY xid, id LIMIT $2) oldest
					WHERE at < now() - make_interval(secs => $1)) old
				WHERE e.xid = old.xid AND e.id = old.id
				RETURNING e.xid, e.id)
			SELECT (SELECT count(*) FROM gone), coalesce(last.xid, '0'), coalesce(last.id, 0)
			FROM (SELECT 1) one LEFT JOIN (SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1) last ON true`, olderThan.Seconds(), DefaultPruneBatch).Scan(&removed, &xid, &id)
		if err != nil || removed == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE event_log_pruned SET xid = $1, id = $2 WHERE ($1::xid8, $2::bigint) > (xid, id)`, xid, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune the event log: %w", err)
	}
	return removed, nil
}
