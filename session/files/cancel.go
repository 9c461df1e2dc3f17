package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// deadliner is a stream whose blocked reads and writes a deadline can end:
// net.Conn, *quic.Stream.
type deadliner interface {
	SetDeadline(time.Time) error
}

// readDeadliner is a stream whose blocked reads a deadline can end.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// longAgo is a deadline in the past: setting it ends blocked I/O now.
var longAgo = time.Unix(1, 0)

// interruptOnDone arranges for I/O blocked on rw to return once ctx is done:
// it sets a deadline in the past when rw has SetDeadline, or else closes rw
// when it is an io.Closer. Otherwise nothing can interrupt rw and the loops
// notice ctx only between reads and writes. The returned stop must be called
// before the caller returns; once it has returned, the interrupting function
// has either finished or will never run, so nothing outlives the call.
func interruptOnDone(ctx context.Context, rw io.ReadWriter) (stop func()) {
	var interrupt func()
	switch s := rw.(type) {
	case deadliner:
		interrupt = func() { s.SetDeadline(longAgo) }
	case io.Closer:
		interrupt = func() { s.Close() }
	default:
		return func() {}
	}
	finished := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		defer close(finished)
		interrupt()
	})
	return func() {
		if !stopAfter() {
			<-finished // it started: wait until it is done with rw
		}
	}
}

// streamError wraps an error from the stream with what was happening. If
// ctx is done, the I/O error is almost surely the interruption, so ctx's
// error is returned instead.
func streamError(ctx context.Context, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("files: %s: %w", what, cerr)
	}
	if errors.Is(err, ErrProtocol) {
		return err
	}
	return fmt.Errorf("files: %s: %w", what, err)
}

// isTimeout reports whether err is a deadline expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
