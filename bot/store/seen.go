package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MarkSeen implements [Store].
func (s *SQLite) MarkSeen(ctx context.Context, key string, now time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("%w: empty event key", ErrInvalid)
	}
	var fresh bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO seen_events (event_key, seen_at) VALUES (?, ?)
			ON CONFLICT (event_key) DO NOTHING`, key, toMicros(now))
		if err != nil {
			return wrapErr(err)
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return wrapErr(err)
	})
	return fresh, err
}

// PruneSeen implements [Store].
func (s *SQLite) PruneSeen(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM seen_events WHERE seen_at < ?`, before.UnixMicro())
		if err != nil {
			return wrapErr(err)
		}
		n, err = res.RowsAffected()
		return wrapErr(err)
	})
	return n, err
}
