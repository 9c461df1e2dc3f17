package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Enqueue implements [Store].
func (s *SQLite) Enqueue(ctx context.Context, d Delivery) (Delivery, bool, error) {
	switch {
	case d.Key == "":
		return Delivery{}, false, fmt.Errorf("%w: delivery has no idempotency key", ErrInvalid)
	case d.Channel == "" || d.Kind == "":
		return Delivery{}, false, fmt.Errorf("%w: delivery %s needs a channel and a kind", ErrInvalid, d.Key)
	case !json.Valid(d.Payload):
		return Delivery{}, false, fmt.Errorf("%w: delivery %s payload is not JSON", ErrInvalid, d.Key)
	}
	now := s.now()
	if d.NextAttempt.IsZero() {
		d.NextAttempt = now
	}
	var ticket any
	if d.TicketID != "" {
		ticket = d.TicketID
	}
	var out Delivery
	var created bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanDelivery(tx.QueryRowContext(ctx, `INSERT INTO deliveries
				(idempotency_key, ticket_id, channel, kind, payload, state, attempts,
				 next_attempt, lease_until, last_error, sent_ref, created_at)
			VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, NULL, '', '', ?)
			ON CONFLICT (idempotency_key) DO NOTHING
			RETURNING `+deliveryColumns,
			d.Key, ticket, d.Channel, d.Kind, string(d.Payload), toMicros(d.NextAttempt), toMicros(now)))
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return wrapErr(err)
		}
		// DO NOTHING returned no row: the key is taken.
		out, err = scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE idempotency_key = ?`, d.Key))
		return wrapErr(err)
	})
	if err != nil {
		return Delivery{}, false, err
	}
	return out, created, nil
}

// Claim implements [Store].
//
// The candidates are chosen and marked in one BEGIN IMMEDIATE transaction,
// which holds SQLite's single write lock from the start: two claimers, in
// this process or another one on the same file, run one after the other and
// the second sees the first's leases.
func (s *SQLite) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	if lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("%w: claim needs a positive lease and limit", ErrInvalid)
	}
	nowUS := now.UnixMicro()
	until := now.Add(lease).UnixMicro()
	var out []Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT id FROM (
				SELECT id, next_attempt AS due FROM deliveries
					WHERE state = 'pending' AND next_attempt <= ?1
				UNION ALL
				SELECT id, lease_until AS due FROM deliveries
					WHERE state = 'in_flight' AND lease_until <= ?1
			) ORDER BY due, id LIMIT ?2`, nowUS, limit)
		if err != nil {
			return wrapErr(err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrapErr(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrapErr(err)
		}
		for _, id := range ids {
			// An in-flight delivery whose lease ran out was abandoned by a
			// claimer that died or hung: that attempt counts as ended, and
			// it may have reached the network.
			d, err := scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET
					attempts = attempts + (state = 'in_flight'),
					last_error = CASE WHEN state = 'in_flight'
						THEN 'lease expired: the previous attempt may have been sent'
						ELSE last_error END,
					state = 'in_flight',
					lease_until = ?
				WHERE id = ?
				RETURNING `+deliveryColumns, until, id))
			if err != nil {
				return wrapErr(err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MarkSent implements [Store].
func (s *SQLite) MarkSent(ctx context.Context, id int64, ref string) error {
	return s.finish(ctx, id, `UPDATE deliveries SET state = 'sent', attempts = attempts + 1,
		lease_until = NULL, sent_ref = ?, last_error = '' WHERE id = ? AND state = 'in_flight'`, ref, id)
}

// MarkRetry implements [Store].
func (s *SQLite) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	if next.IsZero() {
		return fmt.Errorf("%w: retry of delivery %d needs a time", ErrInvalid, id)
	}
	return s.finish(ctx, id, `UPDATE deliveries SET state = 'pending', attempts = attempts + 1,
		lease_until = NULL, next_attempt = ?, last_error = ? WHERE id = ? AND state = 'in_flight'`,
		next.UnixMicro(), errText, id)
}

// MarkFailed implements [Store].
func (s *SQLite) MarkFailed(ctx context.Context, id int64, errText string) error {
	return s.finish(ctx, id, `UPDATE deliveries SET state = 'failed', attempts = attempts + 1,
		lease_until = NULL, last_error = ? WHERE id = ? AND state = 'in_flight'`, errText, id)
}

// finish runs an update that ends an attempt of the in-flight delivery id.
func (s *SQLite) finish(ctx context.Context, id int64, query string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return wrapErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrapErr(err)
		}
		if n == 1 {
			return nil
		}
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = ?`, id).Scan(&state); err != nil {
			return wrapErr(err)
		}
		return fmt.Errorf("%w: delivery %d is %s, not in flight", ErrConflict, id, state)
	})
}

// Delivery implements [Store].
func (s *SQLite) Delivery(ctx context.Context, id int64) (Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	return d, wrapErr(err)
}

// DeliveryByKey implements [Store].
func (s *SQLite) DeliveryByKey(ctx context.Context, key string) (Delivery, error) {
	d, err := scanDelivery(s.read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE idempotency_key = ?`, key))
	return d, wrapErr(err)
}

const deliveryColumns = `id, idempotency_key, ticket_id, channel, kind, payload, state, attempts,
	next_attempt, lease_until, last_error, sent_ref, created_at`

func scanDelivery(r scanner) (Delivery, error) {
	var d Delivery
	var ticket sql.NullString
	var payload, state string
	var next, lease, created sql.NullInt64
	err := r.Scan(&d.ID, &d.Key, &ticket, &d.Channel, &d.Kind, &payload, &state, &d.Attempts,
		&next, &lease, &d.LastError, &d.SentRef, &created)
	if err != nil {
		return Delivery{}, err
	}
	d.TicketID = ticket.String
	d.Payload = []byte(payload)
	d.State = DeliveryState(state)
	d.NextAttempt = fromMicros(next)
	d.LeaseUntil = fromMicros(lease)
	d.CreatedAt = fromMicros(created)
	return d, nil
}
