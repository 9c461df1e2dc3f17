package host

import (
	"testing"
	"time"

	"github.com/gethelp/gethelp/session/screen"
)

func TestAdaptStepsDownOnSlowAcksAndBackUp(t *testing.T) {
	var a adapt
	now := time.Unix(1000, 0)
	seq := uint32(0)
	send := func(ackAfter time.Duration) bool {
		seq++
		a.sent(seq, now)
		now = now.Add(ackAfter)
		return a.acked(seq, now, screen.Full)
	}
	if send(20 * time.Millisecond); a.effective(screen.Full) != screen.Full {
		t.Fatalf("stepped down on a quick ack")
	}
	// A link that needs a second per update: one step down, then held.
	for range 3 {
		send(time.Second)
	}
	if got := a.effective(screen.Full); got != screen.High {
		t.Fatalf("after slow acks: %v, want high", got)
	}
	for range 4 {
		send(time.Second)
	}
	if got := a.effective(screen.Full); got >= screen.High {
		t.Fatalf("still slow after the hold: %v, want below high", got)
	}
	// Never below low.
	for range 20 {
		send(time.Second)
	}
	if got := a.effective(screen.Full); got != screen.Low {
		t.Fatalf("floor: %v", got)
	}
	// A fast link again: back up one step after a run of quick acks.
	for range upAfter + 60 {
		send(10 * time.Millisecond)
	}
	if got := a.effective(screen.Full); got <= screen.Low {
		t.Fatalf("did not step back up: %v", got)
	}
	// Never above the setting.
	if got := a.effective(screen.Medium); got > screen.Medium {
		t.Fatalf("above the setting: %v", got)
	}
}
