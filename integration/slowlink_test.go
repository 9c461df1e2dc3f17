package integration_test

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// noise is a screen that changes completely, with incompressible pixels,
// fps times a second whether or not anyone captures it: far more than a
// thin link can carry.
type noise struct {
	img   *screen.Image
	fps   int
	rng   *rand.Rand
	start time.Time
	last  int // the last frame number captured
}

func (n *noise) frame(t time.Time) int {
	return int(t.Sub(n.start) * time.Duration(n.fps) / time.Second)
}

func (n *noise) Next(ctx context.Context) (host.Capture, error) {
	if n.start.IsZero() {
		n.start = time.Now()
	}
	// Wait for the screen's next change, then capture its current state.
	next := n.start.Add(time.Duration(n.last+1) * time.Second / time.Duration(n.fps))
	select {
	case <-time.After(time.Until(next)):
	case <-ctx.Done():
		return host.Capture{}, ctx.Err()
	}
	n.last = n.frame(time.Now())
	for i := range n.img.Pix {
		n.img.Pix[i] = byte(n.rng.Uint32())
	}
	return host.Capture{Image: n.img, Dirty: []screen.Rect{n.img.Bounds()}}, nil
}

func (n *noise) Monitors() []host.Monitor {
	return []host.Monitor{{Name: "noise", Rect: n.img.Bounds(), Primary: true}}
}
func (n *noise) Close() error { return nil }

// TestThinLinkKeepsLatencyBounded shares a screen that changes far faster
// than a 4 Mbit/s, 30 ms link can carry. The viewer's acknowledgements pace
// the host, so updates do not queue up: what arrives is recent, and the
// delay does not grow the longer the session runs.
func TestThinLinkKeepsLatencyBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := &noise{img: screen.NewImage(320, 200), fps: 30, rng: rand.New(rand.NewPCG(1, 2))}
	h, err := host.New(host.Config{
		ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice",
		Source: src, Level: screen.Full, Monitor: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()

	inv := *h.Invitation()
	hostAddr := net.UDPAddrFromAddrPort(inv.Addresses[0])
	link := newSlowLink(t, hostAddr, 15*time.Millisecond, 4e6, 256<<10)
	inv.Addresses = []netip.AddrPort{link.addr().AddrPort()}

	type frame struct {
		at      time.Time
		latency time.Duration
		bytes   int
	}
	var mu sync.Mutex
	var frames []frame
	v, err := viewer.Open(ctx, viewer.Config{
		Invitation: &inv, Password: h.Password(), Name: "Bob",
		OnEvent: func(e viewer.Event) {
			if e.Type == viewer.EventFrame {
				mu.Lock()
				frames = append(frames, frame{time.Now(), time.Duration(e.LatencyMs * float64(time.Millisecond)), e.Bytes})
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()

	const run = 8 * time.Second
	time.Sleep(run)
	v.Disconnect("test over")
	<-viewerDone
	cancel()
	<-hostDone

	mu.Lock()
	defer mu.Unlock()
	made := int(run) * src.fps / int(time.Second) // frames the screen went through
	if len(frames) < 4 {
		t.Fatalf("only %d frames arrived in %v", len(frames), run)
	}
	// Latest wins: most frames the source made were never sent.
	if len(frames) > made/2 {
		t.Errorf("%d of %d frames were sent: the host is not skipping stale frames", len(frames), made)
	}
	// Bounded: the frames of the second half are no staler than those of
	// the first half (plus slack); a queue would make them grow steadily.
	// An unpaced host would be tens of seconds behind by now.
	half := frames[0].at.Add(run / 2)
	var early, late time.Duration
	for _, f := range frames {
		if f.at.Before(half) {
			early = max(early, f.latency)
		} else {
			late = max(late, f.latency)
		}
	}
	t.Logf("%d frames of %d made; worst latency first half %v, second half %v", len(frames), made, early, late)
	if late > 2*early+time.Second {
		t.Errorf("latency grew from %v to %v: updates are queuing", early, late)
	}
	if late > 5*time.Second {
		t.Errorf("worst latency %v on a 4 Mbit/s link with ~200 KB updates", late)
	}
}
