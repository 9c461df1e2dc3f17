package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

const agentKey = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestLinkCodeRedeem(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, path := open(t, c)

	code := store.LinkCode{Code: "WXYZ-2345", AgentKey: agentKey, AgentName: "alice-laptop", ExpiresAt: c.Now().Add(10 * time.Minute)}
	if err := s.AddLinkCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := s.AddLinkCode(ctx, code); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same code twice: %v, want ErrConflict", err)
	}

	// The code itself is nowhere in the file's tables.
	var n int
	if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM link_codes WHERE CAST(code_sha256 AS TEXT) LIKE '%WXYZ%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("link code stored in clear")
	}

	c.Advance(time.Minute)
	l, err := s.RedeemLinkCode(ctx, "WXYZ-2345", alice, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := store.Link{ID: l.ID, Identity: alice, AgentKey: agentKey, AgentName: "alice-laptop", CreatedAt: c.Now()}
	if l != want {
		t.Errorf("link = %+v, want %+v", l, want)
	}
	if _, err := s.RedeemLinkCode(ctx, "WXYZ-2345", bob, c.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second redeem: %v, want ErrNotFound", err)
	}
	if _, err := s.RedeemLinkCode(ctx, "never-issued", alice, c.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown code: %v, want ErrNotFound", err)
	}

	got, err := s.Link(ctx, l.ID)
	if err != nil || got != l {
		t.Errorf("Link(%d) = %+v, %v", l.ID, got, err)
	}
	byID, err := s.LinksByIdentity(ctx, store.Identity{Network: "slack", Workspace: "T01", UserID: "U_ALICE"})
	if err != nil || len(byID) != 1 || byID[0] != l {
		t.Errorf("LinksByIdentity = %+v, %v", byID, err)
	}
	byAgent, err := s.LinksByAgent(ctx, agentKey)
	if err != nil || len(byAgent) != 1 || byAgent[0] != l {
		t.Errorf("LinksByAgent = %+v, %v", byAgent, err)
	}

	// The same agent linked again by the same person: one link, brought up
	// to date.
	c.Advance(time.Hour)
	if err := s.AddLinkCode(ctx, store.LinkCode{Code: "second", AgentKey: agentKey, AgentName: "alice-new-name", ExpiresAt: c.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	renamed := alice
	renamed.DisplayName = "Alice B."
	l2, err := s.RedeemLinkCode(ctx, "second", renamed, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if l2.ID != l.ID || l2.AgentName != "alice-new-name" || l2.Identity.DisplayName != "Alice B." || !l2.CreatedAt.Equal(l.CreatedAt) {
		t.Errorf("relink = %+v, want link %d updated", l2, l.ID)
	}

	// Another person may link the same agent (a shared computer).
	if err := s.AddLinkCode(ctx, store.LinkCode{Code: "third", AgentKey: agentKey, ExpiresAt: c.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	lb, err := s.RedeemLinkCode(ctx, "third", bob, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	byAgent, _ = s.LinksByAgent(ctx, agentKey)
	if len(byAgent) != 2 {
		t.Errorf("LinksByAgent = %d links, want 2", len(byAgent))
	}

	if err := s.DeleteLink(ctx, lb.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLink(ctx, lb.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
	if _, err := s.Link(ctx, lb.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted link: %v, want ErrNotFound", err)
	}
}

func TestLinkCodeExpired(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	if err := s.AddLinkCode(ctx, store.LinkCode{Code: "late", AgentKey: agentKey, ExpiresAt: c.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute) // expiry is exclusive
	if _, err := s.RedeemLinkCode(ctx, "late", alice, c.Now()); !errors.Is(err, store.ErrExpired) {
		t.Fatalf("expired code: %v, want ErrExpired", err)
	}
	if _, err := s.RedeemLinkCode(ctx, "late", alice, c.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired code again: %v, want ErrNotFound", err)
	}
	if ls, _ := s.LinksByIdentity(ctx, alice); len(ls) != 0 {
		t.Fatalf("expired code made links: %+v", ls)
	}
}

func TestPruneLinkCodes(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	for i, d := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		if err := s.AddLinkCode(ctx, store.LinkCode{Code: string(rune('a' + i)), AgentKey: agentKey, ExpiresAt: c.Now().Add(d)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneLinkCodes(ctx, c.Now().Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PruneLinkCodes = %d, %v; want 2", n, err)
	}
	if _, err := s.RedeemLinkCode(ctx, "c", alice, c.Now()); err != nil {
		t.Fatalf("surviving code: %v", err)
	}
}

func TestLinkValidation(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	for name, lc := range map[string]store.LinkCode{
		"no code":   {AgentKey: agentKey, ExpiresAt: c.Now()},
		"no agent":  {Code: "x", ExpiresAt: c.Now()},
		"no expiry": {Code: "x", AgentKey: agentKey},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.AddLinkCode(ctx, lc); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("AddLinkCode: %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.RedeemLinkCode(ctx, "x", store.Identity{Network: "slack"}, c.Now()); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("redeem for no user: %v, want ErrInvalid", err)
	}
}

// TestLinkUnique checks the schema itself: one row per identity and agent key,
// whoever writes the file.
func TestLinkUnique(t *testing.T) {
	_, path := open(t, newClock())
	db := rawDB(t, path)
	ins := `INSERT INTO links (network, workspace, user_id, display_name, email, agent_key, agent_name, created_at)
		VALUES ('slack', 'T01', 'U1', '', '', 'k', '', 0)`
	if _, err := db.Exec(ins); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins); err == nil {
		t.Fatal("duplicate link inserted")
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM links`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("links = %d, %v", n, err)
	}
}
