package portal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/internal/tiles"
	"github.com/gethelp/gethelp/session/screen"
)

var (
	_ host.Source    = (*Source)(nil)
	_ host.Refresher = (*Source)(nil)
)

// ErrUnavailable is returned (wrapped) by Open and Available when the
// session bus has no xdg-desktop-portal offering ScreenCast (no portal
// installed, or no backend for this desktop).
var ErrUnavailable = errors.New("portal: no screen-sharing portal on the session bus")

// ErrDeclined is returned by Open when the person cancelled the desktop's
// dialog that asks which screen to share.
var ErrDeclined = errors.New("portal: the person declined screen sharing in the desktop's dialog")

// ErrStopped is returned (wrapped) by Next when the desktop ended the
// sharing: the person used the desktop's own "stop sharing" indicator.
var ErrStopped = errors.New("portal: the person stopped sharing from the desktop")

// ErrStreamEnded is returned (wrapped, with gst-launch-1.0's last words)
// by Open and Next when the helper process reading the frames ended.
var ErrStreamEnded = errors.New("portal: the screen stream ended")

// ErrNoGStreamer is returned (wrapped) by Open when gst-launch-1.0 or its
// PipeWire plugin is not installed.
var ErrNoGStreamer = errors.New("portal: reading the screen needs gst-launch-1.0 with PipeWire (Debian and Ubuntu: apt install gstreamer1.0-tools gstreamer1.0-pipewire)")

var errClosed = fmt.Errorf("portal: source closed: %w", net.ErrClosed)

// maxPending bounds the dirty rects gathered between two calls to Next;
// beyond it they are merged into one.
const maxPending = 256

// Options tune Open.
type Options struct {
	// Bus is the address of the session bus ($DBUS_SESSION_BUS_ADDRESS;
	// the caller reads it). Required.
	Bus string
	// Input asks for the keyboard and the pointer too (a RemoteDesktop
	// session): the desktop's dialog then asks for both, and
	// Source.Injector performs the helper's input.
	Input bool
	// TokenFile keeps the portal's restore tokens (see the package doc)
	// so the desktop does not ask again next time. Empty: nothing is
	// kept, the desktop asks each time.
	TokenFile string
	// GstLaunch is the gst-launch-1.0 to run. Empty: "gst-launch-1.0",
	// found in $PATH.
	GstLaunch string
	// Logger receives the log, with component=portal. Nil discards.
	Logger *slog.Logger
}

// Source shares the screen the person picked in the desktop's dialog,
// through xdg-desktop-portal and PipeWire. Create it with Open.
type Source struct {
	b       *bus
	session dbus.ObjectPath
	remote  bool // a RemoteDesktop session
	stream  stream
	devices uint32
	// pixelPointer: the desktop takes pointer positions in the stream's
	// pixels (GNOME), not in its logical size (KDE).
	pixelPointer bool
	log          *slog.Logger
	inj          *Injector // nil without input

	p       *pipeline      // guarded by mu; nil until the frames start
	wg      sync.WaitGroup // the reader and the watchers
	done    chan struct{}  // closed by Close
	refresh atomic.Bool
	kick    chan struct{} // cap 1: Refresh was called
	wake    chan struct{} // cap 1: a frame with changes, or an error

	nextMu sync.Mutex // serialises Next; guards img
	img    *screen.Image

	closeOnce sync.Once

	mu       sync.Mutex // guards the fields below
	closed   bool
	err      error         // why the stream ended, once it did
	latest   *screen.Image // the newest frame, nil before the first
	pending  []screen.Rect // parts of latest that changed since Next last copied
	frames   uint64        // frames read from the stream
	busy     time.Duration // spent reading and comparing them (from the buffer's line to publish)
	monitors []host.Monitor
}

// Available returns nil when the session bus at address has an
// xdg-desktop-portal that shares screens (starting it if it is D-Bus
// activatable), else an error wrapping ErrUnavailable. It asks the person
// nothing.
func Available(ctx context.Context, address string) error {
	b, err := dial(ctx, address)
	if err != nil {
		return err
	}
	b.close()
	return nil
}

