package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

func TestTranscript(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateTicket(ctx, store.Ticket{Requester: bob})
	if err != nil {
		t.Fatal(err)
	}

	lines := []store.Entry{
		{Source: store.SourceChat, Author: "Alice", Text: "it's broken", Key: "slack:1.1"},
		{Source: store.SourceBot, Author: "gethelp", Text: "asking Bob"},
		{Source: store.SourceEmail, Author: "Bob", Text: "on my way", Key: "<m1@example.com>"},
		{Source: store.SourceSession, Author: "Bob", Text: "click Start", Key: "session:7", Time: c.Now().Add(-time.Second)},
	}
	for i, e := range lines {
		e.TicketID = tk.ID
		got, created, err := s.AppendTranscript(ctx, e)
		if err != nil || !created {
			t.Fatalf("append %d: %v, created %v", i, err, created)
		}
		if got.Seq != int64(i+1) {
			t.Errorf("append %d: seq %d", i, got.Seq)
		}
		if e.Time.IsZero() && !got.Time.Equal(c.Now()) {
			t.Errorf("append %d: time %v, want now", i, got.Time)
		}
		c.Advance(time.Second)
	}
	// The other ticket counts from 1.
	o, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: other.ID, Source: store.SourceChat, Text: "hi"})
	if err != nil || o.Seq != 1 {
		t.Fatalf("other ticket: %+v, %v", o, err)
	}

	// Webhook retries: the same key is stored once, and the first one wins.
	dup, created, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: store.SourceChat, Text: "it's broken (retried)", Key: "slack:1.1"})
	if err != nil || created || dup.Seq != 1 || dup.Text != "it's broken" {
		t.Errorf("duplicate: %+v, created %v, %v", dup, created, err)
	}
	// The same key on another ticket is another entry.
	if _, created, err := s.AppendTranscript(ctx, store.Entry{TicketID: other.ID, Source: store.SourceChat, Key: "slack:1.1"}); err != nil || !created {
		t.Errorf("same key, other ticket: created %v, %v", created, err)
	}
	// No key: never deduplicated.
	if e, created, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: store.SourceBot, Text: "asking Bob"}); err != nil || !created || e.Seq != 5 {
		t.Errorf("keyless repeat: %+v, created %v, %v", e, created, err)
	}

	all, err := s.Transcript(ctx, tk.ID, 0, 0)
	if err != nil || len(all) != 5 {
		t.Fatalf("Transcript = %d entries, %v", len(all), err)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) || e.TicketID != tk.ID {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if all[2].Text != "on my way" || all[2].Source != store.SourceEmail || all[2].Key != "<m1@example.com>" {
		t.Errorf("entry 3 = %+v", all[2])
	}
	if !all[3].Time.Equal(lines[3].Time) {
		t.Errorf("entry 4 time %v, want the given %v", all[3].Time, lines[3].Time)
	}
	page, err := s.Transcript(ctx, tk.ID, 2, 2)
	if err != nil || len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 {
		t.Errorf("page after 2 = %+v, %v", page, err)
	}

	if _, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: "nope", Source: store.SourceChat, Key: "k"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown ticket: %v, want ErrNotFound", err)
	}
	if _, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: "fax"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown source: %v, want ErrInvalid", err)
	}
}

// TestTranscriptConcurrent appends from several goroutines, with repeated
// keys: the seqs are 1..n without gaps, and each key is there once.
func TestTranscriptConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	const workers, keys = 4, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := range keys {
				if _, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: store.SourceChat,
					Text: fmt.Sprint(w), Key: fmt.Sprint("k", k)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := s.Transcript(ctx, tk.ID, 0, 0)
	if err != nil || len(all) != keys {
		t.Fatalf("Transcript = %d entries, %v; want %d", len(all), err, keys)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if e.Seq != int64(i+1) || seen[e.Key] {
			t.Errorf("entry %d: %+v", i, e)
		}
		seen[e.Key] = true
	}
}

func TestMarkSeen(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	for i, tc := range []struct {
		key  string
		want bool
	}{
		{"slack:Ev01", true},
		{"slack:Ev01", false},
		{"<abc@mail.example.com>", true},
		{"slack:Ev02", true},
		{"<abc@mail.example.com>", false},
	} {
		got, err := s.MarkSeen(ctx, tc.key, c.Now())
		if err != nil || got != tc.want {
			t.Errorf("%d: MarkSeen(%q) = %v, %v; want %v", i, tc.key, got, err, tc.want)
		}
		c.Advance(24 * time.Hour)
	}
	// Now is day 5; Ev01 was first seen on day 0, abc on day 2, Ev02 on day
	// 3. Prune what is older than 2 days: Ev01 and abc.
	n, err := s.PruneSeen(ctx, c.Now().Add(-48*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PruneSeen = %d, %v; want 2", n, err)
	}
	if fresh, _ := s.MarkSeen(ctx, "slack:Ev01", c.Now()); !fresh {
		t.Error("pruned key not new again")
	}
	if fresh, _ := s.MarkSeen(ctx, "slack:Ev02", c.Now()); fresh {
		t.Error("kept key new again")
	}
	if _, err := s.MarkSeen(ctx, "", c.Now()); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty key: %v, want ErrInvalid", err)
	}
}
