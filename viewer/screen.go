package viewer

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"sync"
	"time"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// Screen event types.
const (
	EventFrame     = "frame"
	EventSnapshot  = "snapshot"
	EventBandwidth = "bandwidth"
	EventMonitors  = "monitors"
	EventSharing   = "sharing"
)

// ErrNoFrame: nothing of the screen has arrived yet.
var ErrNoFrame = errors.New("viewer: no screen image received yet")

// ScreenUpdate is one applied screen update, for a UI to replay on its
// canvas: Ops in order, pixels read with Framebuffer.
type ScreenUpdate struct {
	Seq     uint32
	Ops     []screen.Op
	W, H    int
	Latency time.Duration // capture on the host to applied here (same clock only)
}

// framebuffer is the screen as received, guarded by mu.
type framebuffer struct {
	mu      sync.Mutex
	dec     *screen.Decoder
	subs    map[chan ScreenUpdate]struct{}
	pointer PointerState
}

// Framebuffer calls fn with the current screen image (nil before the first
// update), holding it still while fn runs.
func (v *Viewer) Framebuffer(fn func(*screen.Image)) {
	v.fb.mu.Lock()
	defer v.fb.mu.Unlock()
	fn(v.fb.dec.Image())
}

// SubscribeScreen returns a channel of applied updates, and a function to
// stop. A subscriber that falls behind misses updates and should redraw the
// whole framebuffer when it sees a gap in Seq.
func (v *Viewer) SubscribeScreen() (<-chan ScreenUpdate, func()) {
	ch := make(chan ScreenUpdate, 64)
	v.fb.mu.Lock()
	v.fb.subs[ch] = struct{}{}
	v.fb.mu.Unlock()
	return ch, func() {
		v.fb.mu.Lock()
		delete(v.fb.subs, ch)
		v.fb.mu.Unlock()
	}
}

// receiveScreen applies the host's screen updates until the session ends.
func (v *Viewer) receiveScreen(ctx context.Context) {
	r, err := v.session().AcceptChannel(ctx, session.ChannelScreen, session.MaxScreenFrame)
	if err != nil {
		return // the session ended, or the host shares no screen
	}
	defer r.Cancel()
	for {
		p, err := r.ReadFrame()
		if err != nil {
			if ctx.Err() == nil && v.session().Err() == nil {
				v.logger.Warn("screen channel failed", "err", err)
			}
			return
		}
		if err := v.applyScreen(p); err != nil {
			v.logger.Error("bad screen update", "err", err)
			v.session().Close("the helper's gethelp received a corrupt screen update")
			return
		}
	}
}

func (v *Viewer) applyScreen(p []byte) error {
	f, err := session.ParseScreenFrame(p)
	if err != nil {
		return err
	}
	v.fb.mu.Lock()
	ops, err := v.fb.dec.Decode(f.Update)
	img := v.fb.dec.Image()
	var u ScreenUpdate
	if err == nil {
		u = ScreenUpdate{Seq: f.Seq, Ops: ops, W: img.W, H: img.H, Latency: time.Since(f.Captured)}
		for ch := range v.fb.subs {
			select {
			case ch <- u:
			default: // a slow UI misses this one and redraws on the gap
			}
		}
	}
	v.fb.mu.Unlock()
	if err != nil {
		return err
	}
	if err := v.session().Send(session.Message{Type: session.TypeScreenAck, Seq: f.Seq}); err != nil {
		return nil // the session is ending
	}
	v.emit(Event{Type: EventFrame, Seq: f.Seq, W: u.W, H: u.H, Bytes: len(p), LatencyMs: ms(u.Latency)})
	return nil
}

// Snapshot writes the screen as received (without the pointer drawn over
// it) to path as PNG.
func (v *Viewer) Snapshot(path string) error {
	var err error
	v.Framebuffer(func(img *screen.Image) {
		if img == nil {
			err = ErrNoFrame
			return
		}
		rgba := img.RGBA()
		var f *os.File
		if f, err = os.Create(path); err != nil {
			return
		}
		if err = png.Encode(f, rgba); err != nil {
			f.Close()
			return
		}
		err = f.Close()
	})
	if err != nil {
		return fmt.Errorf("viewer: snapshot: %w", err)
	}
	v.emit(Event{Type: EventSnapshot, Path: path})
	return nil
}

// SetBandwidth asks the host for another bandwidth level.
func (v *Viewer) SetBandwidth(lv screen.Level) error {
	return v.session().Send(session.Message{Type: session.TypeBandwidth, Level: lv.String()})
}

// ShowMonitor asks the host to show monitor i (-1: all).
func (v *Viewer) ShowMonitor(i int) error {
	return v.session().Send(session.Message{Type: session.TypeMonitor, Monitor: &i})
}
