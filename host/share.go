package host

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// window is how many screen updates may be unacknowledged at once. The
// viewer acknowledges each update once it has drawn it; the host captures
// and encodes the next only when fewer than window are in flight, so a slow
// link never queues stale frames: changes pile up in the source's damage
// and go out as one fresh update (latest wins).
const window = 2

// frameInterval is the shortest time between two updates at each level.
var frameInterval = map[screen.Level]time.Duration{
	screen.Low:    200 * time.Millisecond,
	screen.Medium: 50 * time.Millisecond,
	screen.High:   16 * time.Millisecond,
	screen.Full:   16 * time.Millisecond,
}

// While content changes faster than anyone can follow (a log scrolling
// past, a video), every update re-sends most of what the one before sent,
// and the frames in between cost bytes and CPU for nothing anyone can read.
// So once busyUpdates updates in a row have each sent pixels over at least
// busyShare of the shared area, less than busyGap apart, the sharer waits
// busyInterval between updates, until an update is smaller again. Copied
// pixels do not count: a dragged window or a short scroll stays smooth, and
// typing never comes near. On the desktop workload (an xterm printing 30
// lines every 50 ms) this sends 5 updates a second instead of 20 while the
// log scrolls, with the same last picture.
const (
	busyShare    = 1.0 / 16
	busyUpdates  = 2
	busyGap      = 250 * time.Millisecond
	busyInterval = 200 * time.Millisecond
)

// shareCmd changes what the sharer does; sent by Run from control messages
// and by the person's UI.
type shareCmd struct {
	ack     uint32 // screen_ack
	level   *screen.Level
	monitor *int // -1: all
	paused  *bool
	privacy bool // look at the window list again
}

// ShareStats is a summary of what screen sharing sent in a session.
type ShareStats struct {
	Updates int
	Bytes   int64
}

// sharer streams one source to one session.
//
// One goroutine (run) does the work of an update in a row: it waits for
// the source's next capture, checks privacy, encodes and sends, with no
// hand-off between goroutines on the way (with an idle processor, each
// hand-off wakes a thread). Acknowledgements do not wake it unless it
// waits for room in the window (see ack). Other commands are queued for
// it, and interrupt its wait for the source. A capture that returns while
// sharing is paused is dropped: resuming asks for the whole screen.
type sharer struct {
	h    *Host
	conn *session.Conn
	src  Source
	cmds chan shareCmd

	// Owned by run:
	level    screen.Level // the setting: the most the link may be asked to carry
	monitor  int          // -1: all
	paused   bool
	blank    bool          // a secure prompt is up: the view is blanked
	masked   []screen.Rect // painted black in the previous frame
	enc      *screen.Encoder
	lastSent time.Time
	stats    ShareStats
	dirty    []screen.Rect // scratch for send
	moves    []screen.Move // scratch for send
	frame    []byte        // scratch for send: the last payload

	busy     int       // updates in a row that sent a busyShare of the area, less than busyGap apart
	lastBusy time.Time // when the last of them was captured

	wins []Window // the window list read with the last capture sent, for move hints; nil if none

	mu       sync.Mutex // guards the fields below, shared with ack and interrupt
	seq      uint32     // of the last update sent
	acked    uint32
	auto     adapt        // how far below the setting the link allows
	setting  screen.Level // = level, for ack
	waiting  bool         // run waits for room: an ack signals room
	room     chan struct{}
	stopNext context.CancelFunc // ends run's pending Next; nil when none
}

func newSharer(h *Host, conn *session.Conn, src Source, level screen.Level, monitor int) *sharer {
	if monitor < -1 {
		monitor = -1
	}
	return &sharer{h: h, conn: conn, src: src, cmds: make(chan shareCmd, 16),
		level: level, setting: level, monitor: monitor, room: make(chan struct{}, 1)}
}

