package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/threadline/threadline/thread"
)

const siteColumns = "id, slug, name, frame_ancestors, created_at"

func scanSite(row interface{ Scan(...any) error }) (*thread.Site, error) {
	var s thread.Site
	var created int64
	var ancestors string
	if err := row.Scan(&s.ID, &s.Slug, &s.Name, &ancestors, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ancestors), &s.FrameAncestors); err != nil {
		return nil, fmt.Errorf("site %d: frame ancestors: %w", s.ID, err)
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

// CreateSite inserts a site and sets its ID.
func (db *DB) CreateSite(ctx context.Context, s *thread.Site) error {
	ancestors, err := json.Marshal(s.FrameAncestors)
	if err != nil {
		return err
	}
	if s.FrameAncestors == nil {
		ancestors = []byte("[]")
	}
	return db.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO sites (slug, name, frame_ancestors, created_at) VALUES (?, ?, ?, ?)",
			s.Slug, s.Name, string(ancestors), s.CreatedAt.UnixMilli())
		if err != nil {
			return conflict(err, "a site with this slug exists")
		}
		s.ID, err = res.LastInsertId()
		return err
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
