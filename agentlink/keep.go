package agentlink

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"
)

// Default backoff between attempts to reach the bot.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
)

// Backoff is how Keep waits between attempts. The zero value waits 1s,
// 2s, 4s ... up to 60s, each wait jittered (between half and all of it),
// on a real timer.
type Backoff struct {
	// Min is the first wait, and the wait after a connection that worked;
	// zero means DefaultMinBackoff.
	Min time.Duration
	// Max bounds the wait; zero means DefaultMaxBackoff.
	Max time.Duration
	// Sleep waits d or until ctx ends, returning ctx's error then; nil
	// means a timer. Tests inject one to see the waits without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Notify, when set, is told before each wait why the link is down
	// (the dial error, or how the last connection ended) and how long
	// the wait is.
	Notify func(err error, wait time.Duration)
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultMinBackoff
	}
	if b.Max <= 0 {
		b.Max = DefaultMaxBackoff
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	if b.Sleep == nil {
		b.Sleep = sleep
	}
	return b
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter returns a wait between d/2 and d, so that many agents cut off at
// once (the bot restarted) do not all come back in the same instant.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// Keep keeps the agent connected: it dials the bot, calls serve with the
// connection and, when serve returns or the connection cannot be made,
// closes it, waits (exponential backoff, reset by every successful dial)
// and dials again, until ctx ends. serve should return when the
// connection ends (its Receive fails) or ctx ends; what it returns is
// logged and passed to Backoff.Notify. Keep returns ctx's error.
func Keep(ctx context.Context, cfg ClientConfig, backoff Backoff, serve func(ctx context.Context, c *Conn) error) error {
	b := backoff.withDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "agentlink", "bot", cfg.Addr)
	delay := b.Min
	for {
		c, err := Dial(ctx, cfg)
		if err == nil {
			delay = b.Min
			logger.Info("connected to the bot")
			serr := serve(ctx, c)
			reason := "the agent reconnects"
			switch {
			case ctx.Err() != nil:
				reason = "the agent is stopping"
			case serr != nil && !errors.Is(serr, net.ErrClosed):
				reason = serr.Error()
			}
			c.Close(reason)
			err = c.Err()
			if serr != nil && !errors.Is(serr, net.ErrClosed) {
				err = serr
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := jitter(delay)
		logger.Info("the link to the bot is down; trying again later", "err", err, "wait", wait)
		if b.Notify != nil {
			b.Notify(err, wait)
		}
		if err := b.Sleep(ctx, wait); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		delay = min(delay*2, b.Max)
	}
}
