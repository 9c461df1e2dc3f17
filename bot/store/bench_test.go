package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

// BenchmarkEnqueueClaimSent is the outbox's full path for one message:
// Enqueue, Claim, MarkSent — three write transactions, each fsynced.
func BenchmarkEnqueueClaimSent(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, nil)
	payload := []byte(`{"channel":"C01","thread_ts":"1700000000.000100","text":"Bob is on his way"}`)
	i := 0
	for b.Loop() {
		d, _, err := s.Enqueue(ctx, store.Delivery{Key: fmt.Sprint("k", i), Channel: "slack", Kind: "post", Payload: payload})
		if err != nil {
			b.Fatal(err)
		}
		ds, err := s.Claim(ctx, time.Now(), time.Minute, 1)
		if err != nil || len(ds) != 1 {
			b.Fatal(ds, err)
		}
		if err := s.MarkSent(ctx, d.ID, "ts"); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkEnqueueMarkSent enqueues and marks sent with Claim in batches of
// 32, as a busy sender would.
func BenchmarkEnqueueMarkSent(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, nil)
	payload := []byte(`{"channel":"C01","text":"hello"}`)
	i := 0
	for b.Loop() {
		if _, _, err := s.Enqueue(ctx, store.Delivery{Key: fmt.Sprint("k", i), Channel: "slack", Kind: "post", Payload: payload}); err != nil {
			b.Fatal(err)
		}
		i++
		if i%32 == 0 {
			ds, err := s.Claim(ctx, time.Now(), time.Minute, 32)
			if err != nil {
				b.Fatal(err)
			}
			for _, d := range ds {
				if err := s.MarkSent(ctx, d.ID, "ts"); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTicketRead is a read through the reader pool.
func BenchmarkTicketRead(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, nil)
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice, Description: "printer"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Ticket(ctx, tk.ID); err != nil {
			b.Fatal(err)
		}
	}
}
