package x11

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// What every connection of the package shares: opening it, reading it,
// and the error for its loss.

// openDisplay connects to display's X server and checks that the default
// screen the display names exists, so xproto.Setup(conn).DefaultScreen(conn)
// is safe. It returns "x11: cannot open display …" or "x11: display … has
// no screen N"; the connection is closed on error.
func openDisplay(display string) (*xgb.Conn, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("x11: cannot open display %s: %w", display, err)
	}
	if n := conn.DefaultScreen; n < 0 || n >= len(xproto.Setup(conn).Roots) {
		conn.Close()
		return nil, fmt.Errorf("x11: display %s has no screen %d", display, n)
	}
	return conn, nil
}

// xevents yields the events and errors (one of the two non-nil) that
// arrive on conn until the connection closes (Close, or the server went
// away). It is for the one goroutine that reads a connection, which must
// not wait for anything but xgb's queue.
func xevents(conn *xgb.Conn) iter.Seq2[xgb.Event, xgb.Error] {
	return func(yield func(xgb.Event, xgb.Error) bool) {
		for {
			ev, xerr := conn.WaitForEvent()
			if ev == nil && xerr == nil || !yield(ev, xerr) {
				return
			}
		}
	}
}

// lostError returns an error wrapping ErrLost for display's connection;
// cause, when not nil, is named in it (not wrapped).
func lostError(display string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w (display %s)", ErrLost, display)
	}
	return fmt.Errorf("%w (display %s: %v)", ErrLost, display, cause)
}

// requestError turns err, from a request on display's connection that is
// neither closed nor known lost, into the one to return: ErrLost if the
// connection ended under it, else err with what the request did.
func requestError(display, what string, err error) error {
	if errors.Is(err, io.EOF) { // the reader has not noticed yet
		return lostError(display, nil)
	}
	return fmt.Errorf("x11: %s: %w", what, err)
}
