package postgres

import (
	"context"

	"github.com/threadline/threadline/store/postgres/eventlog"
	"github.com/threadline/threadline/thread"
)

const readerColumns = "id, site_id, display_name, created_at, suspended_until, suspension_reason"

func scanReader(row scanner) (*thread.Reader, error) { return scanReaderWith(row) }

// scanReaderWith scans a reader's columns followed by extra ones.
func scanReaderWith(row scanner, extra ...any) (*thread.Reader, error) {
	var r thread.Reader
	var created int64
	var suspended *int64
	if err := row.Scan(append([]any{&r.ID, &r.SiteID, &r.DisplayName, &created, &suspended, &r.SuspensionReason}, extra...)...); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMs(created)
	r.SuspendedUntil = optionalTime(suspended)
	return &r, nil
}

// ReaderBySSOSubject returns the reader a site's signed-in user maps to.
func (db *DB) ReaderBySSOSubject(ctx context.Context, siteID int64, subject string) (*thread.Reader, error) {
	r, err := scanReader(db.reader().QueryRow(ctx,
		"SELECT "+readerColumns+" FROM readers WHERE site_id = $1 AND sso_subject = $2", siteID, subject))
	return r, notFound(err, "reader")
}

// UpsertSSOReader finds the reader of a site's user, renaming it, or creates it.
func (db *DB) UpsertSSOReader(ctx context.Context, r *thread.Reader, subject string) error {
	return db.inTx(ctx, func(tx queryer) error {
		// The name it had, if any, read in the statement's snapshot: a rename changes the threads it wrote in.
		var was *string
		got, err := scanReaderWith(tx.QueryRow(ctx, `WITH old AS (
				SELECT display_name FROM readers WHERE site_id = $1 AND sso_subject = $3)
			INSERT INTO readers (site_id, display_name, sso_subject, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (site_id, sso_subject) WHERE sso_subject IS NOT NULL DO UPDATE SET display_name = excluded.display_name
			RETURNING `+readerColumns+", (SELECT display_name FROM old)", r.SiteID, r.DisplayName, subject, ms(r.CreatedAt)), &was)
		if err != nil {
			return err
		}
		*r = *got
		if was == nil || *was == got.DisplayName {
			return nil
		}
		return eventlog.Append(ctx, tx, eventlog.Changed(got.SiteID, 0))
	})
}

// ReaderByTokenHash returns the reader whose token has the hash.
func (db *DB) ReaderByTokenHash(ctx context.Context, hash []byte) (*thread.Reader, error) {
	r, err := scanReader(db.reader().QueryRow(ctx,
		"SELECT "+readerColumns+" FROM readers WHERE token_hash = $1", hash))
	return r, notFound(err, "reader")
}

// ReadersByID returns the readers with the IDs.
func (db *DB) ReadersByID(ctx context.Context, ids []int64) (map[int64]*thread.Reader, error) {
	return byID(ctx, db, "SELECT "+readerColumns+" FROM readers WHERE id", ids, scanReader, func(r *thread.Reader) int64 { return r.ID })
}

// CreateReader inserts a reader with the hash of its token and sets its ID.
func (db *DB) CreateReader(ctx context.Context, r *thread.Reader, tokenHash []byte) error {
	return db.inTx(ctx, func(tx queryer) error {
		var err error
		r.ID, err = insertReader(ctx, tx, r, tokenHash)
		return err
	})
}

func insertReader(ctx context.Context, tx queryer, r *thread.Reader, tokenHash []byte) (int64, error) {
	var hash any // NULL for imported authors: an empty value would collide with the next one
	if tokenHash != nil {
		hash = tokenHash
	}
	var id int64
	err := tx.QueryRow(ctx, "INSERT INTO readers (site_id, display_name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		r.SiteID, r.DisplayName, hash, ms(r.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, conflict(err, "token collision")
	}
	return id, nil
}
