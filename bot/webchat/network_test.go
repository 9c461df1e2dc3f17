package webchat_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/webchat"
)

func TestSend(t *testing.T) {
	h := start(t, webchat.Options{})
	if h.s.Name() != "webchat" {
		t.Errorf("Name %q", h.s.Name())
	}
	root := h.send(bot.Place{Workspace: "demo", Channel: "helpdesk"}, bot.Message{Text: "Ticket 7"})

	tests := []struct {
		name    string
		to      bot.Place
		m       bot.Message
		viewers map[string]bool // who sees it
		channel string          // where to look
		thread  string
	}{
		{"to a channel", bot.Place{Channel: "general"}, bot.Message{Text: "*Hello* everyone"},
			map[string]bool{"alice": true, "bob": true}, "general", ""},
		{"to a thread", bot.Place{Channel: "helpdesk", Thread: root}, bot.Message{Text: "Bob took the ticket"},
			map[string]bool{"alice": true, "bob": true}, "helpdesk", root},
		{"a direct message", bot.Place{User: "bob"}, bot.Message{Text: "Password: 1234-5678"},
			map[string]bool{"bob": true}, "", ""},
		{"a direct message by name", bot.Place{User: "Alice"}, bot.Message{Text: "Hi Alice"},
			map[string]bool{"alice": true}, "", ""},
		{"ephemeral in a channel", bot.Place{Channel: "general", User: "alice"}, bot.Message{Text: "Only for Alice", Ephemeral: true},
			map[string]bool{"alice": true}, "general", ""},
		{"ephemeral in a thread", bot.Place{Channel: "helpdesk", Thread: root, User: "bob"}, bot.Message{Text: "Only for Bob", Ephemeral: true},
			map[string]bool{"bob": true}, "helpdesk", root},
		{"with a file", bot.Place{User: "bob"}, bot.Message{Text: "", File: &bot.File{Name: "inv.gethelp", Data: []byte("{}")}},
			map[string]bool{"bob": true}, "", ""},
		{"buttons only", bot.Place{Channel: "helpdesk"}, bot.Message{Buttons: []bot.Button{{Label: "Take", Action: "take", Value: "7"}}},
			map[string]bool{"alice": true, "bob": true}, "helpdesk", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := h.send(tt.to, tt.m)
			for _, u := range []string{"alice", "bob"} {
				if tt.channel == "" && !tt.viewers[u] {
					continue // the other's DM: not theirs to ask for
				}
				var got *webchat.Message
				for _, m := range h.messages(u, tt.channel, tt.thread) {
					if m.ID == id {
						got = &m
					}
				}
				if (got != nil) != tt.viewers[u] {
					t.Fatalf("%s sees it: %v, want %v", u, got != nil, tt.viewers[u])
				}
				if got == nil {
					continue
				}
				if got.Text != tt.m.Text || got.Author != "bot" || got.AuthorName != "gethelp" || got.Thread != tt.to.Thread {
					t.Errorf("%+v", got)
				}
				if tt.m.Ephemeral != (got.VisibleTo != "") || (tt.m.File != nil) != (got.File != nil) || len(got.Buttons) != len(tt.m.Buttons) {
					t.Errorf("%+v", got)
				}
				if got.Time.IsZero() {
					t.Error("no time")
				}
			}
		})
	}
}

