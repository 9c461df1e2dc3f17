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

func TestEnqueueIdempotent(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	d := store.Delivery{Key: "ticket/" + tk.ID + "/invitation", TicketID: tk.ID, Channel: "email", Kind: "email",
		Payload: []byte(`{"to":"bob@example.com"}`)}
	first, created, err := s.Enqueue(ctx, d)
	if err != nil || !created {
		t.Fatalf("Enqueue: created %v, %v", created, err)
	}
	want := store.Delivery{ID: first.ID, Key: d.Key, TicketID: tk.ID, Channel: "email", Kind: "email",
		Payload: d.Payload, State: store.DeliveryPending, NextAttempt: c.Now(), CreatedAt: c.Now()}
	if fmt.Sprint(first) != fmt.Sprint(want) {
		t.Errorf("enqueued\n got %+v\nwant %+v", first, want)
	}

	// The core redoes the step after a crash: same key, one delivery, the
	// first one's content.
	c.Advance(time.Minute)
	d.Payload = []byte(`{"to":"someone-else@example.com"}`)
	again, created, err := s.Enqueue(ctx, d)
	if err != nil || created || again.ID != first.ID || string(again.Payload) != string(first.Payload) {
		t.Fatalf("Enqueue again = %+v, created %v, %v", again, created, err)
	}
	byKey, err := s.DeliveryByKey(ctx, d.Key)
	if err != nil || byKey.ID != first.ID {
		t.Fatalf("DeliveryByKey = %+v, %v", byKey, err)
	}
	claimed, err := s.Claim(ctx, c.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %d deliveries, %v; want 1", len(claimed), err)
	}

	// Not about a ticket.
	if got, _, err := s.Enqueue(ctx, store.Delivery{Key: "link/1/confirm", Channel: "slack", Kind: "dm", Payload: []byte(`{}`)}); err != nil || got.TicketID != "" {
		t.Errorf("ticketless: %+v, %v", got, err)
	}

	for name, tc := range map[string]struct {
		d    store.Delivery
		want error
	}{
		"no key":         {store.Delivery{Channel: "slack", Kind: "post", Payload: []byte(`{}`)}, store.ErrInvalid},
		"no channel":     {store.Delivery{Key: "a", Kind: "post", Payload: []byte(`{}`)}, store.ErrInvalid},
		"no kind":        {store.Delivery{Key: "a", Channel: "slack", Payload: []byte(`{}`)}, store.ErrInvalid},
		"payload json":   {store.Delivery{Key: "a", Channel: "slack", Kind: "post", Payload: []byte(`{`)}, store.ErrInvalid},
		"no payload":     {store.Delivery{Key: "a", Channel: "slack", Kind: "post"}, store.ErrInvalid},
		"unknown ticket": {store.Delivery{Key: "a", TicketID: "nope", Channel: "slack", Kind: "post", Payload: []byte(`{}`)}, store.ErrNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := s.Enqueue(ctx, tc.d); !errors.Is(err, tc.want) {
				t.Errorf("Enqueue: %v, want %v", err, tc.want)
			}
		})
	}
}

func enqueueN(t *testing.T, s *store.SQLite, n int, next time.Time) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		d, _, err := s.Enqueue(context.Background(), store.Delivery{Key: fmt.Sprint("k", i), Channel: "slack", Kind: "post",
			Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), NextAttempt: next})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// TestClaimConcurrent has 8 claimers, half of them on a second store on the
