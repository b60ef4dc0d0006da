package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"mimichat/relay/store"
)

// AddBlob records a blob's metadata.
func (s *Store) AddBlob(ctx context.Context, b store.Blob) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO blobs(id, uploader, size, sha256, created) VALUES(?,?,?,?,?)`,
		b.ID, b.Uploader, b.Size, b.SHA256, b.Created.UnixMilli())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("sqlite store: add blob %s: %w", b.ID, store.ErrExists)
		}
		return fmt.Errorf("sqlite store: add blob %s: %w", b.ID, err)
	}
	return nil
}

// Blob reads a blob's metadata.
func (s *Store) Blob(ctx context.Context, id string) (store.Blob, error) {
	b := store.Blob{ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT uploader, size, sha256, created FROM blobs WHERE id=?`, id).
		Scan(&b.Uploader, &b.Size, &b.SHA256, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Blob{}, fmt.Errorf("sqlite store: blob %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Blob{}, fmt.Errorf("sqlite store: blob %s: %w", id, err)
	}
	b.Created = time.UnixMilli(created)
	return b, nil
}

// BlobUsage sums the sizes of uploader's blobs created after since.
func (s *Store) BlobUsage(ctx context.Context, uploader string, since time.Time) (int64, time.Time, error) {
	var used int64
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(size),0), min(created) FROM blobs WHERE uploader=? AND created>?`,
		uploader, since.UnixMilli()).Scan(&used, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite store: blob usage of %s: %w", uploader, err)
	}
	var t time.Time
	if oldest.Valid {
		t = time.UnixMilli(oldest.Int64)
	}
	return used, t, nil
}