// run streams until ctx ends or the session fails; the returned stats say
// what was sent.
func (s *sharer) run(ctx context.Context) (ShareStats, error) {
	w, err := s.conn.OpenChannel(ctx, session.ChannelScreen)
	if err != nil {
		return s.stats, err
	}
	defer w.Close()
	s.enc = screen.NewEncoder()
	s.sendMonitors()
	if s.paused {
		_ = s.conn.Send(session.Message{Type: session.TypeSharing, Paused: true})
	}

	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	for {
		for drained := false; !drained; {
			select {
			case cmd := <-s.cmds:
				s.apply(ctx, cmd)
			default:
				drained = true
			}
		}
		if err := ctx.Err(); err != nil {
			return s.stats, err
		}
		wait := s.interval() - time.Since(s.lastSent)
		if _, ok := s.src.(PacedSource); ok {
			wait = 0 // next passes the time to the source
		}
		s.mu.Lock()
		full := s.seq-s.acked >= window
		s.waiting = full
		s.mu.Unlock()
		if s.paused || s.blank || full || wait > 0 {
			var timeout <-chan time.Time
			if !s.paused && !s.blank && !full {
				pace.Reset(wait)
				timeout = pace.C
			}
			select {
			case <-ctx.Done():
				return s.stats, ctx.Err()
			case cmd := <-s.cmds:
				s.apply(ctx, cmd)
			case <-s.room:
			case <-timeout:
			}
			pace.Stop()
			continue
		}
		c, err := s.next(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() == nil {
				continue // a command came
			}
			return s.stats, err
		}
		at := time.Now() // the change is on screen by then
		if s.paused {
			s.wins = nil
			continue // resuming asks for the whole screen again
		}
		// Privacy is checked after the capture, against the windows
		// as they are now: a prompt mapped before the capture is seen.
		pv := s.h.privacy(ctx)
		if s.setBlank(s.h.setSecure(pv.secure, pv.class)) {
			s.wins = nil
			continue // this frame is never sent
		}
		if len(c.Moves) == 0 {
			c.Moves = windowMoves(s.wins, pv.wins, c.Image.Bounds())
		}
		s.wins = pv.wins
		painted := mask(c.Image, pv.masks)
		c.Dirty = append(append(c.Dirty, painted...), s.masked...)
		s.masked = painted
		if err := s.send(w, c, at); err != nil {
			return s.stats, err
		}
	}
}

// windowMoves returns move hints for the windows that moved between two
// window lists (the one read with the previous capture sent, and this
// capture's), for sources that give none (a Wayland compositor tells its
// clients nothing of other windows; sway's window list does). A window is
// recognised by its class, instance and size: the first of each in
// either list (sway lists a moved window's old places after the windows).
// Only windows wholly inside bounds count. Hints may be wrong; the
// encoder checks them against the pixels.
func windowMoves(prev, cur []Window, bounds screen.Rect) []screen.Move {
	if len(prev) == 0 || len(cur) == 0 {
		return nil
	}
	type key struct {
		instance, class string
		w, h            int
	}
	keyOf := func(w Window) key { return key{w.Instance, w.Class, w.Rect.W, w.Rect.H} }
	first := func(list []Window, k key) (screen.Rect, bool) {
		for _, w := range list {
			if keyOf(w) == k {
				return w.Rect, true
			}
		}
		return screen.Rect{}, false
	}
	var moves []screen.Move
	for i, w := range cur {
		k := keyOf(w)
		if _, dup := first(cur[:i], k); dup {
			continue // not the first of its kind
		}
		p, ok := first(prev, k)
		if !ok || p == w.Rect || p.Empty() || p.Intersect(bounds) != p || w.Rect.Intersect(bounds) != w.Rect {
			continue
		}
		moves = append(moves, screen.Move{Src: p, DstX: w.Rect.X, DstY: w.Rect.Y})
	}
	return moves
}

// next waits for the source's next capture. A command (interrupt) ends
// the wait with context.Canceled.
func (s *sharer) next(ctx context.Context) (Capture, error) {
	nctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.stopNext = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stopNext = nil
		s.mu.Unlock()
	}()
	if len(s.cmds) > 0 { // queued before stopNext was set
		return Capture{}, context.Canceled
	}
	if ps, ok := s.src.(PacedSource); ok {
		return ps.NextAfter(nctx, s.lastSent.Add(s.interval()))
	}
	return s.src.Next(nctx)
}

// interrupt ends run's wait for the source, if it waits, so that it
// takes the commands queued.
func (s *sharer) interrupt() {
	s.mu.Lock()
	if s.stopNext != nil {
		s.stopNext()
	}
	s.mu.Unlock()
}

