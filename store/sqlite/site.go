package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/threadline/threadline/store/internal/columns"
	"github.com/threadline/threadline/thread"
)

const siteColumns = "id, slug, name, frame_ancestors, premoderation, edit_window_ms, rules, signing_secret, report_threshold, no_embed_articles, embed_articles_per_hour, created_at"

func scanSite(row interface{ Scan(...any) error }) (*thread.Site, error) {
	var s thread.Site
	var created, editWindow int64
	var ancestors, rules string
	err := row.Scan(&s.ID, &s.Slug, &s.Name, &ancestors, &s.Premoderation, &editWindow, &rules, &s.SigningSecret, &s.ReportThreshold,
		&s.NoEmbedArticles, &s.EmbedArticlesPerHour, &created)
	if err != nil {
		return nil, err
	}
	if err := columns.ReadSite(&s, ancestors, rules, editWindow); err != nil {
		return nil, err
	}
	s.CreatedAt = time.UnixMilli(created).UTC()
	return &s, nil
}

// SiteBySlug returns the site with the slug.
func (db *DB) SiteBySlug(ctx context.Context, slug string) (*thread.Site, error) {
	s, err := scanSite(db.reader().QueryRowContext(ctx, "SELECT "+siteColumns+" FROM sites WHERE slug = ?", slug))
	return s, notFound(err, "site")
}

// SitesByID returns the sites with the IDs.
func (db *DB) SitesByID(ctx context.Context, ids []int64) (map[int64]*thread.Site, error) {
	return byID(ctx, db, "SELECT "+siteColumns+" FROM sites WHERE id", ids, scanSite, func(s *thread.Site) int64 { return s.ID })
}

// ListSites returns every site, by slug.
func (db *DB) ListSites(ctx context.Context) ([]*thread.Site, error) {
	rows, err := db.reader().QueryContext(ctx, "SELECT "+siteColumns+" FROM sites ORDER BY slug")
	if err != nil {
		return nil, err
	}
	var list []*thread.Site
	err = each(rows, scanSite, func(s *thread.Site) { list = append(list, s) })
	return list, err
}

// CreateSite inserts a site and sets its ID.
func (db *DB) CreateSite(ctx context.Context, s *thread.Site) error {
	values, err := columns.SiteSettings(s)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO sites (slug, name, frame_ancestors, premoderation, edit_window_ms, rules, signing_secret, report_threshold,
			no_embed_articles, embed_articles_per_hour, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(append([]any{s.Slug}, values...), s.CreatedAt.UnixMilli())...)
		if err != nil {
			return conflict(err, "a site with this slug exists")
		}
		s.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateSite writes a site's settings and signing secret.
func (db *DB) UpdateSite(ctx context.Context, s *thread.Site) error {
	values, err := columns.SiteSettings(s)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `UPDATE sites SET name = ?, frame_ancestors = ?, premoderation = ?, edit_window_ms = ?, rules = ?, signing_secret = ?, report_threshold = ?,
			no_embed_articles = ?, embed_articles_per_hour = ? WHERE id = ?`, append(values, s.ID)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFound(sql.ErrNoRows, "site")
		}
		return nil
	})
}

// CreateModeratorKey stores the hash of a new moderator key of a site.
func (db *DB) CreateModeratorKey(ctx context.Context, siteID int64, name string, keyHash []byte, at time.Time) error {
	return db.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO moderator_keys (site_id, name, key_hash, created_at) VALUES (?, ?, ?, ?)",
			siteID, name, keyHash, at.UnixMilli())
		return conflict(err, "key collision")
	})
}

// byID runs a "... WHERE id" query, completed with inIDs, for ids and returns the rows keyed by ID.
func byID[T any](ctx context.Context, db *DB, query string, ids []int64, scan func(interface{ Scan(...any) error }) (*T, error), id func(*T) int64) (map[int64]*T, error) {
	out := make(map[int64]*T, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.reader().QueryContext(ctx, query+inIDs, idList(ids))
	if err != nil {
		return nil, err
	}
	return out, each(rows, scan, func(v *T) { out[id(v)] = v })
}

// each scans every row and hands it to add.
func each[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (*T, error), add func(*T)) error {
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		add(v)
	}
	return rows.Err()
}

// ModeratorKeyByHash returns the site and ID of the moderator key with the hash.
func (db *DB) ModeratorKeyByHash(ctx context.Context, hash []byte) (siteID, keyID int64, err error) {
	err = db.reader().QueryRowContext(ctx, "SELECT site_id, id FROM moderator_keys WHERE key_hash = ?", hash).Scan(&siteID, &keyID)
	return siteID, keyID, notFound(err, "moderator key")
}
