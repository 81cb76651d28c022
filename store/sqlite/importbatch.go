package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/threadline/threadline/thread"
)

// ImportBatch writes imported threads and posts in one transaction. Each thread, comment and author is
// recorded under its identifier in the source, so that importing the same file again skips what is there
// and a reply finds a parent written by an earlier batch.
func (db *DB) ImportBatch(ctx context.Context, siteID int64, source string, threads []thread.ImportThread, posts []thread.ImportPost) (thread.ImportStats, error) {
	var st thread.ImportStats
	err := db.inTx(ctx, func(tx queryer) error {
		st = thread.ImportStats{}
		m := sourceMap{tx: tx, ctx: ctx, site: siteID, source: source, cache: map[string]int64{}}
		written := map[string]writtenComment{} // the batch's comments by source ID
		for _, t := range threads {
			done, err := m.imported("thread", t.SourceID)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			id, created, err := articleForKey(ctx, tx, siteID, t)
			if err != nil {
				return err
			}
			if created {
				st.Threads++
			}
			if err := m.record("thread", t.SourceID, id); err != nil {
				return err
			}
		}
		for _, p := range posts {
			done, err := m.imported("comment", p.SourceID)
			if err != nil {
				return err
			}
			if done {
				st.Existing++
				continue
			}
			article, ok, err := m.cached("thread", p.ThreadID)
			if err != nil {
				return err
			}
			if !ok {
				return thread.Errorf(thread.CodeInvalid, "comment %q names a thread the import has not seen", p.SourceID)
			}
			c := p.Comment(article)
			if p.ParentID != "" {
				var err error
				parent, ok := written[p.ParentID] // most parents come in the same batch, just before their replies
				if !ok {
					err = tx.QueryRowContext(ctx, `SELECT c.id, c.article_id FROM import_sources AS s JOIN comments AS c ON c.id = s.target_id
						WHERE s.site_id = ? AND s.source = ? AND s.kind = 'comment' AND s.source_id = ?`, siteID, source, p.ParentID).Scan(&parent.id, &parent.article)
					if err != nil && !errors.Is(err, sql.ErrNoRows) {
						return err
					}
				}
				st.Reply(c, err == nil, parent.id, parent.article)
			}
			if p.Author != "" {
				if c.AuthorID, err = m.author(p.Author, p.CreatedAt); err != nil {
					return err
				}
			}
			if err := insertComment(ctx, tx, c); err != nil {
				return err
			}
			if err := m.record("comment", p.SourceID, c.ID); err != nil {
				return err
			}
			written[p.SourceID] = writtenComment{c.ID, article}
			st.Comments++
		}
		return nil
	})
	return st, err
}

// writtenComment is a comment a batch wrote: its ID and article.
type writtenComment struct{ id, article int64 }

// sourceMap reads and records what an import brought in, inside its transaction.
type sourceMap struct {
	tx     queryer
	ctx    context.Context
	site   int64
	source string
	cache  map[string]int64 // threads and authors found in this transaction, by kind and source ID
}

// cached is find for kinds a batch asks for again and again (threads, authors).
func (m sourceMap) cached(kind, sourceID string) (int64, bool, error) {
	if id, ok := m.cache[kind+"\x00"+sourceID]; ok {
		return id, true, nil
	}
	id, ok, err := m.find(kind, sourceID)
	if ok && m.cache != nil {
		m.cache[kind+"\x00"+sourceID] = id
	}
	return id, ok, err
}

func (m sourceMap) find(kind, sourceID string) (int64, bool, error) {
	var id int64
	err := m.tx.QueryRowContext(m.ctx, "SELECT target_id FROM import_sources WHERE site_id = ? AND source = ? AND kind = ? AND source_id = ?",
		m.site, m.source, kind, sourceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// imported reports whether the import brought in the item before.
func (m sourceMap) imported(kind, sourceID string) (bool, error) {
	_, ok, err := m.find(kind, sourceID)
	return ok, err
}

func (m sourceMap) record(kind, sourceID string, id int64) error {
	_, err := m.tx.ExecContext(m.ctx, "INSERT INTO import_sources (site_id, source, kind, source_id, target_id) VALUES (?, ?, ?, ?, ?)",
		m.site, m.source, kind, sourceID, id)
	return err
}

// author returns the reader an imported author's name maps to, making one (with no token: it cannot sign in)
// the first time.
func (m sourceMap) author(name string, at time.Time) (int64, error) {
	id, ok, err := m.cached("author", name)
	if err != nil || ok {
		return id, err
	}
	id, err = insertReader(m.ctx, m.tx, &thread.Reader{SiteID: m.site, DisplayName: name, CreatedAt: at}, nil)
	if err != nil {
		return 0, err
	}
	if m.cache != nil {
		m.cache["author\x00"+name] = id
	}
	return id, m.record("author", name, id)
}

// articleForKey returns the site's article with the thread's key, creating it if there is none.
func articleForKey(ctx context.Context, tx queryer, siteID int64, t thread.ImportThread) (int64, bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM articles WHERE site_id = ? AND key = ?", siteID, t.Key).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, false, err
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO articles (site_id, key, url, title, standfirst, body, locked, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		siteID, t.Key, t.URL, t.Title, t.Standfirst, t.Body, t.Locked, t.CreatedAt.UnixMilli())
	if err != nil {
		return 0, false, err
	}
	id, err = res.LastInsertId()
	return id, true, err
}
