package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AppendTranscript implements [Store].
func (s *SQLite) AppendTranscript(ctx context.Context, e Entry) (Entry, bool, error) {
	switch e.Source {
	case SourceChat, SourceEmail, SourceSession, SourceBot:
	default:
		return Entry{}, false, fmt.Errorf("%w: transcript source %q", ErrInvalid, e.Source)
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	var out Entry
	var created bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if e.Key != "" {
			var err error
			out, err = scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM transcript
				WHERE ticket_id = ? AND dedupe_key = ?`, e.TicketID, e.Key))
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return wrapErr(err)
			}
		}
		// The write lock is held (BEGIN IMMEDIATE), so max(seq)+1 cannot race.
		row := tx.QueryRowContext(ctx, `INSERT INTO transcript (ticket_id, seq, at, source, author, body, dedupe_key)
			VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM transcript WHERE ticket_id = ?1), ?2, ?3, ?4, ?5, ?6)
			RETURNING `+entryColumns,
			e.TicketID, toMicros(e.Time), e.Source, e.Author, e.Text, e.Key)
		var err error
		out, err = scanEntry(row)
		created = err == nil
		return wrapErr(err)
	})
	if err != nil {
		return Entry{}, false, err
	}
	return out, created, nil
}

// Transcript implements [Store].
func (s *SQLite) Transcript(ctx context.Context, ticketID string, afterSeq int64, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+entryColumns+` FROM transcript
		WHERE ticket_id = ? AND seq > ? ORDER BY seq LIMIT ?`, ticketID, afterSeq, limit)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer rows.Close()
	var es []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, wrapErr(err)
		}
		es = append(es, e)
	}
	return es, wrapErr(rows.Err())
}

const entryColumns = `ticket_id, seq, at, source, author, body, dedupe_key`

func scanEntry(r scanner) (Entry, error) {
	var e Entry
	var at sql.NullInt64
	err := r.Scan(&e.TicketID, &e.Seq, &at, &e.Source, &e.Author, &e.Text, &e.Key)
	e.Time = fromMicros(at)
	return e, err
}