// ack records the viewer's acknowledgement of update seq (and of all
// before it), from any goroutine. It wakes run only if run waits for room.
func (s *sharer) ack(seq uint32) {
	s.mu.Lock()
	if seq == 0 || seq > s.seq || seq <= s.acked {
		s.mu.Unlock()
		return
	}
	s.acked = seq
	changed := s.auto.acked(seq, time.Now(), s.setting)
	level, delay := s.auto.effective(s.setting), s.auto.delay
	if s.waiting {
		s.waiting = false
		signal(s.room)
	}
	s.mu.Unlock()
	if changed {
		s.h.logger.Info("adapting to the link", "level", level.String(), "ack_delay", delay)
		s.h.record("bandwidth_auto", map[string]any{"level": level.String(), "ack_delay_ms": delay.Milliseconds()})
	}
}

// signal wakes whoever waits on c (of capacity 1) without ever blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// interval is the shortest time between two updates now.
func (s *sharer) interval() time.Duration {
	iv := frameInterval[s.effective()]
	if s.busy >= busyUpdates {
		iv = max(iv, busyInterval)
	}
	return iv
}

// effective is the level the link allows now.
func (s *sharer) effective() screen.Level {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auto.effective(s.setting)
}

// churned notes an update captured at at that sent pixels of a shared area
// of area pixels, for interval.
func (s *sharer) churned(pixels, area int, at time.Time) {
	switch {
	case float64(pixels) < busyShare*float64(area):
		s.busy = 0
	case s.busy > 0 && at.Sub(s.lastBusy) < busyGap:
		s.busy++
	default:
		s.busy = 1
	}
	s.lastBusy = at
}

// setBlank blanks or restores the helper's view, telling the helper, and
// returns blank.
func (s *sharer) setBlank(blank bool) bool {
	if blank == s.blank {
		return blank
	}
	s.blank = blank
	privacy := ""
	if blank {
		privacy = session.PrivacySecurePrompt
	}
	_ = s.conn.Send(session.Message{Type: session.TypeSharing, Paused: s.paused, Privacy: privacy})
	if !blank {
		s.h.refresh(s.src) // what changed meanwhile was never sent
	}
	return blank
}

func (s *sharer) apply(ctx context.Context, cmd shareCmd) {
	if cmd.privacy {
		pv := s.h.privacy(ctx)
		s.setBlank(s.h.setSecure(pv.secure, pv.class))
	}
	if cmd.ack != 0 {
		s.ack(cmd.ack)
	}
	if cmd.level != nil && *cmd.level != s.level {
		s.level = *cmd.level
		s.mu.Lock()
		s.setting = s.level
		s.auto.reset()
		s.mu.Unlock()
		s.enc.Reset() // re-send everything at the new quality
		s.h.refresh(s.src)
	}
	if cmd.monitor != nil && *cmd.monitor != s.monitor {
		if m := *cmd.monitor; m >= -1 && m < len(s.src.Monitors()) {
			s.monitor = m
			s.enc.Reset()
			s.h.refresh(s.src)
			s.sendMonitors()
		}
	}
	if cmd.paused != nil && *cmd.paused != s.paused {
		s.paused = *cmd.paused
		privacy := ""
		if s.blank {
			privacy = session.PrivacySecurePrompt // still blanked: the helper keeps seeing why
		}
		_ = s.conn.Send(session.Message{Type: session.TypeSharing, Paused: s.paused, Privacy: privacy})
		if !s.paused {
			s.h.refresh(s.src)
		}
	}
}

// region is the part of the source's image being shared.
func (s *sharer) region(img *screen.Image) screen.Rect {
	mons := s.src.Monitors()
	if s.monitor >= 0 && s.monitor < len(mons) {
		return mons[s.monitor].Rect.Intersect(img.Bounds())
	}
	return img.Bounds()
}