func TestSendIdempotent(t *testing.T) {
	h := start(t, webchat.Options{})
	m := bot.Message{Text: "Password: 1234-5678", Key: "ticket-7/password"}
	first := h.send(bot.Place{User: "bob"}, m)
	again := h.send(bot.Place{User: "bob"}, m)
	if first != again {
		t.Errorf("ids %s and %s", first, again)
	}
	if n := len(h.messages("bob", "", "")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	// Without a key, every send posts.
	m.Key = ""
	if h.send(bot.Place{User: "bob"}, m) == first {
		t.Error("a send without a key returned the first id")
	}
	if n := len(h.messages("bob", "", "")); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestSendErrors(t *testing.T) {
	h := start(t, webchat.Options{})
	root := h.send(bot.Place{Channel: "general"}, bot.Message{Text: "root"})
	reply := h.send(bot.Place{Channel: "general", Thread: root}, bot.Message{Text: "reply"})

	tests := []struct {
		name string
		to   bot.Place
		m    bot.Message
		is   []error
		says string
	}{
		{"no such channel", bot.Place{Channel: "random"}, bot.Message{Text: "x"}, []error{bot.ErrPermanent, webchat.ErrNotFound}, "no channel #random"},
		{"no such user", bot.Place{User: "mallory"}, bot.Message{Text: "x"}, []error{bot.ErrPermanent, bot.ErrNoSuchUser}, `no such user "mallory"`},
		{"ephemeral for nobody known", bot.Place{Channel: "general", User: "mallory"}, bot.Message{Text: "x", Ephemeral: true}, []error{bot.ErrPermanent, bot.ErrNoSuchUser}, "mallory"},
		{"nowhere", bot.Place{}, bot.Message{Text: "x"}, []error{bot.ErrPermanent, webchat.ErrInvalid}, "neither a channel nor a user"},
		{"another workspace", bot.Place{Workspace: "T123", Channel: "general"}, bot.Message{Text: "x"}, []error{bot.ErrPermanent}, `no workspace "T123"`},
		{"no such thread", bot.Place{Channel: "general", Thread: "m999999"}, bot.Message{Text: "x"}, []error{bot.ErrPermanent, webchat.ErrNotFound}, "no message m999999"},
		{"thread in another channel", bot.Place{Channel: "helpdesk", Thread: root}, bot.Message{Text: "x"}, []error{bot.ErrPermanent}, "no message"},
		{"a reply as root", bot.Place{Channel: "general", Thread: reply}, bot.Message{Text: "x"}, []error{bot.ErrPermanent, webchat.ErrInvalid}, "is a reply"},
		{"ephemeral without a user", bot.Place{Channel: "general"}, bot.Message{Text: "x", Ephemeral: true}, []error{bot.ErrPermanent}, "for nobody"},
		{"empty", bot.Place{Channel: "general"}, bot.Message{Text: " "}, []error{bot.ErrPermanent}, "empty"},
		{"too long", bot.Place{Channel: "general"}, bot.Message{Text: strings.Repeat("x", webchat.MaxText+1)}, []error{bot.ErrPermanent}, "over"},
		{"a file too large", bot.Place{User: "bob"}, bot.Message{File: &bot.File{Name: "big", Data: make([]byte, webchat.MaxFile+1)}}, []error{bot.ErrPermanent}, "over"},
		{"a file without a name", bot.Place{User: "bob"}, bot.Message{File: &bot.File{Data: []byte("x")}}, []error{bot.ErrPermanent}, "without a name"},
		{"a button without an action", bot.Place{User: "bob"}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "Take"}}}, []error{bot.ErrPermanent}, "label and an action"},
		{"a button style", bot.Place{User: "bob"}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "Take", Action: "take", Style: "green"}}}, []error{bot.ErrPermanent}, `style "green"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.Key = "key-" + tt.name
			_, err := h.s.Send(context.Background(), tt.to, tt.m)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.is {
				if !errors.Is(err, want) {
					t.Errorf("%v is not %v", err, want)
				}
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%q does not say %q", err, tt.says)
			}
		})
	}
	// A failed send does not take its key.
	if _, err := h.s.Send(context.Background(), bot.Place{Channel: "general"}, bot.Message{Text: "now right", Key: "key-empty"}); err != nil {
		t.Errorf("a key whose send failed: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.s.Send(ctx, bot.Place{Channel: "general"}, bot.Message{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("with ctx done: %v", err)
	}
}

func TestSendAfterClose(t *testing.T) {
	s, err := webchat.New(webchat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	_, err = s.Send(context.Background(), bot.Place{Channel: "general"}, bot.Message{Text: "x"})
	if !errors.Is(err, webchat.ErrClosed) || errors.Is(err, bot.ErrPermanent) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := s.Run(context.Background(), new(bottest.Core)); !errors.Is(err, webchat.ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if err := s.AddMail(webchat.Mail{Subject: "late"}); !errors.Is(err, webchat.ErrClosed) {
		t.Errorf("AddMail after Close: %v", err)
	}
}

func TestLookupUser(t *testing.T) {
	s, err := webchat.New(webchat.Options{
		Workspace: "acme",
		Users: []webchat.User{
			{ID: "u1", Name: "Alice", Email: "alice@acme.example"},
			{ID: "u2", Name: "Bob Smith"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	aliceID := bot.Identity{Network: "webchat", Workspace: "acme", UserID: "u1", DisplayName: "Alice", Email: "alice@acme.example"}
	bobID := bot.Identity{Network: "webchat", Workspace: "acme", UserID: "u2", DisplayName: "Bob Smith"}
	tests := []struct {
		workspace, mention string
		want               bot.Identity
		err                error
	}{
		{"acme", "@alice", aliceID, nil},
		{"acme", "alice", aliceID, nil},
		{"acme", "ALICE", aliceID, nil},
		{"acme", "@U1", aliceID, nil},
		{"acme", "<@u1>", aliceID, nil},
		{"", " @alice ", aliceID, nil},
		{"acme", "@bob smith", bobID, nil},
		{"acme", "@bob", bot.Identity{}, bot.ErrNoSuchUser},
		{"acme", "@", bot.Identity{}, bot.ErrNoSuchUser},
		{"acme", "", bot.Identity{}, bot.ErrNoSuchUser},
		{"acme", "@bot", bot.Identity{}, bot.ErrNoSuchUser},
		{"other", "@alice", bot.Identity{}, bot.ErrNoSuchUser},
	}
	for _, tt := range tests {
		t.Run(tt.workspace+"/"+tt.mention, func(t *testing.T) {
			got, err := s.LookupUser(context.Background(), tt.workspace, tt.mention)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("%+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts webchat.Options
		says string
	}{
		{"not loopback", webchat.Options{Addr: "0.0.0.0:0"}, "loopback"},
		{"a name not an address", webchat.Options{Addr: "localhost:0"}, "loopback"},
		{"an empty user id", webchat.Options{Users: []webchat.User{{Name: "Nobody"}}}, "bad user id"},
		{"a user called bot", webchat.Options{Users: []webchat.User{{ID: "Bot"}}}, "bad user id"},
		{"a user id with a space", webchat.Options{Users: []webchat.User{{ID: "a b"}}}, "bad user id"},
		{"two users answer to one name", webchat.Options{Users: []webchat.User{{ID: "a", Name: "Al"}, {ID: "al"}}}, `two users answer to "al"`},
		{"a bad channel", webchat.Options{Channels: []string{"General Chat"}}, "bad channel"},
		{"a channel twice", webchat.Options{Channels: []string{"a", "a"}}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := webchat.New(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%q does not say %q", err, tt.says)
			}
		})
	}
	if _, err := webchat.New(webchat.Options{Addr: "10.1.2.3:0"}); !errors.Is(err, webchat.ErrNotLoopback) {
		t.Errorf("%v", err)
	}

	// Defaults.
	s, err := webchat.New(webchat.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Workspace() != "demo" || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.Contains(s.URL(), "/?t=") {
		t.Errorf("workspace %q, URL %q", s.Workspace(), s.URL())
	}
	msgs, err := s.Messages("bob", "helpdesk", "")
	if err != nil || msgs == nil || len(msgs) != 0 {
		t.Errorf("an empty #helpdesk: %v, %v", msgs, err)
	}
	if _, err := s.LookupUser(context.Background(), "demo", "@alice"); err != nil {
		t.Error(err)
	}
}
