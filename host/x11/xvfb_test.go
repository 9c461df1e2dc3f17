package x11

import (
	"testing"

	"github.com/gethelp/gethelp/host/x11/x11test"
)

// The tests' X servers come from x11test; these names keep the tests short.

type Nested = x11test.Nested

func StartXvfb(t testing.TB, w, h, depth int) (display string, stop func()) {
	t.Helper()
	return x11test.StartXvfb(t, w, h, depth)
}

func StartNested(t testing.TB, w, h int) *Nested {
	t.Helper()
	return x11test.StartNested(t, w, h)
}

func Xdotool(t testing.TB, display string, args ...string) string {
	t.Helper()
	return x11test.Xdotool(t, display, args...)
}