// send encodes and sends one capture; at is when it was captured, so the
// viewer's latency figure covers encoding, the network and decoding.
func (s *sharer) send(w *session.ChannelWriter, c Capture, at time.Time) error {
	r := s.region(c.Image)
	s.h.mu.Lock()
	s.h.origin.X, s.h.origin.Y = r.X, r.Y
	s.h.mu.Unlock()
	img := c.Image.Sub(r)
	dirty := s.dirty[:0]
	for _, d := range c.Dirty {
		if d = d.Intersect(r); !d.Empty() {
			dirty = append(dirty, screen.Rect{X: d.X - r.X, Y: d.Y - r.Y, W: d.W, H: d.H})
		}
	}
	moves := s.moves[:0]
	for _, m := range c.Moves {
		src := m.Src.Intersect(r)
		if src != m.Src {
			continue // partly outside what is shared: let the pixels speak
		}
		moves = append(moves, screen.Move{
			Src:  screen.Rect{X: src.X - r.X, Y: src.Y - r.Y, W: src.W, H: src.H},
			DstX: m.DstX - r.X, DstY: m.DstY - r.Y,
		})
	}
	s.dirty, s.moves = dirty, moves
	update, st, err := s.enc.Encode(img, dirty, moves, s.effective())
	if err != nil || update == nil {
		return err
	}
	s.churned(st.Pixels, img.W*img.H, at)
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	s.frame = session.AppendScreenFrame(s.frame[:0], session.ScreenFrame{Seq: seq, Captured: at, Update: update})
	if err := w.WriteFrame(s.frame); err != nil {
		return err
	}
	n := len(s.frame)
	if cap(s.frame) > 1<<20 {
		s.frame = nil // do not keep a big one for the small ones
	}
	s.lastSent = time.Now()
	s.mu.Lock()
	if s.acked < seq { // else the ack overtook this
		s.auto.sent(seq, s.lastSent)
	}
	s.mu.Unlock()
	s.stats.Updates++
	s.stats.Bytes += int64(n)
	return nil
}

func (s *sharer) sendMonitors() {
	mons := s.src.Monitors()
	infos := make([]session.MonitorInfo, len(mons))
	for i, m := range mons {
		infos[i] = session.MonitorInfo{Name: m.Name, X: m.Rect.X, Y: m.Rect.Y, W: m.Rect.W, H: m.Rect.H, Primary: m.Primary}
	}
	cur := s.monitor
	_ = s.conn.Send(session.Message{Type: session.TypeMonitors, Monitors: infos, Monitor: &cur})
}

// pointer forwards the pointer's position and shape until ctx ends.
func (s *sharer) pointer(ctx context.Context, ps PointerSource) {
	var last session.Message
	for {
		p, err := ps.Pointer(ctx)
		if err != nil {
			return
		}
		if p.Shape != nil {
			_ = s.conn.Send(session.Message{Type: session.TypeCursor, Cursor: &session.CursorMessage{
				Serial: p.Shape.Serial, W: p.Shape.W, H: p.Shape.H, HotX: p.Shape.HotX, HotY: p.Shape.HotY, RGBA: p.Shape.Pix,
			}})
		}
		m := session.Message{Type: session.TypePointer, X: p.X, Y: p.Y, Visible: p.Visible}
		if m.X != last.X || m.Y != last.Y || m.Visible != last.Visible || p.Shape != nil {
			_ = s.conn.Send(m)
			last = m
		}
	}
}

// shareRun is a sharer running for the current session.
type shareRun struct {
	sh     *sharer
	cancel context.CancelFunc
	done   chan struct{}
	stats  ShareStats
}

