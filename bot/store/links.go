package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AddLinkCode implements [Store].
func (s *SQLite) AddLinkCode(ctx context.Context, c LinkCode) error {
	if c.Code == "" || c.AgentKey == "" || c.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: link code needs a code, an agent key and an expiry", ErrInvalid)
	}
	h := sha256.Sum256([]byte(c.Code))
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO link_codes (code_sha256, agent_key, agent_name, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?)`, h[:], c.AgentKey, c.AgentName, toMicros(c.ExpiresAt), toMicros(s.now()))
		return wrapErr(err)
	})
}

// RedeemLinkCode implements [Store].
func (s *SQLite) RedeemLinkCode(ctx context.Context, code string, id Identity, now time.Time) (Link, error) {
	if id.Network == "" || id.UserID == "" {
		return Link{}, fmt.Errorf("%w: identity needs a network and a user id", ErrInvalid)
	}
	h := sha256.Sum256([]byte(code))
	var l Link
	var expired bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var agentKey, agentName string
		var expires sql.NullInt64
		err := tx.QueryRowContext(ctx, `DELETE FROM link_codes WHERE code_sha256 = ?
			RETURNING agent_key, agent_name, expires_at`, h[:]).Scan(&agentKey, &agentName, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return wrapErr(err)
		}
		if !now.Before(fromMicros(expires)) {
			// Commit the delete: an expired code is of no more use.
			expired = true
			return nil
		}
		row := tx.QueryRowContext(ctx, `INSERT INTO links
				(network, workspace, user_id, display_name, email, agent_key, agent_name, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (network, workspace, user_id, agent_key) DO UPDATE SET
				display_name = excluded.display_name,
				email = excluded.email,
				agent_name = excluded.agent_name
			RETURNING `+linkColumns,
			id.Network, id.Workspace, id.UserID, id.DisplayName, id.Email, agentKey, agentName, toMicros(s.now()))
		l, err = scanLink(row)
		return wrapErr(err)
	})
	if err != nil {
		return Link{}, err
	}
	if expired {
		return Link{}, ErrExpired
	}
	return l, nil
}

// PruneLinkCodes implements [Store].
func (s *SQLite) PruneLinkCodes(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM link_codes WHERE expires_at <= ?`, now.UnixMicro())
		if err != nil {
			return wrapErr(err)
		}
		n, err = res.RowsAffected()
		return wrapErr(err)
	})
	return n, err
}

const linkColumns = `id, network, workspace, user_id, display_name, email, agent_key, agent_name, created_at`

type scanner interface{ Scan(dest ...any) error }

func scanLink(r scanner) (Link, error) {
	var l Link
	var created sql.NullInt64
	err := r.Scan(&l.ID, &l.Identity.Network, &l.Identity.Workspace, &l.Identity.UserID,
		&l.Identity.DisplayName, &l.Identity.Email, &l.AgentKey, &l.AgentName, &created)
	l.CreatedAt = fromMicros(created)
	return l, err
}

// Link implements [Store].
func (s *SQLite) Link(ctx context.Context, id int64) (Link, error) {
	l, err := scanLink(s.read.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE id = ?`, id))
	return l, wrapErr(err)
}

// LinksByIdentity implements [Store].
func (s *SQLite) LinksByIdentity(ctx context.Context, id Identity) ([]Link, error) {
	return s.links(ctx, `SELECT `+linkColumns+` FROM links
		WHERE network = ? AND workspace = ? AND user_id = ? ORDER BY id`, id.Network, id.Workspace, id.UserID)
}

// LinksByAgent implements [Store].
func (s *SQLite) LinksByAgent(ctx context.Context, agentKey string) ([]Link, error) {
	return s.links(ctx, `SELECT `+linkColumns+` FROM links WHERE agent_key = ? ORDER BY id`, agentKey)
}

func (s *SQLite) links(ctx context.Context, query string, args ...any) ([]Link, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer rows.Close()
	var ls []Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, wrapErr(err)
		}
		ls = append(ls, l)
	}
	return ls, wrapErr(rows.Err())
}

// DeleteLink implements [Store].
func (s *SQLite) DeleteLink(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM links WHERE id = ?`, id)
		if err != nil {
			return wrapErr(err)
		}
		return wantOneRow(res)
	})
}

// wantOneRow turns "no row changed" into ErrNotFound.
func wantOneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrapErr(err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
