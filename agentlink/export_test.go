package agentlink

import (
	"testing"
	"time"
)

// SetTimeouts shortens the link's timers for one test: the idle timeout
// (keep-alives at a third of it), the hello and handshake timeout, and the
// goodbye grace.
func SetTimeouts(t testing.TB, idle, hello, grace time.Duration) {
	oldKeep, oldIdle, oldHello, oldGrace := keepAlivePeriod, maxIdleTimeout, helloTimeout, byeGrace
	keepAlivePeriod, maxIdleTimeout, helloTimeout, byeGrace = idle/3, idle, hello, grace
	t.Cleanup(func() {
		keepAlivePeriod, maxIdleTimeout, helloTimeout, byeGrace = oldKeep, oldIdle, oldHello, oldGrace
	})
}
