package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

// The outbox: everything the bot says, but the password, goes through the
// store first (store.Delivery) and is delivered by deliverLoop, so that a
// bot killed at any moment says it after the restart, once. Idempotency
// keys name what a delivery is ("ticket/ID/root", "ticket/ID/chat/KEY"):
// enqueueing the same thing twice is one delivery. Adapters get the key
// with the message and use it where the network can deduplicate; e-mail
// keeps one Message-ID per delivery.

// Delivery kinds.
const (
	kindPost = "post" // Payload: postPayload
	kindRoot = "root" // a ticket's thread root; its ref becomes Origin.Thread
	kindMail = "mail" // Payload: Mail
)

// postPayload is a chat message waiting in the outbox. InThread sends it
// in the ticket's thread (known only once the root is posted).
type postPayload struct {
	To       Place   `json:"to"`
	InThread bool    `json:"in_thread,omitempty"`
	Message  Message `json:"message"`
}

const (
	deliveryLease    = 30 * time.Second
	deliveryAttempts = 8
	deliveryPoll     = time.Second
)

// post queues a chat message; key makes it idempotent.
func (c *Core) post(ctx context.Context, ticket, network, key string, p postPayload) error {
	return c.enqueue(ctx, ticket, network, kindPost, key, p)
}

// say queues a message in the ticket's thread.
func (c *Core) say(ctx context.Context, t store.Ticket, key, text string) {
	p := postPayload{To: Place{Channel: t.Origin.ChannelID}, InThread: true, Message: Message{Text: text}}
	if err := c.post(ctx, t.ID, t.Origin.Network, "ticket/"+t.ID+"/"+key, p); err != nil {
		c.logger.Error("queueing a thread message", "ticket", t.ID, "err", err)
	}
}

func (c *Core) enqueue(ctx context.Context, ticket, channel, kind, key string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("bot: encoding a delivery: %w", err)
	}
	_, _, err = c.store.Enqueue(ctx, store.Delivery{Key: key, TicketID: ticket, Channel: channel, Kind: kind, Payload: b})
	if err != nil {
		return err
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return nil
}

// deliverLoop delivers the outbox until ctx ends.
func (c *Core) deliverLoop(ctx context.Context) {
	t := time.NewTicker(deliveryPoll)
	defer t.Stop()
	for {
		ds, err := c.store.Claim(ctx, c.now(), deliveryLease, 16)
		if err != nil && ctx.Err() == nil {
			c.logger.Error("reading the outbox", "err", err)
		}
		// In the order they were queued: a thread reads in order.
		slices.SortFunc(ds, func(a, b store.Delivery) int { return cmp.Compare(a.ID, b.ID) })
		for _, d := range ds {
			c.deliver(ctx, d)
		}
		if len(ds) == 16 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-t.C:
		}
	}
}

// errNotYet: the delivery waits for something else (a thread root).
var errNotYet = errors.New("bot: waiting for the ticket's thread")

func (c *Core) deliver(ctx context.Context, d store.Delivery) {
	ref, err := c.attempt(ctx, d)
	switch {
	case err == nil:
		c.countDelivery(d.Kind, "sent")
		if err := c.store.MarkSent(ctx, d.ID, ref); err != nil {
			c.logger.Error("marking a delivery sent", "key", d.Key, "err", err)
		}
		return
	case errors.Is(err, errNotYet):
		_ = c.store.MarkRetry(ctx, d.ID, err.Error(), c.now().Add(500*time.Millisecond))
		return
	case ctx.Err() != nil:
		return // the lease runs out; the next run retries
	}
	c.logger.Warn("delivery failed", "key", d.Key, "kind", d.Kind, "attempt", d.Attempts+1, "err", err)
	if errors.Is(err, ErrPermanent) || d.Attempts+1 >= deliveryAttempts {
		c.countDelivery(d.Kind, "failed")
		_ = c.store.MarkFailed(ctx, d.ID, err.Error())
		c.deliveryFailed(ctx, d, err)
		return
	}
	c.countDelivery(d.Kind, "retry")
	backoff := time.Second << min(d.Attempts, 6)
	_ = c.store.MarkRetry(ctx, d.ID, err.Error(), c.now().Add(backoff))
}

func (c *Core) attempt(ctx context.Context, d store.Delivery) (string, error) {
	switch d.Kind {
	case kindPost, kindRoot:
		var p postPayload
		if err := json.Unmarshal(d.Payload, &p); err != nil {
			return "", fmt.Errorf("%w: bad payload: %v", ErrPermanent, err)
		}
		n := c.nets[d.Channel]
		if n == nil {
			return "", fmt.Errorf("%w: network %q is not configured", ErrPermanent, d.Channel)
		}
		var t store.Ticket
		if d.TicketID != "" {
			var err error
			if t, err = c.store.Ticket(ctx, d.TicketID); err != nil {
				return "", err
			}
		}
		if p.InThread {
			if t.Origin.ThreadID == "" {
				return "", errNotYet
			}
			p.To.Channel, p.To.Thread = t.Origin.ChannelID, t.Origin.ThreadID
			p.To.User = t.Requester.UserID
			p.To.Workspace = t.Requester.Workspace
		}
		p.Message.Key = d.Key
		ref, err := n.Send(ctx, p.To, p.Message)
		if err != nil {
			return "", err
		}
		if d.Kind == kindRoot {
			if err := c.setThread(ctx, d.TicketID, string(ref)); err != nil {
				return "", err
			}
		}
		return string(ref), nil
	case kindMail:
		var m Mail
		if err := json.Unmarshal(d.Payload, &m); err != nil {
			return "", fmt.Errorf("%w: bad payload: %v", ErrPermanent, err)
		}
		if c.cfg.Mail == nil {
			return "", fmt.Errorf("%w: no mail server configured", ErrPermanent)
		}
		if err := c.cfg.Mail.Send(ctx, m); err != nil {
			return "", err
		}
		if d.TicketID != "" {
			c.updateTicket(ctx, d.TicketID, func(t *store.Ticket) {
				if t.EmailThread.RootMessageID == "" {
					t.EmailThread.RootMessageID = m.MessageID
				}
				t.EmailThread.LastMessageID = m.MessageID
			})
		}
		return m.MessageID, nil
	}
	return "", fmt.Errorf("%w: unknown delivery kind %q", ErrPermanent, d.Kind)
}

// setThread records a ticket's thread root.
func (c *Core) setThread(ctx context.Context, ticket, ref string) error {
	return c.updateTicket(ctx, ticket, func(t *store.Ticket) { t.Origin.ThreadID = ref })
}

// updateTicket applies fn to the ticket, retrying on a concurrent change.
func (c *Core) updateTicket(ctx context.Context, id string, fn func(*store.Ticket)) error {
	for range 10 {
		t, err := c.store.Ticket(ctx, id)
		if err != nil {
			return err
		}
		fn(&t)
		if _, err = c.store.UpdateTicket(ctx, t); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("bot: ticket %s keeps changing", id)
}

// deliveryFailed tells the ticket's thread that something could not be
// delivered.
func (c *Core) deliveryFailed(ctx context.Context, d store.Delivery, err error) {
	if d.TicketID == "" || d.Kind == kindRoot {
		return
	}
	t, terr := c.store.Ticket(ctx, d.TicketID)
	if terr != nil {
		return
	}
	what := "a message"
	if d.Kind == kindMail {
		var m Mail
		_ = json.Unmarshal(d.Payload, &m)
		what = "the e-mail to " + m.To
	}
	c.say(ctx, t, fmt.Sprintf("failed/%d", d.ID), fmt.Sprintf("Could not deliver %s: %v", what, err))
}