// same file (a second process), take 100 deliveries a few at a time: each
// delivery goes to exactly one of them.
func TestClaimConcurrent(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, path := open(t, c)
	s2 := openPath(t, path, c)
	ids := enqueueN(t, s, 100, time.Time{})

	var mu sync.Mutex
	got := map[int64]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		st := s
		if w%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			for {
				ds, err := st.Claim(ctx, c.Now(), time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					got[d.ID]++
					if d.State != store.DeliveryInFlight || !d.LeaseUntil.Equal(c.Now().Add(time.Minute)) || d.Attempts != 0 {
						t.Errorf("claimed %+v", d)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != len(ids) {
		t.Errorf("claimed %d distinct deliveries, want %d", len(got), len(ids))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
	for _, id := range ids {
		if err := s.MarkSent(ctx, id, fmt.Sprint("ts-", id)); err != nil {
			t.Fatal(err)
		}
	}
	// Sent is final: not even long after the lease.
	c.Advance(24 * time.Hour)
	if ds, err := s2.Claim(ctx, c.Now(), time.Minute, 100); err != nil || len(ds) != 0 {
		t.Errorf("Claim after sent = %d, %v", len(ds), err)
	}
}

func TestClaimOrderAndDue(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	later, _, _ := s.Enqueue(ctx, store.Delivery{Key: "later", Channel: "c", Kind: "k", Payload: []byte(`1`), NextAttempt: c.Now().Add(time.Minute)})
	soon, _, _ := s.Enqueue(ctx, store.Delivery{Key: "soon", Channel: "c", Kind: "k", Payload: []byte(`2`), NextAttempt: c.Now().Add(time.Second)})
	now, _, _ := s.Enqueue(ctx, store.Delivery{Key: "now", Channel: "c", Kind: "k", Payload: []byte(`3`)})

	ds, err := s.Claim(ctx, c.Now(), time.Hour, 10)
	if err != nil || len(ds) != 1 || ds[0].ID != now.ID {
		t.Fatalf("Claim at start = %+v, %v; want only %q", ds, err, now.Key)
	}
	c.Advance(2 * time.Minute)
	ds, err = s.Claim(ctx, c.Now(), time.Hour, 1)
	if err != nil || len(ds) != 1 || ds[0].ID != soon.ID {
		t.Fatalf("Claim limit 1 = %+v, %v; want the most overdue, %q", ds, err, soon.Key)
	}
	ds, err = s.Claim(ctx, c.Now(), time.Hour, 10)
	if err != nil || len(ds) != 1 || ds[0].ID != later.ID {
		t.Fatalf("Claim = %+v, %v; want %q", ds, err, later.Key)
	}
	for name, f := range map[string]func() error{
		"no lease": func() error { _, err := s.Claim(ctx, c.Now(), 0, 1); return err },
		"no limit": func() error { _, err := s.Claim(ctx, c.Now(), time.Second, 0); return err },
	} {
		if err := f(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestLeaseExpiry: a claimer dies mid-send; after its lease the delivery is
// offered again, marked as a possible repeat.
func TestLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	ids := enqueueN(t, s, 1, time.Time{})

	first, err := s.Claim(ctx, c.Now(), 30*time.Second, 10)
	if err != nil || len(first) != 1 || first[0].Attempts != 0 {
		t.Fatalf("first claim = %+v, %v", first, err)
	}
	c.Advance(29 * time.Second)
	if ds, _ := s.Claim(ctx, c.Now(), 30*time.Second, 10); len(ds) != 0 {
		t.Fatalf("claimed again within the lease: %+v", ds)
	}
	c.Advance(time.Second)
	second, err := s.Claim(ctx, c.Now(), 30*time.Second, 10)
	if err != nil || len(second) != 1 || second[0].ID != ids[0] {
		t.Fatalf("after the lease = %+v, %v", second, err)
	}
	if d := second[0]; d.Attempts != 1 || d.LastError == "" || !d.LeaseUntil.Equal(c.Now().Add(30*time.Second)) {
		t.Errorf("re-offered delivery = %+v; want Attempts 1, a LastError, a new lease", d)
	}
	// The second claimer sends; the first one, back from the dead, is told.
	if err := s.MarkSent(ctx, ids[0], "ts-2"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, ids[0], "ts-1"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("late MarkSent: %v, want ErrConflict", err)
	}
	d, err := s.Delivery(ctx, ids[0])
	if err != nil || d.State != store.DeliverySent || d.SentRef != "ts-2" || d.Attempts != 2 || d.LastError != "" || !d.LeaseUntil.IsZero() {
		t.Errorf("sent delivery = %+v, %v", d, err)
	}
}

func TestRetryAndFail(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	ids := enqueueN(t, s, 2, time.Time{})

	if err := s.MarkSent(ctx, ids[0], "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("MarkSent before Claim: %v, want ErrConflict", err)
	}
	if err := s.MarkSent(ctx, 999, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkSent unknown: %v, want ErrNotFound", err)
	}
	if ds, err := s.Claim(ctx, c.Now(), time.Minute, 10); err != nil || len(ds) != 2 {
		t.Fatalf("Claim = %d, %v", len(ds), err)
	}
	if err := s.MarkRetry(ctx, ids[0], "slack: rate limited", c.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFailed(ctx, ids[1], "discord: unknown channel"); err != nil {
		t.Fatal(err)
	}
	d, _ := s.Delivery(ctx, ids[0])
	if d.State != store.DeliveryPending || d.Attempts != 1 || d.LastError != "slack: rate limited" ||
		!d.NextAttempt.Equal(c.Now().Add(10*time.Second)) || !d.LeaseUntil.IsZero() {
		t.Errorf("retried = %+v", d)
	}
	d, _ = s.Delivery(ctx, ids[1])
	if d.State != store.DeliveryFailed || d.Attempts != 1 || d.LastError != "discord: unknown channel" {
		t.Errorf("failed = %+v", d)
	}
	if err := s.MarkRetry(ctx, ids[1], "again", c.Now()); !errors.Is(err, store.ErrConflict) {
		t.Errorf("MarkRetry on failed: %v, want ErrConflict", err)
	}
	if err := s.MarkRetry(ctx, ids[0], "x", time.Time{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("MarkRetry without time: %v, want ErrInvalid", err)
	}

	c.Advance(9 * time.Second)
	if ds, _ := s.Claim(ctx, c.Now(), time.Minute, 10); len(ds) != 0 {
		t.Fatalf("claimed before its retry time: %+v", ds)
	}
	c.Advance(time.Second)
	ds, err := s.Claim(ctx, c.Now(), time.Minute, 10)
	if err != nil || len(ds) != 1 || ds[0].ID != ids[0] || ds[0].Attempts != 1 {
		t.Fatalf("retry claim = %+v, %v", ds, err)
	}
	if _, err := s.Delivery(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivery unknown: %v, want ErrNotFound", err)
	}
}
