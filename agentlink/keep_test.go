package agentlink_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
)

// sleeper is an injected Backoff.Sleep: it reports each wait and returns at
// once.
type sleeper chan time.Duration

func (s sleeper) sleep(ctx context.Context, d time.Duration) error {
	select {
	case s <- d:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestKeepBacksOff(t *testing.T) {
	b := startBot(t)
	cfg := b.clientConfig(t, "x")
	cfg.BotPin = agentlink.Pin(newCert(t)) // every dial fails
	waits := make(sleeper)
	var notified []error
	backoff := agentlink.Backoff{
		Min: time.Second, Max: 8 * time.Second, Sleep: waits.sleep,
		Notify: func(err error, _ time.Duration) { notified = append(notified, err) },
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		done <- agentlink.Keep(ctx, cfg, backoff, func(context.Context, *agentlink.Conn) error {
			t.Error("serve called although every dial fails")
			return nil
		})
	}()
	for i, max := range []time.Duration{1, 2, 4, 8, 8, 8} {
		max *= time.Second
		d := <-waits
		if d < max/2 || d > max {
			t.Errorf("wait %d: %v, want between %v and %v", i, d, max/2, max)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Keep returned %v", err)
	}
	for _, err := range notified {
		if !errors.Is(err, agentlink.ErrPinMismatch) {
			t.Errorf("notified %v, want the pin mismatch", err)
		}
	}
}

func TestKeepReconnects(t *testing.T) {
	b := startBot(t)
	cfg := b.clientConfig(t, "ann-laptop")
	waits := make(sleeper, 10)
	ctx, cancel := context.WithCancel(testCtx(t))
	served := make(chan *agentlink.Conn)
	done := make(chan error, 1)
	go func() {
		done <- agentlink.Keep(ctx, cfg, agentlink.Backoff{Sleep: waits.sleep}, func(ctx context.Context, c *agentlink.Conn) error {
			served <- c
			for {
				if _, err := c.Receive(ctx); err != nil {
					return err
				}
			}
		})
	}()
	var keys []string
	for i := range 3 {
		<-served
		s, err := b.srv.Accept(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, s.AgentKey())
		s.Close("the bot restarts")
		if d := <-waits; d < agentlink.DefaultMinBackoff/2 || d > agentlink.DefaultMinBackoff {
			t.Errorf("reconnect %d waited %v, want the minimum (a connection that worked resets the backoff)", i, d)
		}
	}
	if keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("the agent's key changed across reconnects: %v", keys)
	}
	<-served // the fourth connection
	s, err := b.srv.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Keep returned %v", err)
	}
	// Keep said goodbye on its way out.
	_, err = s.Receive(testCtx(t))
	var ce *agentlink.ClosedError
	if !errors.As(err, &ce) || !ce.ByPeer || ce.Reason != "the agent is stopping" || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("bot got %v", err)
	}
}
