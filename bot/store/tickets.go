package store

import (
	"context"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// CreateTicket implements [Store].
func (s *SQLite) CreateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	if t.ID == "" {
		id, err := s.newTicketID()
		if err != nil {
			return Ticket{}, err
		}
		t.ID = id
	}
	if t.ReplyToken == "" {
		tok, err := s.newReplyToken()
		if err != nil {
			return Ticket{}, err
		}
		t.ReplyToken = tok
	}
	if t.State == "" {
		t.State = StateRequested
	}
	if err := checkTicket(t); err != nil {
		return Ticket{}, err
	}
	if !validReplyToken(t.ReplyToken) {
		return Ticket{}, fmt.Errorf("%w: reply token %q is not [a-z0-9]{16}", ErrInvalid, t.ReplyToken)
	}
	now := s.now()
	t.CreatedAt, t.UpdatedAt, t.Version = now, now, 1
	var out Ticket
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		h := helperColumns(t.Helper)
		row := tx.QueryRowContext(ctx, `INSERT INTO tickets (
				id, state,
				requester_network, requester_workspace, requester_user_id, requester_name, requester_email,
				helper_network, helper_workspace, helper_user_id, helper_name, helper_identity_email,
				helper_email, description,
				origin_network, origin_channel_id, origin_thread_id,
				email_root_message_id, email_last_message_id,
				reply_token, invitation_id, invitation_file, invitation_expires,
				second_channel_sent, summary, created_at, updated_at, version, agent_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+ticketColumns,
			t.ID, string(t.State),
			t.Requester.Network, t.Requester.Workspace, t.Requester.UserID, t.Requester.DisplayName, t.Requester.Email,
			h[0], h[1], h[2], h[3], h[4],
			t.HelperEmail, t.Description,
			t.Origin.Network, t.Origin.ChannelID, t.Origin.ThreadID,
			t.EmailThread.RootMessageID, t.EmailThread.LastMessageID,
			t.ReplyToken, t.InvitationID, blob(t.InvitationFile), toMicros(t.InvitationExpires),
			t.PasswordSent, t.Summary, toMicros(t.CreatedAt), toMicros(t.UpdatedAt), t.Version, t.AgentKey)
		var err error
		out, err = scanTicket(row)
		return wrapErr(err)
	})
	return out, err
}

// UpdateTicket implements [Store].
func (s *SQLite) UpdateTicket(ctx context.Context, t Ticket) (Ticket, error) {
	if err := checkTicket(t); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		h := helperColumns(t.Helper)
		row := tx.QueryRowContext(ctx, `UPDATE tickets SET
				state = ?,
				helper_network = ?, helper_workspace = ?, helper_user_id = ?, helper_name = ?, helper_identity_email = ?,
				helper_email = ?, description = ?,
				origin_network = ?, origin_channel_id = ?, origin_thread_id = ?,
				email_root_message_id = ?, email_last_message_id = ?,
				invitation_id = ?, invitation_file = ?, invitation_expires = ?,
				second_channel_sent = ?, summary = ?, updated_at = ?, version = version + 1,
				agent_key = ?
			WHERE id = ? AND version = ?
			RETURNING `+ticketColumns,
			string(t.State),
			h[0], h[1], h[2], h[3], h[4],
			t.HelperEmail, t.Description,
			t.Origin.Network, t.Origin.ChannelID, t.Origin.ThreadID,
			t.EmailThread.RootMessageID, t.EmailThread.LastMessageID,
			t.InvitationID, blob(t.InvitationFile), toMicros(t.InvitationExpires),
			t.PasswordSent, t.Summary, toMicros(s.now()),
			t.AgentKey,
			t.ID, t.Version)
		var err error
		out, err = scanTicket(row)
		if errors.Is(err, sql.ErrNoRows) {
			// Tell a stale version from a missing ticket.
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM tickets WHERE id = ?`, t.ID).Scan(&one); err != nil {
				return wrapErr(err)
			}
			return fmt.Errorf("%w: ticket %s changed since version %d", ErrConflict, t.ID, t.Version)
		}
		return wrapErr(err)
	})
	return out, err
}

// Ticket implements [Store].
func (s *SQLite) Ticket(ctx context.Context, id string) (Ticket, error) {
	t, err := scanTicket(s.read.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
	return t, wrapErr(err)
}

// TicketByReplyToken implements [Store].
func (s *SQLite) TicketByReplyToken(ctx context.Context, token string) (Ticket, error) {
	t, err := scanTicket(s.read.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE reply_token = ?`, token))
	return t, wrapErr(err)
}

// TicketByOrigin implements [Store].
func (s *SQLite) TicketByOrigin(ctx context.Context, o Origin) (Ticket, error) {
	t, err := scanTicket(s.read.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE origin_network = ? AND origin_channel_id = ? AND origin_thread_id = ?
		ORDER BY created_at DESC, rowid DESC LIMIT 1`, o.Network, o.ChannelID, o.ThreadID))
	return t, wrapErr(err)
}

