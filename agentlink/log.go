package agentlink

import (
	"log/slog"
	"time"
)

var _ slog.LogValuer = Message{}

// LogValue makes a message safe to log: the password and the link code
// (whoever types it first links the computer) are replaced by
// "[redacted]", the invitation file and chat text by their lengths (what
// people write in a chat is theirs, not the log's). Empty fields are left
// out.
func (m Message) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("type", m.Type)}
	str := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	tm := func(k string, v time.Time) {
		if !v.IsZero() {
			attrs = append(attrs, slog.Time(k, v))
		}
	}
	id := func(k string, v *Identity) {
		if v != nil {
			attrs = append(attrs, slog.Group(k, "network", v.Network, "workspace", v.Workspace, "user_id", v.UserID))
		}
	}
	str("ticket", m.Ticket)
	str("name", m.Name)
	if m.Version != 0 {
		attrs = append(attrs, slog.Int("version", m.Version))
	}
	if len(m.Links) > 0 {
		attrs = append(attrs, slog.Int("links", len(m.Links)))
	}
	if m.Code != "" {
		attrs = append(attrs, slog.String("code", "[redacted]"))
	}
	tm("expires", m.Expires)
	id("identity", m.Identity)
	id("requester", m.Requester)
	id("helper", m.Helper)
	if m.Type == TypeConsent {
		attrs = append(attrs, slog.Bool("accepted", m.Accepted))
	}
	str("reason", m.Reason)
	str("invitation_id", m.InvitationID)
	if m.File != nil {
		attrs = append(attrs, slog.Int("file_bytes", len(m.File)))
	}
	if m.Password != "" {
		attrs = append(attrs, slog.String("password", "[redacted]"))
	}
	str("author", m.Author)
	if m.Type == TypeChat || m.Type == TypeConsentRequest {
		if m.Text != "" {
			attrs = append(attrs, slog.Int("text_bytes", len(m.Text)))
		}
		if m.Description != "" {
			attrs = append(attrs, slog.Int("description_bytes", len(m.Description)))
		}
	} else {
		str("text", m.Text)
		str("description", m.Description)
	}
	str("source", m.Source)
	str("key", m.Key)
	str("state", m.State)
	if s := m.Summary; s != nil {
		attrs = append(attrs, slog.Group("summary",
			"duration", s.Duration, "path", s.Path, "rtt", s.RTT,
			"screen_bytes", s.ScreenBytes, "updates", s.Updates, "reason", s.Reason))
	}
	return slog.GroupValue(attrs...)
}