// Open asks xdg-desktop-portal to share a screen (and, with opts.Input,
// to control keyboard and pointer): the desktop shows its dialog (not
// when a restore token from opts.TokenFile is accepted), and when the
// person agrees, Open starts gst-launch-1.0 on the PipeWire stream and
// returns once the first frame arrived, so Monitors is right from the
// start. It returns an error wrapping ErrUnavailable when there is no
// portal, ErrDeclined when the person said no, ErrNoGStreamer when
// gst-launch-1.0 or its PipeWire plugin is missing, ErrStreamEnded when
// the stream gave no frame, and ctx.Err() when ctx ends first (the dialog
// is withdrawn).
func Open(ctx context.Context, opts Options) (*Source, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "portal")
	b, err := dial(ctx, opts.Bus)
	if err != nil {
		return nil, err
	}
	s := &Source{b: b, log: log, remote: opts.Input, done: make(chan struct{}),
		kick: make(chan struct{}, 1), wake: make(chan struct{}, 1)}
	if err := s.start(ctx, opts); err != nil {
		if s.session != "" {
			b.closeSession(s.session)
		}
		b.close()
		return nil, err
	}
	gst := opts.GstLaunch
	if gst == "" {
		gst = "gst-launch-1.0"
	}
	if err := s.startFrames(ctx, gst); err != nil {
		s.stopFrames()
		b.closeSession(s.session)
		b.close()
		return nil, err
	}
	if s.remote && s.devices&(deviceKeyboard|devicePointer) != 0 {
		s.pixelPointer = b.hasName(ctx, mutterRemoteDesktop)
		s.inj = newInjector(s)
	}
	return s, nil
}

// start creates the portal session, selects what to share and starts it.
func (s *Source) start(ctx context.Context, opts Options) error {
	b := s.b
	scVersion := b.uintProperty(ctx, ifaceScreenCast, "version")
	rdVersion := b.uintProperty(ctx, ifaceRemoteDesktop, "version")
	if opts.Input && rdVersion == 0 {
		s.log.Warn("the portal offers no RemoteDesktop: sharing without control")
		opts.Input, s.remote = false, false
	}
	iface, kind := ifaceScreenCast, kindScreenCast
	if opts.Input {
		iface, kind = ifaceRemoteDesktop, kindRemoteDesktop
	}
	tokens := loadTokens(opts.TokenFile, s.log)

	res, err := b.request(ctx, iface+".CreateSession", map[string]dbus.Variant{
		"session_handle_token": dbus.MakeVariant(newToken()),
	})
	if err != nil {
		return err
	}
	switch h := res["session_handle"].Value().(type) {
	case string:
		s.session = dbus.ObjectPath(h)
	case dbus.ObjectPath:
		s.session = h
	}
	if !s.session.IsValid() {
		s.session = ""
		return errors.New("portal: CreateSession gave no session handle")
	}
	closed := b.watchSession(s.session)

	persist := opts.TokenFile != ""
	if opts.Input {
		types := uint32(deviceKeyboard | devicePointer)
		if avail := b.uintProperty(ctx, ifaceRemoteDesktop, "AvailableDeviceTypes"); avail != 0 {
			types &= avail
		}
		o := map[string]dbus.Variant{"types": dbus.MakeVariant(types)}
		if persist && rdVersion >= 2 {
			o["persist_mode"] = dbus.MakeVariant(uint32(persistUntilRevoked))
			if t := tokens.get(kind); t != "" {
				o["restore_token"] = dbus.MakeVariant(t)
			}
		}
		if _, err := b.request(ctx, ifaceRemoteDesktop+".SelectDevices", o, s.session); err != nil {
			return err
		}
	}
	o := map[string]dbus.Variant{
		"types":    dbus.MakeVariant(uint32(sourceMonitor)),
		"multiple": dbus.MakeVariant(false),
	}
	if scVersion >= 2 {
		modes := b.uintProperty(ctx, ifaceScreenCast, "AvailableCursorModes")
		switch {
		case modes&cursorEmbedded != 0:
			o["cursor_mode"] = dbus.MakeVariant(uint32(cursorEmbedded))
		case modes&cursorHidden != 0:
			s.log.Warn("the desktop cannot draw the pointer into the stream: the helper will not see it")
			o["cursor_mode"] = dbus.MakeVariant(uint32(cursorHidden))
		}
	}
	// A RemoteDesktop session persists through SelectDevices; the portal
	// refuses persist_mode here for it.
	if persist && !opts.Input && scVersion >= 4 {
		o["persist_mode"] = dbus.MakeVariant(uint32(persistUntilRevoked))
		if t := tokens.get(kind); t != "" {
			o["restore_token"] = dbus.MakeVariant(t)
		}
	}
	if _, err := b.request(ctx, ifaceScreenCast+".SelectSources", o, s.session); err != nil {
		return err
	}

	res, err = b.request(ctx, iface+".Start", map[string]dbus.Variant{}, s.session, "")
	if err != nil {
		return err
	}
	st, err := parseStart(res)
	if err != nil {
		return err
	}
	if len(st.streams) > 1 {
		s.log.Warn("the desktop started several streams: sharing the first", "streams", len(st.streams))
	}
	s.stream = st.streams[0]
	s.devices = st.devices
	if persist && st.restoreToken != "" {
		tokens.set(kind, st.restoreToken)
		if err := tokens.save(opts.TokenFile); err != nil {
			s.log.Warn("the desktop will ask again next time: cannot keep its restore token", "err", err)
		}
	}
	s.log.Info("the desktop shares a screen", "node", s.stream.node, "width", s.stream.w, "height", s.stream.h,
		"keyboard", st.devices&deviceKeyboard != 0, "pointer", st.devices&devicePointer != 0)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-closed:
			s.fail(ErrStopped)
		case <-s.done:
		}
	}()
	return nil
}

