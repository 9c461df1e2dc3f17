package bottest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
)

// Timeout bounds every wait.
const Timeout = 10 * time.Second

// Core is a bot.Handler that records the calls it is given (bot.Command,
// bot.Post and bot.Press values, in the order they came) and answers them.
// Unless told otherwise with OnCommand and OnButton, a command is answered
// "ok: TEXT" and a press "pressed ACTION VALUE", so that a test can tell
// which of the two an adapter called.
//
// Its zero value is ready to use; its methods may be called from any
// goroutine.
type Core struct {
	mu       sync.Mutex
	command  func(bot.Command) bot.Reply // guarded by mu; nil: the default answer
	button   func(bot.Press) bot.Reply   // guarded by mu; nil: the default answer
	calls    []any                       // guarded by mu
	inside   int                         // guarded by mu: calls running now
	overlaps int                         // guarded by mu: calls that began while another ran
	changed  chan struct{}               // guarded by mu: closed on every call; nil until waited on
}

var _ bot.Handler = (*Core)(nil)

// OnCommand makes Command answer with f from now on; nil restores the
// default, "ok: TEXT". f runs outside Core's lock: it may block.
func (c *Core) OnCommand(f func(bot.Command) bot.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.command = f
}

// OnButton makes Button answer with f from now on; nil restores the
// default, "pressed ACTION VALUE". f runs outside Core's lock: it may
// block.
func (c *Core) OnButton(f func(bot.Press) bot.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.button = f
}

// Reset forgets the calls so far, and the overlaps, and restores the
// default answers: c is as new for the next test on the same adapter.
func (c *Core) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.command, c.button, c.calls, c.overlaps = nil, nil, nil, 0
}

// Command records cmd and answers it.
func (c *Core) Command(ctx context.Context, cmd bot.Command) bot.Reply {
	f, _ := c.enter(cmd)
	defer c.leave()
	if f != nil {
		return f(cmd)
	}
	return bot.Reply{Text: "ok: " + cmd.Text}
}

// Post records p.
func (c *Core) Post(ctx context.Context, p bot.Post) {
	c.enter(p)
	c.leave()
}

// Button records p and answers it.
func (c *Core) Button(ctx context.Context, p bot.Press) bot.Reply {
	_, f := c.enter(p)
	defer c.leave()
	if f != nil {
		return f(p)
	}
	return bot.Reply{Text: "pressed " + p.Action + " " + p.Value}
}

// enter records call as running, and returns the answers set by then.
func (c *Core) enter(call any) (command func(bot.Command) bot.Reply, button func(bot.Press) bot.Reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inside > 0 {
		c.overlaps++
	}
	c.inside++
	c.calls = append(c.calls, call)
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
	return c.command, c.button
}

func (c *Core) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inside--
}

// Calls returns the calls so far, oldest first: bot.Command, bot.Post and
// bot.Press values.
func (c *Core) Calls() []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]any(nil), c.calls...)
}

// Commands returns the commands so far, oldest first.
func (c *Core) Commands() []bot.Command { return callsOf[bot.Command](c.Calls()) }

// Posts returns the posts so far, oldest first.
func (c *Core) Posts() []bot.Post { return callsOf[bot.Post](c.Calls()) }

// Presses returns the button presses so far, oldest first.
func (c *Core) Presses() []bot.Press { return callsOf[bot.Press](c.Calls()) }

// callsOf returns the calls of type T.
func callsOf[T any](calls []any) []T {
	var out []T
	for _, call := range calls {
		if v, ok := call.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Overlaps returns how many calls began while another was running (an
// adapter's Run must make none).
func (c *Core) Overlaps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.overlaps
}

// WaitCalls waits until ok accepts the calls so far, and returns them,
// failing the test after Timeout; what says what is awaited.
func (c *Core) WaitCalls(t testing.TB, what string, ok func(calls []any) bool) []any {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		c.mu.Lock()
		calls := append([]any(nil), c.calls...)
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		if ok(calls) {
			return calls
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; calls: %+v", what, calls)
		}
	}
}

// WaitPosts waits until at least n posts have come, and returns all the
// posts by then (n or more), failing the test after Timeout.
func (c *Core) WaitPosts(t testing.TB, n int) []bot.Post {
	t.Helper()
	c.WaitCalls(t, fmt.Sprintf("%d posts", n), func(calls []any) bool { return len(callsOf[bot.Post](calls)) >= n })
	return c.Posts()
}

// Wait returns the first call of type T (bot.Command, bot.Post or
// bot.Press) that ok accepts, waiting for it, and fails the test after
// Timeout; what says what is awaited.
func Wait[T any](t testing.TB, c *Core, what string, ok func(T) bool) T {
	t.Helper()
	var found T
	c.WaitCalls(t, what, func(calls []any) bool {
		for _, call := range callsOf[T](calls) {
			if ok(call) {
				found = call
				return true
			}
		}
		return false
	})
	return found
}
