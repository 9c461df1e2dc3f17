package store_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

func TestTicketCRUD(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)

	in := store.Ticket{
		State:       store.StateAwaitingHelper,
		Requester:   alice,
		HelperEmail: "helpdesk@example.com",
		Description: "The printer prints only blank pages",
		Origin:      store.Origin{Network: "slack", ChannelID: "C01", ThreadID: "1700000000.000100"},
	}
	tk, err := s.CreateTicket(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(tk.ID) {
		t.Errorf("ID = %q, want 26 of [a-z2-7]", tk.ID)
	}
	if !regexp.MustCompile(`^[a-z0-9]{16}$`).MatchString(tk.ReplyToken) {
		t.Errorf("ReplyToken = %q, want [a-z0-9]{16}", tk.ReplyToken)
	}
	if tk.Version != 1 || !tk.CreatedAt.Equal(c.Now()) || !tk.UpdatedAt.Equal(c.Now()) || tk.Helper != nil {
		t.Errorf("created = %+v", tk)
	}
	want := in
	want.ID, want.ReplyToken, want.CreatedAt, want.UpdatedAt, want.Version = tk.ID, tk.ReplyToken, c.Now(), c.Now(), 1
	if !reflect.DeepEqual(tk, want) {
		t.Errorf("created\n got %+v\nwant %+v", tk, want)
	}

	for name, get := range map[string]func() (store.Ticket, error){
		"Ticket":             func() (store.Ticket, error) { return s.Ticket(ctx, tk.ID) },
		"TicketByReplyToken": func() (store.Ticket, error) { return s.TicketByReplyToken(ctx, tk.ReplyToken) },
		"TicketByOrigin":     func() (store.Ticket, error) { return s.TicketByOrigin(ctx, in.Origin) },
	} {
		got, err := get()
		if err != nil || !reflect.DeepEqual(got, tk) {
			t.Errorf("%s = %+v, %v; want %+v", name, got, err, tk)
		}
	}

	// Every mutable field, changed at once.
	c.Advance(time.Minute)
	helper := bob
	up := tk
	up.State = store.StateDelivered
	up.Helper = &helper
	up.HelperEmail = "bob@example.com"
	up.Description = "blank pages, and now a paper jam"
	up.EmailThread = store.EmailThread{RootMessageID: "<root@gethelp>", LastMessageID: "<last@gethelp>"}
	up.InvitationID = "inv-1"
	up.InvitationFile = []byte(`{"v":1,"pin":"abc"}`)
	up.InvitationExpires = c.Now().Add(6 * time.Hour)
	up.PasswordSent = true
	up.Summary = `{"rating":5}`
	up.ReplyToken = "zzzzzzzzzzzzzzzz"         // ignored: never changes
	up.Requester = bob                         // ignored: never changes
	up.CreatedAt = c.Now().Add(-time.Hour * 9) // ignored: never changes
	got, err := s.UpdateTicket(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	want = up
	want.ReplyToken, want.Requester, want.CreatedAt = tk.ReplyToken, tk.Requester, tk.CreatedAt
	want.UpdatedAt, want.Version = c.Now(), 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("updated\n got %+v\nwant %+v", got, want)
	}
	reread, err := s.Ticket(ctx, tk.ID)
	if err != nil || !reflect.DeepEqual(reread, got) {
		t.Errorf("reread = %+v, %v", reread, err)
	}
	if !bytes.Equal(reread.InvitationFile, up.InvitationFile) || *reread.Helper != bob {
		t.Errorf("reread file/helper = %q %+v", reread.InvitationFile, reread.Helper)
	}

	// Taking the helper away again.
	got.Helper = nil
	got, err = s.UpdateTicket(ctx, got)
	if err != nil || got.Helper != nil || got.Version != 3 {
		t.Errorf("helper removed = %+v, %v", got, err)
	}

	for name, err := range map[string]error{
		"missing id":    func() error { _, err := s.Ticket(ctx, "nope"); return err }(),
		"missing token": func() error { _, err := s.TicketByReplyToken(ctx, "0000000000000000"); return err }(),
		"missing thread": func() error {
			_, err := s.TicketByOrigin(ctx, store.Origin{Network: "slack", ChannelID: "C01", ThreadID: "x"})
			return err
		}(),
		"update missing": func() error {
			m := tk
			m.ID = "nope"
			_, err := s.UpdateTicket(ctx, m)
			return err
		}(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestTicketOptimisticConcurrency(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	// Two parts of the bot read version 1; the first to write wins.
	a, b := tk, tk
	a.State = store.StateAwaitingConsent
	b.State = store.StateCancelled
	if _, err := s.UpdateTicket(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTicket(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	got, _ := s.Ticket(ctx, tk.ID)
	if got.State != store.StateAwaitingConsent || got.Version != 2 {
		t.Fatalf("after conflict: state %s version %d", got.State, got.Version)
	}
	// Read again, redo the change: it goes through.
	got.State = store.StateCancelled
	if got, err = s.UpdateTicket(ctx, got); err != nil || got.Version != 3 {
		t.Fatalf("redo: %+v, %v", got, err)
	}
}

func TestTicketUnique(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	tk, err := s.CreateTicket(ctx, store.Ticket{ID: "fixed", Requester: alice, ReplyToken: "abcdefgh12345678"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTicket(ctx, store.Ticket{ID: tk.ID, Requester: bob}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same id: %v, want ErrConflict", err)
	}
	if _, err := s.CreateTicket(ctx, store.Ticket{Requester: bob, ReplyToken: tk.ReplyToken}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same reply token: %v, want ErrConflict", err)
	}
}

func TestTicketValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	for name, tk := range map[string]store.Ticket{
		"no requester":    {},
		"unknown state":   {Requester: alice, State: "exploded"},
		"helper no user":  {Requester: alice, Helper: &store.Identity{Network: "slack"}},
		"summary no json": {Requester: alice, Summary: "great"},
		"bad token":       {Requester: alice, ReplyToken: "UPPER-CASE-TOKEN"},
		"short token":     {Requester: alice, ReplyToken: "abc"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.CreateTicket(ctx, tk); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateTicket: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestOpenTicketsAndOrigin(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	thread := store.Origin{Network: "discord", ChannelID: "G1", ThreadID: "T1"}
	var ids []string
	for _, st := range []store.TicketState{store.StateRequested, store.StateEnded, store.StateConnected, store.StateFailed, store.StateCancelled, store.StateInvited} {
		tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice, State: st, Origin: thread})
		if err != nil {
			t.Fatal(err)
		}
		if st.Open() {
			ids = append(ids, tk.ID)
		}
		c.Advance(time.Second)
	}
	open, err := s.OpenTickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range open {
		got = append(got, tk.ID)
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("OpenTickets = %v, want %v", got, ids)
	}
	newest, err := s.TicketByOrigin(ctx, thread)
	if err != nil || newest.ID != ids[len(ids)-1] {
		t.Errorf("TicketByOrigin = %s, %v; want the newest, %s", newest.ID, err, ids[len(ids)-1])
	}
}

// TestTicketIDsFromRand checks that ids and tokens come from the injected
// randomness.
func TestTicketIDsFromRand(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	s.Rand = bytes.NewReader(make([]byte, 1024))
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != "aaaaaaaaaaaaaaaaaaaaaaaaaa" || tk.ReplyToken != "aaaaaaaaaaaaaaaa" {
		t.Errorf("zero randomness gave id %q token %q", tk.ID, tk.ReplyToken)
	}
}