// startFrames starts gst-launch-1.0 on the stream and waits for its first
// frame. On error, the caller stops what it started (stopFrames).
func (s *Source) startFrames(ctx context.Context, gst string) error {
	var fd dbus.UnixFD
	err := s.b.obj.CallWithContext(ctx, ifaceScreenCast+".OpenPipeWireRemote", 0, s.session, map[string]dbus.Variant{}).Store(&fd)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("portal: OpenPipeWireRemote: %v", err)
	}
	remote := os.NewFile(uintptr(fd), "pipewire-remote")
	if remote == nil {
		return errors.New("portal: OpenPipeWireRemote gave no file descriptor")
	}
	p, err := startPipeline(gst, remote, s.stream.node)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.read(p)
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-p.exited:
			err := p.exitError()
			if strings.Contains(err.Error(), `no element "pipewiresrc"`) {
				err = fmt.Errorf("%w: %v", ErrNoGStreamer, err)
			}
			s.fail(err)
		case <-s.done:
		}
	}()
	// The first frame, or why there is none.
	for {
		s.mu.Lock()
		ok, err := s.latest != nil, s.err
		s.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stopFrames ends the pipeline and waits for the goroutines.
func (s *Source) stopFrames() {
	s.markClosed()
	s.mu.Lock()
	p := s.p
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
	s.wg.Wait()
	if p != nil {
		p.close()
	}
}

// markClosed closes done if it is not yet.
func (s *Source) markClosed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// fail records why the stream ended (the first reason counts) and wakes
// Next.
func (s *Source) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	p := s.p
	s.mu.Unlock()
	signal(s.wake)
	if errors.Is(err, ErrStopped) && p != nil {
		p.cmd.Process.Kill() // the stream is over; do not wait for gst to notice
	}
}

// read reads frames until the pipeline ends (the reader goroutine).
func (s *Source) read(p *pipeline) {
	text := bufio.NewReaderSize(p.text, 64<<10)
	var back *screen.Image // the frame being read; never seen by Next
	w, h, bad := 0, 0, 0
	for {
		line, err := readLine(text)
		if err != nil {
			return // the child ended: the watcher reports why
		}
		l := parseGstLine(line)
		switch l.kind {
		case lineCaps:
			if l.format != "BGRx" {
				s.fail(fmt.Errorf("%w: frames in %q, not BGRx", ErrStreamEnded, l.format))
				p.cmd.Process.Kill()
				return
			}
			w, h = l.w, l.h
			s.log.Debug("stream caps", "width", w, "height", h)
		case lineBuffer:
			if l.n != 4*w*h {
				// Not a whole frame of the caps (padded rows, or no caps
				// yet): skipped, keeping the framing.
				if bad++; bad == 1 {
					s.log.Warn("skipping frames that do not match their caps", "bytes", l.n, "width", w, "height", h)
				}
				if discard(p.frames, l.n) != nil {
					return
				}
				continue
			}
			if back == nil || back.W != w || back.H != h {
				back = screen.NewImage(w, h)
			}
			start := time.Now()
			if _, err := io.ReadFull(p.frames, back.Pix); err != nil {
				return
			}
			back = s.publish(back, start)
		}
	}
}

