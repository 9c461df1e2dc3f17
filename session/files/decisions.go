package files

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrNoOffer is returned by Decisions.Decide for an id nobody is waiting on.
var ErrNoOffer = errors.New("files: no file offer with that id is waiting for an answer")

// Decisions connects Inbox.Receive's decide callback to the person's
// answer, which arrives elsewhere (a button, a --json command). Its zero
// value is ready to use.
type Decisions struct {
	mu       sync.Mutex
	waiting  map[string]chan bool // by Offer.ID; guarded by mu
	accepted map[string]bool      // guarded by mu: accepted, not yet Done (offered again after a lost connection)
}

// Done forgets that the offer id was accepted: its file has arrived, or
// will not. Until then the same file offered again (after a resumed
// connection) is accepted without asking again.
func (d *Decisions) Done(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.accepted, id)
}

// Wait is a decide callback: it blocks until Decide is called for the
// offer's ID, returning nil for accept and ErrDeclined for decline, or
// until ctx ends. ask is called once the answer can be taken, to show the
// offer to the person.
func (d *Decisions) Wait(ctx context.Context, o Offer, ask func(Offer)) error {
	ch := make(chan bool, 1)
	d.mu.Lock()
	if d.accepted[o.ID] {
		d.mu.Unlock()
		return nil // accepted before the connection was lost
	}
	if d.waiting == nil {
		d.waiting = make(map[string]chan bool)
	}
	d.waiting[o.ID] = ch
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if d.waiting[o.ID] == ch {
			delete(d.waiting, o.ID)
		}
		d.mu.Unlock()
	}()
	if ask != nil {
		ask(o)
	}
	select {
	case ok := <-ch:
		if !ok {
			return ErrDeclined
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Decide answers the offer with id; it returns ErrNoOffer when no offer
// with that id awaits an answer.
func (d *Decisions) Decide(id string, accept bool) error {
	d.mu.Lock()
	ch, ok := d.waiting[id]
	delete(d.waiting, id)
	if ok && accept {
		if d.accepted == nil {
			d.accepted = make(map[string]bool)
		}
		d.accepted[id] = true
	}
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoOffer, id)
	}
	ch <- accept
	return nil
}
