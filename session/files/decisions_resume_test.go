package files_test

import (
	"context"
	"testing"
	"time"

	"github.com/gethelp/gethelp/session/files"
)

// The same file offered again after a lost connection is accepted without
// asking the person again, until its transfer is done.
func TestDecisionsRememberAcceptedUntilDone(t *testing.T) {
	var d files.Decisions
	o := files.Offer{ID: "0123456789abcdef0123456789abcdef", Name: "a.txt", Size: 3}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	asked := make(chan struct{}, 4)
	ask := func(files.Offer) { asked <- struct{}{} }
	first := make(chan error, 1)
	go func() { first <- d.Wait(ctx, o, ask) }()
	<-asked
	if err := d.Decide(o.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first offer: %v", err)
	}
	// Offered again (the connection was lost): no question.
	if err := d.Wait(ctx, o, ask); err != nil {
		t.Fatalf("second offer: %v", err)
	}
	if len(asked) != 0 {
		t.Fatal("the person was asked again")
	}
	// Done: a later offer of the same file is a new question.
	d.Done(o.ID)
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if err := d.Wait(short, o, ask); err == nil {
		t.Fatal("an offer after Done was accepted unasked")
	}
	if len(asked) != 1 {
		t.Fatal("the person was not asked after Done")
	}
	<-asked
	// A declined offer is not remembered.
	var d2 files.Decisions
	go func() { <-asked; d2.Decide(o.ID, false) }()
	if err := d2.Wait(ctx, o, ask); err == nil {
		t.Fatal("declined offer accepted")
	}
	short2, stop2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop2()
	if err := d2.Wait(short2, o, ask); err == nil {
		t.Fatal("a declined file was accepted unasked when offered again")
	}
}