// publish takes frame, the newest, in: its changes since the previous
// frame are added to pending (an idle screen adds none) and copied into
// latest. It returns the image to read the next frame into.
func (s *Source) publish(frame *screen.Image, start time.Time) *screen.Image {
	s.mu.Lock()
	s.frames++
	var spare *screen.Image
	if s.latest == nil || s.latest.W != frame.W || s.latest.H != frame.H {
		spare, s.latest = s.latest, frame
		s.pending = append(s.pending[:0], frame.Bounds())
		s.monitors = []host.Monitor{{Rect: frame.Bounds(), Primary: true}}
		if spare != nil {
			s.log.Info("the stream's size changed", "width", frame.W, "height", frame.H)
		}
	} else {
		s.pending = tiles.DiffCopy(s.latest, frame, s.pending)
		spare = frame
		if len(s.pending) > maxPending {
			u := s.pending[0]
			for _, r := range s.pending[1:] {
				u = u.Union(r)
			}
			s.pending = append(s.pending[:0], u)
		}
	}
	changed := len(s.pending) > 0
	s.busy += time.Since(start)
	s.mu.Unlock()
	if changed {
		signal(s.wake)
	}
	return spare
}

// Monitors returns the shared screen as one monitor covering the image:
// the portal shares one monitor and does not name it.
func (s *Source) Monitors() []host.Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]host.Monitor(nil), s.monitors...)
}

// Refresh makes the next (or pending) Next return the whole image.
func (s *Source) Refresh() {
	s.refresh.Store(true)
	signal(s.kick)
}

// Next waits until the stream shows a change and returns the image with
// the changed tiles as Dirty (the first call, and the first after Refresh
// or a change of size, return it whole). Identical frames, which the
// compositor may send, are no change. It returns ctx.Err() when ctx ends,
// an error wrapping net.ErrClosed after Close, ErrStopped when the person
// stopped sharing from the desktop and ErrStreamEnded when the stream
// ended otherwise.
func (s *Source) Next(ctx context.Context) (host.Capture, error) {
	s.nextMu.Lock()
	defer s.nextMu.Unlock()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return host.Capture{}, errClosed
		}
		if s.latest != nil {
			full := s.refresh.Swap(false)
			if s.img == nil || s.img.W != s.latest.W || s.img.H != s.latest.H {
				s.img = screen.NewImage(s.latest.W, s.latest.H)
				full = true
			}
			if full || len(s.pending) > 0 {
				var dirty []screen.Rect
				if full {
					copy(s.img.Pix, s.latest.Pix)
					dirty = []screen.Rect{s.img.Bounds()}
				} else {
					for _, r := range s.pending {
						for y := r.Y; y < r.Y+r.H; y++ {
							o := y*s.img.Stride + 4*r.X
							copy(s.img.Pix[o:o+4*r.W], s.latest.Pix[o:o+4*r.W])
						}
					}
					dirty = append([]screen.Rect(nil), s.pending...)
				}
				s.pending = s.pending[:0]
				s.mu.Unlock()
				return host.Capture{Image: s.img, Dirty: dirty}, nil
			}
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return host.Capture{}, err
		}
		select {
		case <-s.wake:
		case <-s.kick:
		case <-ctx.Done():
			return host.Capture{}, ctx.Err()
		case <-s.done:
		}
	}
}

// Injector returns the injector of the session: nil unless Open was asked
// for input, the portal offers RemoteDesktop and the person allowed the
// keyboard or the pointer.
func (s *Source) Injector() *Injector { return s.inj }

// Close ends the portal session (the desktop's sharing indicator goes
// away), stops gst-launch-1.0 and waits for the goroutines. Calling it
// again returns nil.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		if s.inj != nil {
			s.inj.Close()
		}
		s.stopFrames()
		s.b.closeSession(s.session)
		s.b.close()
	})
	return nil
}

// signal wakes whoever waits on c (of capacity 1) without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
