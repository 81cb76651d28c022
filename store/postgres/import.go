package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

// ImportBatch writes imported threads and posts in one transaction. Each thread, comment and author is
// recorded under its identifier in the source, so that importing the same file again skips what is there
// and a reply finds a parent written by an earlier batch. Imports into one site run one at a time (the site's
// row is locked), as on SQLite, so that two of the same file at once do not both write it.
func (db *DB) ImportBatch(ctx context.Context, siteID int64, source string, threads []thread.ImportThread, posts []thread.ImportPost) (thread.ImportStats, error) {
	var st thread.ImportStats
	err := db.inTx(ctx, func(tx queryer) error {
		st = thread.ImportStats{}
		if err := lockSite(ctx, tx, siteID); err != nil {
			return err
		}
		m := sourceMap{tx: tx, ctx: ctx, site: siteID, source: source, cache: map[string]int64{}}
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
		// What the batch's comments and their parents became in earlier batches, read at once: the import then
		// costs two statements a comment (insert, record) however large the batch.
		add, applyCounts := countsOf()
		known, err := importedComments(ctx, tx, siteID, source, posts)
		if err != nil {
			return err
		}
		for _, p := range posts {
			if _, done := known[p.SourceID]; done {
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
				parent, ok := known[p.ParentID]
				st.Reply(c, ok && parent.exists, parent.id, parent.article)
			}
			if p.Author != "" {
				if c.AuthorID, err = m.author(p.Author, p.CreatedAt); err != nil {
					return err
				}
			}
			// Counted at the end, once per article and parent: a row updated a thousand times in one transaction
			// leaves a thousand versions for every later update to walk.
			if err := insertComment(ctx, tx, c, counts{}, nil); err != nil {
				return err
			}
			add(c)
			if err := m.record("comment", p.SourceID, c.ID); err != nil {
				return err
			}
			known[p.SourceID] = importedComment{id: c.ID, article: article, exists: true}
			st.Comments++
		}
		if err := applyCounts(ctx, tx); err != nil || !st.Wrote() {
			return err
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(siteID, 0))
	})
	return st, err
}

// countsOf sums what new comments do to the counts of their articles and parents, to apply at once.
func countsOf() (add func(c *thread.Comment), apply func(ctx context.Context, tx queryer) error) {
	articles, parents := map[int64]*counts{}, map[int64]int{}
	add = func(c *thread.Comment) {
		n := newCounts(c)
		if articles[c.ArticleID] == nil {
			articles[c.ArticleID] = &counts{}
		}
		a := articles[c.ArticleID]
		a.published, a.topLevel = a.published+n.published, a.topLevel+n.topLevel
		if c.ParentID != 0 {
			parents[c.ParentID] += n.replies
		}
	}
	apply = func(ctx context.Context, tx queryer) error {
		var ids []int64
		var published, topLevel []int32
		for id, n := range articles {
			ids, published, topLevel = append(ids, id), append(published, int32(n.published)), append(topLevel, int32(n.topLevel))
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE articles AS a SET comment_count = a.comment_count + d.published, top_level_count = a.top_level_count + d.top_level
				FROM unnest($1::bigint[], $2::integer[], $3::integer[]) AS d (id, published, top_level) WHERE a.id = d.id`, ids, published, topLevel); err != nil {
				return err
			}
		}
		ids = ids[:0]
		var replies []int32
		for id, n := range parents {
			ids, replies = append(ids, id), append(replies, int32(n))
		}
		if len(ids) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE comments AS c SET reply_count = c.reply_count + d.replies
			FROM unnest($1::bigint[], $2::integer[]) AS d (id, replies) WHERE c.id = d.id`, ids, replies)
		return err
	}
	return add, apply
}

// importedComment is what an earlier import made of a comment: its ID, and its article while it exists (its
// author may have deleted it since).
type importedComment struct {
	id, article int64
	exists      bool
}

// importedComments returns what earlier imports from source made of the posts and of their parents, by their
// identifiers in the source.
func importedComments(ctx context.Context, tx queryer, siteID int64, source string, posts []thread.ImportPost) (map[string]importedComment, error) {
	ids := make([]string, 0, 2*len(posts))
	for _, p := range posts {
		ids = append(ids, p.SourceID)
		if p.ParentID != "" {
			ids = append(ids, p.ParentID)
		}
	}
	out := make(map[string]importedComment, len(posts))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT s.source_id, s.target_id, c.article_id FROM import_sources AS s
		LEFT JOIN comments AS c ON c.id = s.target_id
		WHERE s.site_id = $1 AND s.source = $2 AND s.kind = 'comment' AND s.source_id = ANY($3)`, siteID, source, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sourceID string
		var id int64
		var article *int64
		if err := rows.Scan(&sourceID, &id, &article); err != nil {
			return nil, err
		}
		out[sourceID] = importedComment{id: id, article: orZero(article), exists: article != nil}
	}
	return out, rows.Err()
}

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
	err := m.tx.QueryRow(m.ctx, "SELECT target_id FROM import_sources WHERE site_id = $1 AND source = $2 AND kind = $3 AND source_id = $4",
		m.site, m.source, kind, sourceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
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
	_, err := m.tx.Exec(m.ctx, "INSERT INTO import_sources (site_id, source, kind, source_id, target_id) VALUES ($1, $2, $3, $4, $5)",
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
	err := tx.QueryRow(ctx, "SELECT id FROM articles WHERE site_id = $1 AND key = $2", siteID, t.Key).Scan(&id)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return id, false, err
	}
	err = tx.QueryRow(ctx, `INSERT INTO articles (site_id, key, url, title, standfirst, body, locked, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		siteID, t.Key, t.URL, t.Title, t.Standfirst, t.Body, t.Locked, ms(t.CreatedAt)).Scan(&id)
	return id, err == nil, err
}