// startSharing starts streaming the screen to s, if there is a source.
func (h *Host) startSharing(s *session.Conn) *shareRun {
	if h.cfg.Source == nil {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	level, paused := h.cfg.Level, h.paused
	h.mu.Unlock()
	sh := newSharer(h, s, h.cfg.Source, level, h.cfg.Monitor)
	sh.paused = paused // a resumed session stays paused if it was
	sr := &shareRun{sh: sh, cancel: cancel, done: make(chan struct{})}
	_ = s.Send(session.Message{Type: session.TypeBandwidth, Level: sh.level.String()})
	go func() {
		defer close(sr.done)
		var pdone, wdone chan struct{}
		if ps, ok := h.cfg.Source.(PointerSource); ok {
			pdone = make(chan struct{})
			go func() { defer close(pdone); sh.pointer(ctx, ps) }()
		}
		if wl := h.cfg.Windows; wl != nil {
			wdone = make(chan struct{})
			go func() {
				defer close(wdone)
				for {
					select {
					case <-wl.Changed():
						sr.command(shareCmd{privacy: true})
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		stats, err := sh.run(ctx)
		if err != nil && ctx.Err() == nil {
			h.logger.Warn("screen sharing stopped", "err", err)
		}
		cancel()
		if pdone != nil {
			<-pdone
		}
		if wdone != nil {
			<-wdone
		}
		sr.stats = stats
	}()
	return sr
}

// stop ends sharing and returns what it sent.
func (sr *shareRun) stop() ShareStats {
	sr.cancel()
	<-sr.done
	return sr.stats
}

// command passes cmd to the sharer unless it has ended. An
// acknowledgement alone is taken at once, without waking the sharer.
func (sr *shareRun) command(cmd shareCmd) {
	if cmd == (shareCmd{ack: cmd.ack}) {
		sr.sh.ack(cmd.ack)
		return
	}
	select {
	case sr.sh.cmds <- cmd:
		sr.sh.interrupt()
	case <-sr.done:
	}
}

// refresh asks the source for the whole screen again, where it can.
func (h *Host) refresh(src Source) {
	if r, ok := src.(Refresher); ok {
		r.Refresh()
	}
}

// SetBandwidth changes the bandwidth level for the session (the person's
// slider); the helper is told.
func (h *Host) SetBandwidth(lv screen.Level) error {
	h.mu.Lock()
	sr, s := h.share, h.sess
	h.cfg.Level = lv
	h.mu.Unlock()
	if sr != nil {
		sr.command(shareCmd{level: &lv})
	}
	if s != nil {
		_ = s.Send(session.Message{Type: session.TypeBandwidth, Level: lv.String()})
	}
	h.record("bandwidth", map[string]any{"level": lv.String(), "by": "host"})
	h.emit(Event{Type: EventBandwidth, Level: lv.String()})
	return nil
}

// PauseSharing pauses or resumes screen sharing; the helper is told and
// sees the last frame until it resumes.
func (h *Host) PauseSharing(paused bool) error {
	h.mu.Lock()
	sr, lost := h.share, h.lost != nil
	if sr != nil || lost {
		h.paused = paused // kept for a resumed connection
	}
	h.mu.Unlock()
	if sr == nil && !lost {
		return ErrNoSession
	}
	if sr != nil {
		sr.command(shareCmd{paused: &paused})
	}
	h.record("sharing", map[string]any{"paused": paused})
	h.emit(Event{Type: EventSharing, Paused: &paused})
	return nil
}

// adapt lowers the bandwidth level below the setting while the link cannot
// keep up, and raises it back when it can. The signal is the time from
// sending an update to its acknowledgement: it grows with the update's size
// over the link's rate plus the round trip, and on a lossy link with the
// retransmissions QUIC makes.
type adapt struct {
	down    int // levels below the setting, 0..3
	sentAt  map[uint32]time.Time
	delay   time.Duration // smoothed ack delay
	changed time.Time     // last change, to hold each step a while
	good    int           // consecutive quick acks
}

const (
	slowAck  = 300 * time.Millisecond // the link is struggling: step down
	quickAck = 60 * time.Millisecond  // the link has room: count toward a step up
	stepHold = 2 * time.Second
	upAfter  = 30 // quick acks in a row before stepping up
)

func (a *adapt) effective(setting screen.Level) screen.Level {
	return max(screen.Low, setting-screen.Level(a.down))
}

func (a *adapt) reset() { a.down, a.good, a.delay = 0, 0, 0 }

func (a *adapt) sent(seq uint32, at time.Time) {
	if a.sentAt == nil {
		a.sentAt = make(map[uint32]time.Time)
	}
	a.sentAt[seq] = at
}

// acked records the acknowledgement of seq (and of everything before it)
// and reports whether the effective level changed.
func (a *adapt) acked(seq uint32, now time.Time, setting screen.Level) bool {
	at, ok := a.sentAt[seq]
	for s := range a.sentAt {
		if s <= seq {
			delete(a.sentAt, s)
		}
	}
	if !ok {
		return false
	}
	d := now.Sub(at)
	if a.delay == 0 {
		a.delay = d
	} else {
		a.delay = (a.delay*3 + d) / 4
	}
	if now.Sub(a.changed) < stepHold {
		return false
	}
	switch {
	case a.delay > slowAck && a.effective(setting) > screen.Low:
		a.down++
		a.good = 0
		a.changed = now
		return true
	case d < quickAck && a.down > 0:
		if a.good++; a.good >= upAfter {
			a.down--
			a.good = 0
			a.changed = now
			return true
		}
	default:
		a.good = 0
	}
	return false
}
