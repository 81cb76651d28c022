package postgres

import (
	"context"
	"time"

	"github.com/threadline/threadline/store/internal/columns"
	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

const siteColumns = "id, slug, name, frame_ancestors::text, premoderation, edit_window_ms, rules::text, signing_secret, report_threshold, no_embed_articles, embed_articles_per_hour, created_at"

func scanSite(row scanner) (*thread.Site, error) {
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
	s.CreatedAt = fromMs(created)
	return &s, nil
}

// SiteBySlug returns the site with the slug.
func (db *DB) SiteBySlug(ctx context.Context, slug string) (*thread.Site, error) {
	s, err := scanSite(db.reader().QueryRow(ctx, "SELECT "+siteColumns+" FROM sites WHERE slug = $1", slug))
	return s, notFound(err, "site")
}

// SitesByID returns the sites with the IDs.
func (db *DB) SitesByID(ctx context.Context, ids []int64) (map[int64]*thread.Site, error) {
	return byID(ctx, db, "SELECT "+siteColumns+" FROM sites WHERE id", ids, scanSite, func(s *thread.Site) int64 { return s.ID })
}

// ListSites returns every site, by slug (in byte order, as SQLite sorts).
func (db *DB) ListSites(ctx context.Context) ([]*thread.Site, error) {
	rows, err := db.reader().Query(ctx, "SELECT "+siteColumns+` FROM sites ORDER BY slug COLLATE "C"`)
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
		err := tx.QueryRow(ctx, `INSERT INTO sites (slug, name, frame_ancestors, premoderation, edit_window_ms, rules, signing_secret, report_threshold,
			no_embed_articles, embed_articles_per_hour, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			append(append([]any{s.Slug}, values...), ms(s.CreatedAt))...).Scan(&s.ID)
		if err != nil {
			return conflict(err, "a site with this slug exists")
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(s.ID, 0))
	})
}

// UpdateSite writes a site's settings and signing secret.
func (db *DB) UpdateSite(ctx context.Context, s *thread.Site) error {
	values, err := columns.SiteSettings(s)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx queryer) error {
		tag, err := tx.Exec(ctx, `UPDATE sites SET name = $1, frame_ancestors = $2, premoderation = $3, edit_window_ms = $4, rules = $5,
			signing_secret = $6, report_threshold = $7, no_embed_articles = $8, embed_articles_per_hour = $9 WHERE id = $10`, append(values, s.ID)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return thread.Errorf(thread.CodeNotFound, "no site found")
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(s.ID, 0))
	})
}

// CreateModeratorKey stores the hash of a new moderator key of a site.
func (db *DB) CreateModeratorKey(ctx context.Context, siteID int64, name string, keyHash []byte, at time.Time) error {
	return db.inTx(ctx, func(tx queryer) error {
		_, err := tx.Exec(ctx, "INSERT INTO moderator_keys (site_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)",
			siteID, name, keyHash, ms(at))
		if err != nil {
			return conflict(err, "key collision")
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(siteID, 0))
	})
}

// ModeratorKeyByHash returns the site and ID of the moderator key with the hash.
func (db *DB) ModeratorKeyByHash(ctx context.Context, hash []byte) (siteID, keyID int64, err error) {
	err = db.reader().QueryRow(ctx, "SELECT site_id, id FROM moderator_keys WHERE key_hash = $1", hash).Scan(&siteID, &keyID)
	return siteID, keyID, notFound(err, "moderator key")
}