// OpenTickets implements [Store].
func (s *SQLite) OpenTickets(ctx context.Context) ([]Ticket, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE state NOT IN ('ended', 'cancelled', 'failed') ORDER BY created_at, rowid`)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer rows.Close()
	var ts []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, wrapErr(err)
		}
		ts = append(ts, t)
	}
	return ts, wrapErr(rows.Err())
}

const ticketColumns = `id, state,
	requester_network, requester_workspace, requester_user_id, requester_name, requester_email,
	helper_network, helper_workspace, helper_user_id, helper_name, helper_identity_email,
	helper_email, description,
	origin_network, origin_channel_id, origin_thread_id,
	email_root_message_id, email_last_message_id,
	reply_token, invitation_id, invitation_file, invitation_expires,
	second_channel_sent, summary, created_at, updated_at, version, agent_key`

func scanTicket(r scanner) (Ticket, error) {
	var t Ticket
	var state string
	var h [5]sql.NullString
	var expires, created, updated sql.NullInt64
	err := r.Scan(&t.ID, &state,
		&t.Requester.Network, &t.Requester.Workspace, &t.Requester.UserID, &t.Requester.DisplayName, &t.Requester.Email,
		&h[0], &h[1], &h[2], &h[3], &h[4],
		&t.HelperEmail, &t.Description,
		&t.Origin.Network, &t.Origin.ChannelID, &t.Origin.ThreadID,
		&t.EmailThread.RootMessageID, &t.EmailThread.LastMessageID,
		&t.ReplyToken, &t.InvitationID, &t.InvitationFile, &expires,
		&t.PasswordSent, &t.Summary, &created, &updated, &t.Version, &t.AgentKey)
	if err != nil {
		return Ticket{}, err
	}
	t.State = TicketState(state)
	if h[0].Valid {
		t.Helper = &Identity{Network: h[0].String, Workspace: h[1].String, UserID: h[2].String,
			DisplayName: h[3].String, Email: h[4].String}
	}
	t.InvitationExpires = fromMicros(expires)
	t.CreatedAt = fromMicros(created)
	t.UpdatedAt = fromMicros(updated)
	return t, nil
}

// helperColumns is the helper identity as five column values, all NULL for
// no helper.
func helperColumns(h *Identity) [5]any {
	if h == nil {
		return [5]any{nil, nil, nil, nil, nil}
	}
	return [5]any{h.Network, h.Workspace, h.UserID, h.DisplayName, h.Email}
}

// blob keeps an empty file NULL and a non-empty one a BLOB.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func checkTicket(t Ticket) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("%w: ticket has no id", ErrInvalid)
	case !t.State.valid():
		return fmt.Errorf("%w: ticket state %q", ErrInvalid, t.State)
	case t.Requester.Network == "" || t.Requester.UserID == "":
		return fmt.Errorf("%w: ticket needs a requester's network and user id", ErrInvalid)
	case t.Helper != nil && (t.Helper.Network == "" || t.Helper.UserID == ""):
		return fmt.Errorf("%w: ticket helper needs a network and a user id", ErrInvalid)
	case t.Summary != "" && !json.Valid([]byte(t.Summary)):
		return fmt.Errorf("%w: ticket summary is not JSON", ErrInvalid)
	}
	return nil
}

// ticketIDEncoding spells ticket ids in lower-case base32 without padding:
// URL-safe, case-insensitive-safe, and easy to read aloud.
var ticketIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newTicketID returns 128 random bits as 26 characters of [a-z2-7].
func (s *SQLite) newTicketID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand(), b[:]); err != nil {
		return "", fmt.Errorf("store: ticket id: %w", err)
	}
	return ticketIDEncoding.EncodeToString(b[:]), nil
}

const replyTokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// newReplyToken returns 16 characters of [a-z0-9], each uniform (about 82
// bits in all), by rejection sampling.
func (s *SQLite) newReplyToken() (string, error) {
	out := make([]byte, 0, 16)
	var buf [32]byte
	for len(out) < 16 {
		if _, err := io.ReadFull(s.rand(), buf[:]); err != nil {
			return "", fmt.Errorf("store: reply token: %w", err)
		}
		for _, c := range buf {
			// 252 = 7*36: bytes at or above it would favour the first letters.
			if c < 252 && len(out) < 16 {
				out = append(out, replyTokenAlphabet[c%36])
			}
		}
	}
	return string(out), nil
}

func validReplyToken(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
