package x11

// The clipboard: the person's copied text out, the helper's text in, for
// sharing the clipboard when the person allows it (the consent is the
// caller's business; this file only moves text).
//
// Decisions:
//
//   - A connection of its own and an unmapped 1×1 InputOnly window of its
//     own, which is both the selection owner (for Set) and the requestor
//     (for Changes), and on which the clipboard selects PropertyChange.
//   - CLIPBOARD only, never PRIMARY. PRIMARY is whatever the person last
//     highlighted with the mouse, not what they chose to copy: reporting
//     it would share every selection they make, which is more than
//     "share my clipboard" consents to, and taking it for Set would
//     unhighlight the person's text in their application and make a
//     middle click paste the helper's text.
//   - Noticing a copy: XFIXES SelectSelectionInput(SetSelectionOwner) on
//     CLIPBOARD, then ConvertSelection(CLIPBOARD, UTF8_STRING) into a
//     property of our window at the ownership's timestamp, STRING (Latin-1,
//     converted to UTF-8) if the owner refuses UTF8_STRING; anything else
//     is not text to us. The property is read and deleted with one
//     GetProperty. The text on the clipboard when OpenClipboard is called
//     is not reported: only what is copied later.
//   - One transfer at a time. When the owner changes again during a
//     transfer, the transfer is finished (an INCR owner keeps writing into
//     our property until we have taken everything, so abandoning it would
//     let its chunks mix with the next transfer's) and its text dropped as
//     stale; then the newest owner is asked. A step the owner does not
//     answer within ClipboardOptions.Timeout (5 s) ends the transfer.
//   - Incoming INCR is supported: each chunk is read and deleted as it
//     comes. Text beyond MaxBytes (1 MiB) is not kept, but an INCR transfer
//     is still drained to its end (each chunk deleted unread) so that the
//     owner finishes cleanly; the text is then ignored with a log line.
//   - Our own Set is not a change: the notify naming our window is
//     skipped. Every successful SetSelectionOwner of ours produces exactly
//     one such notify, so the worker counts the ones not yet seen; an owner
//     change (or SelectionClear) that arrives before them happened before
//     our Set took the clipboard and is stale. A transfer that ends while
//     we own the clipboard is dropped too.
//   - Changes has a capacity of one and the newest text wins: an unread
//     older value is dropped when a newer one arrives.
//   - Set takes the clipboard at a real timestamp, as ICCCM asks: a
//     zero-length append to a property of our window, whose PropertyNotify
//     carries the server time (the same trick Xlib applications use). Then
//     SetSelectionOwner at that time and GetSelectionOwner to confirm. The
//     timestamp answers TIMESTAMP and lets us refuse requests older than
//     our ownership, as Qt does.
//   - Serving: TARGETS (TARGETS, TIMESTAMP, UTF8_STRING, TEXT, and STRING
//     when the text is Latin-1), TIMESTAMP, UTF8_STRING and TEXT (UTF-8
//     bytes, type UTF8_STRING), STRING (Latin-1 bytes, refused when the
//     text has a character beyond U+00FF). MULTIPLE and every other target
//     are refused with property None, as is a request older than our
//     ownership. An obsolete requestor's property None means the target's
//     name, as ICCCM says. The answer is ChangeProperty on the requestor's
//     window, then SendEvent SelectionNotify.
//   - Outgoing INCR: xgb never enables BIG-REQUESTS, so a request is at
//     most the setup's MaximumRequestLength (262 140 bytes on Xorg and
//     Xvfb), and xgb writes a longer request's length field modulo 2^16
//     without a word, desynchronising the connection. An answer larger
//     than that minus 100 bytes (Xt's margin) goes by INCR in chunks of
//     that size: PropertyChange is selected on the requestor's window, the
//     INCR property written, and each PropertyNotify(Delete) of it brings
//     the next chunk, then a zero-length one. So 64 KiB goes in one
//     property and Set accepts anything up to MaxBytes.
//   - Set refuses text longer than MaxBytes too (ErrClipboardTooLarge):
//     the limit is the same in both directions.
//   - Close closes the connection, which destroys our window: if we own
//     the clipboard, its text is simply lost (a clipboard manager that
//     copied it on the ownership change keeps its copy). We do not hand
//     the text to a clipboard manager (SAVE_TARGETS) on the way out.
//   - Two goroutines. The reader only moves events and errors off xgb's
//     queue into a slice (at most maxClipboardEvents; a flood beyond is
//     dropped and logged) and never waits for anything else, so xgb can
//     always deliver the replies the worker waits for. The worker owns all
//     the state: it handles events in order, answers requests, runs
//     transfers and takes the clipboard for Set.
//   - The extension-init rule of ext.go: the connection reads XFIXES
//     events, so OpenClipboard initialises the package's extensions (or
//     checks they are) before it selects any. Like Open, it therefore
//     fails on a server without DAMAGE.
//   - The clipboard's text never reaches the log, only its size.
//   - Lag: from Set on one client to Changes on another on the same Xvfb,
//     0.13–0.3 ms for short text (median 0.13–0.29 ms over 50 rounds,
//     TestClipboardLatency logs it; about 0.25–0.45 ms under the race
//     detector), 0.55–0.75 ms for 64 KiB, 6–8 ms for 600 KB and 5–14 ms for
//     1 MiB by INCR (TestClipboardLargeText), on a 2-core machine. That
//     Set costs two round trips (the timestamp, then GetSelectionOwner);
//     the other client then needs the notify, ConvertSelection, the
//     owner's answer and one GetProperty.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// ErrClipboardTooLarge is returned (wrapped) by Set for text longer than
// ClipboardOptions.MaxBytes.
var ErrClipboardTooLarge = errors.New("x11: clipboard text too large")

// errClipboardClosed is what Set and Err return after Close.
var errClipboardClosed = fmt.Errorf("x11: clipboard closed: %w", net.ErrClosed)

// maxClipboardEvents bounds the events the reader keeps for the worker.
const maxClipboardEvents = 4096

// ClipboardOptions tune a Clipboard. The zero value is ready to use.
type ClipboardOptions struct {
	// Logger receives the clipboard's log, with component=x11-clipboard.
	// It never sees the clipboard's text. Nil discards.
	Logger *slog.Logger
	// MaxBytes is the longest text, in UTF-8 bytes, that Changes reports
	// and Set accepts; longer clipboard text is ignored with a log line.
	// Zero or less means 1 MiB.
	MaxBytes int
	// Timeout is how long the clipboard waits for the other client at
	// each step of a transfer (an answer to a conversion, the next chunk,
	// the deletion of a chunk) before it gives the transfer up. Zero or
	// less means 5 seconds.
	Timeout time.Duration
}

// Clipboard reads and sets the text of the CLIPBOARD selection of an X
// server. Create it with OpenClipboard. Its methods may be called from any
// goroutine.
type Clipboard struct {
	display  string
	conn     *xgb.Conn
	win      xproto.Window // ours: the selection owner and requestor
	atoms    clipboardAtoms
	log      *slog.Logger
	maxBytes int           // never less than 1
	timeout  time.Duration // never zero
	chunk    int           // the most data of one ChangeProperty

	changes  chan string          // cap 1, newest wins; closed when the worker ends
	sets     chan *clipSetRequest // from Set to the worker
	wake     chan struct{}        // cap 1: the reader queued something
	readDone chan struct{}        // closed when the reader ends (the connection closed)
	stopped  chan struct{}        // closed when the worker ends, after err is set

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the reader and the worker
	closeOnce sync.Once

	pmu     sync.Mutex
	queue   []clipEvent // guarded by pmu: what the reader saw since the worker took it
	dropped int         // guarded by pmu: events dropped since the last log line

	mu  sync.Mutex
	err error // guarded by mu; why the worker stopped, nil while it runs

	// Owned by the worker (run):
	own         *clipOwnership    // what we serve; nil unless we own CLIPBOARD
	ownNotifies int               // our SetSelectionOwner requests whose XFIXES notify is still to come
	stamping    []*clipSetRequest // Sets waiting for their timestamp, oldest first
	fetch       *clipFetch        // the transfer from another owner; nil when idle
	sends       map[clipSendKey]*clipSend
	watched     map[xproto.Window]int // requestor windows with PropertyChange selected → their sends
}

// clipboardAtoms are the atoms the clipboard uses.
type clipboardAtoms struct {
	clipboard, utf8, text, targets, timestamp, incr xproto.Atom

	prop  xproto.Atom // our window's property that receives the text
	stamp xproto.Atom // our window's property appended to for a timestamp
}

// clipEvent is an event or an X error, as the reader took it.
type clipEvent struct {
	ev  xgb.Event
	err xgb.Error
}

// clipSetRequest is a Set waiting for the worker.
type clipSetRequest struct {
	own  *clipOwnership
	done chan error // cap 1
}

// clipOwnership is the text we serve while we own CLIPBOARD.
type clipOwnership struct {
	time   xproto.Timestamp // when we took it
	utf8   []byte           // the text; never modified
	latin1 []byte           // the text in Latin-1; nil if it cannot be
}

// clipFetch is a transfer of the clipboard's text from another owner.
type clipFetch struct {
	time     xproto.Timestamp // of the ownership change, given to ConvertSelection
	target   xproto.Atom      // UTF8_STRING, then STRING
	incr     bool             // the owner sends INCR chunks into our property
	typ      xproto.Atom      // the type of the INCR chunks, from the first
	buf      []byte           // the INCR chunks so far
	overflow bool             // more than maxBytes: chunks are deleted unread
	notText  bool             // a chunk was not of format 8
	deadline time.Time        // for the owner's next step
	again    bool             // the owner changed since: drop the text and ask again
	newer    xproto.Timestamp // the newest owner's timestamp, if again
}

// clipSendKey names an outgoing INCR transfer: a requestor's window and
// property.
type clipSendKey struct {
	win  xproto.Window
	prop xproto.Atom
}

// clipSend is an outgoing INCR transfer.
type clipSend struct {
	typ      xproto.Atom
	data     []byte // never modified
	off      int    // what has been written
	deadline time.Time
}

// OpenClipboard connects to the X server of display (such as ":0"; the
// caller reads $DISPLAY if it wants it) to share its CLIPBOARD selection's
// text. It starts two goroutines, which Close stops.
//
// Like Open, it makes sure the package's X extensions are initialised for
// the whole process (see ext.go), so it fails on a server that lacks
// DAMAGE or XFIXES.
//
// The errors are one line each, starting "x11: ": "no display given",
// "cannot open display :N: …" (no server, refused), "the X server lacks
// the XFIXES extension" and the like, and the failures of its first
// requests.
func OpenClipboard(display string, opts ClipboardOptions) (*Clipboard, error) {
	if display == "" {
		return nil, errors.New("x11: no display given")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "x11-clipboard", "display", display)
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 1 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	conn, err := openDisplay(display)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Clipboard{
		display:  display,
		conn:     conn,
		log:      log,
		maxBytes: opts.MaxBytes,
		timeout:  opts.Timeout,
		changes:  make(chan string, 1),
		sets:     make(chan *clipSetRequest),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
		stopped:  make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		sends:    make(map[clipSendKey]*clipSend),
		watched:  make(map[xproto.Window]int),
	}
	if err := c.setup(); err != nil {
		cancel()
		conn.Close()
		return nil, err
	}
	c.wg.Add(2)
	go c.read()
	go c.run()
	return c, nil
}

// setup does everything OpenClipboard does on the connection before the
// goroutines start.
func (c *Clipboard) setup() error {
	conn := c.conn
	info := xproto.Setup(conn)
	root := info.DefaultScreen(conn).Root
	// A request is at most MaximumRequestLength 4-byte units (xgb has no
	// BIG-REQUESTS); the protocol guarantees at least 4096 bytes.
	c.chunk = max(int(info.MaximumRequestLength)*4, 4096) - 100

	ext, err := initExtensions(conn)
	if err != nil {
		return err
	}
	if !ext["XFIXES"] {
		return errors.New("x11: the X server lacks the XFIXES extension")
	}
	v, err := xfixes.QueryVersion(conn, 5, 0).Reply()
	if err != nil {
		return fmt.Errorf("x11: XFIXES version: %w", err)
	}
	if v.MajorVersion < 1 {
		return fmt.Errorf("x11: XFIXES %d.%d is too old (need 1.0 for selection events)", v.MajorVersion, v.MinorVersion)
	}

	names := []string{"CLIPBOARD", "UTF8_STRING", "TEXT", "TARGETS", "TIMESTAMP", "INCR",
		"_GETHELP_SELECTION", "_GETHELP_TIMESTAMP"}
	dst := []*xproto.Atom{&c.atoms.clipboard, &c.atoms.utf8, &c.atoms.text, &c.atoms.targets,
		&c.atoms.timestamp, &c.atoms.incr, &c.atoms.prop, &c.atoms.stamp}
	cookies := make([]xproto.InternAtomCookie, len(names))
	for i, name := range names {
		cookies[i] = xproto.InternAtom(conn, false, uint16(len(name)), name)
	}
	for i, name := range names {
		r, err := cookies[i].Reply()
		if err != nil {
			return fmt.Errorf("x11: intern atom %s: %w", name, err)
		}
		*dst[i] = r.Atom
	}

	if c.win, err = xproto.NewWindowId(conn); err != nil {
		return fmt.Errorf("x11: %w", err)
	}
	if err := xproto.CreateWindowChecked(conn, 0, c.win, root, -1, -1, 1, 1, 0,
		xproto.WindowClassInputOnly, 0, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return fmt.Errorf("x11: create a window: %w", err)
	}
	if err := xfixes.SelectSelectionInputChecked(conn, c.win, c.atoms.clipboard,
		xfixes.SelectionEventMaskSetSelectionOwner).Check(); err != nil {
		return fmt.Errorf("x11: select clipboard owner changes: %w", err)
	}
	c.log.Debug("clipboard ready", "xfixes", fmt.Sprintf("%d.%d", v.MajorVersion, v.MinorVersion),
		"chunk", c.chunk, "max_bytes", c.maxBytes)
	return nil
}

// Changes returns the channel that receives the CLIPBOARD selection's text
// each time another client takes the selection (the person copied
// something), once the text has been transferred. Taking it with Set is
// not a change. The channel has a capacity of one and the newest text
// wins: an unread older text is dropped. Text that is not valid UTF-8 has
// its invalid bytes replaced with U+FFFD. The channel is closed when the
// clipboard stops, by Close or because its connection broke (see Err).
func (c *Clipboard) Changes() <-chan string { return c.changes }

// Set makes text the CLIPBOARD selection's: our window takes the selection
// and serves the text to every client that asks, until another client
// takes it or Close. Only CLIPBOARD, never PRIMARY (see the file's
// comment). It returns once the server confirmed the ownership.
//
// It blocks for a few round trips to the X server; ctx bounds the wait.
// It returns an error wrapping ErrClipboardTooLarge for text longer than
// MaxBytes, "x11: clipboard text is not valid UTF-8", "x11: another client
// took the clipboard at the same moment" when ours lost by a timestamp,
// ctx's error when ctx ends first (the clipboard may then still change), an
// error wrapping ErrLost when the connection broke, and one wrapping
// net.ErrClosed after Close.
func (c *Clipboard) Set(ctx context.Context, text string) error {
	if len(text) > c.maxBytes {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrClipboardTooLarge, len(text), c.maxBytes)
	}
	if !utf8.ValidString(text) {
		return errors.New("x11: clipboard text is not valid UTF-8")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &clipSetRequest{
		own:  &clipOwnership{utf8: []byte(text), latin1: toLatin1(text)},
		done: make(chan error, 1),
	}
	select {
	case c.sets <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stopped:
		return c.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.stopped:
		select {
		case err := <-r.done:
			return err
		default:
		}
		return c.Err()
	}
}

// Err returns nil while the clipboard runs. Once Changes is closed it
// returns why: an error wrapping ErrLost when the connection to the X
// server broke, or one wrapping net.ErrClosed after Close.
func (c *Clipboard) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close stops the clipboard: it closes the connection to the X server,
// which destroys our window (if we own CLIPBOARD, its text is lost), and
// waits for the clipboard's goroutines; Changes is closed then. A Set
// blocked at that moment returns an error wrapping net.ErrClosed. It
// returns nil; calling it again does nothing.
func (c *Clipboard) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.conn.Close()
	})
	c.wg.Wait()
	return nil
}

// read is the goroutine that takes events and errors off the connection.
// It ends when the connection closes and closes c.readDone then. It must
// not wait for anything but xgb's queue.
func (c *Clipboard) read() {
	defer c.wg.Done()
	defer close(c.readDone)
	for ev, xerr := range xevents(c.conn) {
		c.pmu.Lock()
		if len(c.queue) < maxClipboardEvents {
			c.queue = append(c.queue, clipEvent{ev, xerr})
		} else {
			c.dropped++
		}
		c.pmu.Unlock()
		signal(c.wake)
	}
}

// take returns what the reader queued.
func (c *Clipboard) take() ([]clipEvent, int) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	q, n := c.queue, c.dropped
	c.queue, c.dropped = nil, 0
	return q, n
}

// run is the worker: it handles events, Set requests and deadlines until
// Close or until the connection ends, then closes c.changes.
func (c *Clipboard) run() {
	defer c.wg.Done()
	defer close(c.changes)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if d, ok := c.nextDeadline(); ok {
			timer.Reset(time.Until(d))
		} else {
			timer.Stop()
		}
		select {
		case <-c.ctx.Done():
			c.stop(errClipboardClosed)
			return
		case <-c.readDone:
			c.stop(c.lostErr(io.EOF))
			return
		case r := <-c.sets:
			c.startSet(r)
		case <-timer.C:
			c.expire(time.Now())
		case <-c.wake:
			q, dropped := c.take()
			if dropped > 0 {
				c.log.Warn("too many X events at once: some were dropped", "dropped", dropped)
			}
			for _, e := range q {
				if e.err != nil {
					// An error of an unchecked request: mostly a requestor
					// whose window went away during a transfer, which then
					// times out.
					c.log.Debug("X error", "error", e.err)
					continue
				}
				c.handle(e.ev)
			}
		}
	}
}

// lostErr returns the error for the clipboard's end after err ended a
// request or the connection: errClipboardClosed after Close, else ErrLost.
func (c *Clipboard) lostErr(err error) error {
	if c.ctx.Err() != nil {
		return errClipboardClosed
	}
	return lostError(c.display, err)
}

// stop records why the worker stopped and fails the Sets it holds.
func (c *Clipboard) stop(err error) {
	if !errors.Is(err, net.ErrClosed) {
		c.log.Warn("lost the connection to the X server: the clipboard is no longer shared", "error", err)
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	for _, r := range c.stamping {
		r.done <- err
	}
	c.stamping = nil
	close(c.stopped)
}

// handle handles one event.
func (c *Clipboard) handle(ev xgb.Event) {
	switch e := ev.(type) {
	case xfixes.SelectionNotifyEvent:
		c.ownerChanged(e)
	case xproto.SelectionClearEvent:
		if e.Selection == c.atoms.clipboard && e.Owner == c.win && c.ownNotifies == 0 && c.own != nil {
			c.own = nil
			c.log.Debug("another client took the clipboard")
		}
	case xproto.SelectionRequestEvent:
		c.serve(e)
	case xproto.SelectionNotifyEvent:
		c.converted(e)
	case xproto.PropertyNotifyEvent:
		c.propertyChanged(e)
	}
}

// ownerChanged handles XFIXES's notify of a new CLIPBOARD owner.
func (c *Clipboard) ownerChanged(e xfixes.SelectionNotifyEvent) {
	if e.Selection != c.atoms.clipboard || e.Subtype != xfixes.SelectionEventSetSelectionOwner {
		return
	}
	if e.Owner == c.win {
		c.ownNotifies = max(c.ownNotifies-1, 0)
		return
	}
	if c.ownNotifies > 0 {
		return // before our latest SetSelectionOwner: stale
	}
	if c.own != nil {
		c.own = nil
		c.log.Debug("another client took the clipboard")
	}
	if e.Owner == xproto.WindowNone {
		return // emptied, not copied
	}
	c.startFetch(e.SelectionTimestamp)
}

// startFetch asks the owner for the text, or, during a transfer, has the
// transfer's text dropped and the owner asked again after it.
func (c *Clipboard) startFetch(t xproto.Timestamp) {
	if f := c.fetch; f != nil {
		f.again, f.newer = true, t
		return
	}
	c.fetch = &clipFetch{time: t, target: c.atoms.utf8, deadline: time.Now().Add(c.timeout)}
	xproto.ConvertSelection(c.conn, c.win, c.atoms.clipboard, c.atoms.utf8, c.atoms.prop, t)
}

// endFetch ends the transfer. text is what it brought, if ok; it is
// reported unless the transfer is stale.
func (c *Clipboard) endFetch(text string, ok bool) {
	f := c.fetch
	c.fetch = nil
	switch {
	case f.again && c.own == nil:
		c.startFetch(f.newer)
	case f.again:
		// The newer owner came before our Set, which replaced it.
	case !ok:
	case c.own != nil:
		// We took the clipboard during the transfer.
	case len(text) > c.maxBytes: // Latin-1 or invalid bytes grew into UTF-8
		c.tooLarge(len(text))
	default:
		c.log.Debug("clipboard changed", "bytes", len(text))
		c.publish(text)
	}
}

// publish makes text the newest value of c.changes. Only the worker sends.
func (c *Clipboard) publish(text string) {
	select {
	case <-c.changes: // drop the older, unread
	default:
	}
	select {
	case c.changes <- text:
	default:
	}
}

// converted handles the owner's answer to our ConvertSelection.
func (c *Clipboard) converted(e xproto.SelectionNotifyEvent) {
	f := c.fetch
	// The time is not checked: owners should copy ours but not all do. A
	// late answer to a transfer that timed out can pass for the next one's.
	if e.Requestor != c.win || e.Selection != c.atoms.clipboard || f == nil || f.incr || e.Target != f.target {
		return
	}
	if e.Property == xproto.AtomNone {
		if f.target == c.atoms.utf8 {
			f.target = xproto.AtomString
			f.deadline = time.Now().Add(c.timeout)
			xproto.ConvertSelection(c.conn, c.win, c.atoms.clipboard, xproto.AtomString, c.atoms.prop, f.time)
			return
		}
		c.log.Info("the clipboard's owner refused to give it as text")
		c.endFetch("", false)
		return
	}
	r, err := xproto.GetProperty(c.conn, true, c.win, e.Property, xproto.GetPropertyTypeAny,
		0, uint32(c.maxBytes/4+1)).Reply()
	if err != nil {
		c.log.Debug("read the clipboard", "error", err)
		c.endFetch("", false)
		return
	}
	switch {
	case r.Type == xproto.AtomNone:
		c.log.Info("the clipboard's owner announced text but gave none")
		c.endFetch("", false)
	case r.Type == c.atoms.incr:
		// Reading it deleted it, which asks for the first chunk.
		f.incr = true
		f.deadline = time.Now().Add(c.timeout)
		if len(r.Value) >= 4 {
			if n := xgb.Get32(r.Value); int64(n) > int64(c.maxBytes) {
				f.overflow = true
			}
		}
	case r.BytesAfter > 0 || len(r.Value) > c.maxBytes:
		xproto.DeleteProperty(c.conn, c.win, e.Property)
		c.tooLarge(int(r.BytesAfter) + len(r.Value))
		c.endFetch("", false)
	default:
		text, ok := c.decode(r.Type, r.Format, r.Value)
		c.endFetch(text, ok)
	}
}

// incrChunk reads the next INCR chunk from our property: deleting it asks
// for the next; an empty one ends the transfer.
func (c *Clipboard) incrChunk() {
	f := c.fetch
	words := uint32(0) // past the limit: only learn the size, never read
	if !f.overflow {
		words = uint32((c.maxBytes-len(f.buf))/4 + 1)
	}
	r, err := xproto.GetProperty(c.conn, true, c.win, c.atoms.prop, xproto.GetPropertyTypeAny, 0, words).Reply()
	if err != nil {
		c.log.Debug("read the clipboard", "error", err)
		c.endFetch("", false)
		return
	}
	if r.Type == xproto.AtomNone {
		return // already taken
	}
	f.deadline = time.Now().Add(c.timeout)
	if r.BytesAfter > 0 {
		// Not deleted, as GetProperty deletes only what it read whole.
		xproto.DeleteProperty(c.conn, c.win, c.atoms.prop)
		if !f.overflow {
			f.overflow = true
			f.buf = nil
		}
		return
	}
	if len(r.Value) == 0 {
		switch {
		case f.notText:
			c.log.Info("the clipboard's owner sent text in a format other than 8")
			c.endFetch("", false)
		case f.overflow:
			c.tooLarge(-1)
			c.endFetch("", false)
		default:
			text, ok := c.decode(f.typ, 8, f.buf)
			c.endFetch(text, ok)
		}
		return
	}
	switch {
	case f.overflow:
	case r.Format != 8:
		f.notText, f.overflow, f.buf = true, true, nil // drain, then drop
	case len(f.buf)+len(r.Value) > c.maxBytes:
		f.overflow, f.buf = true, nil
	default:
		if len(f.buf) == 0 {
			f.typ = r.Type
		}
		f.buf = append(f.buf, r.Value...)
	}
}

// tooLarge logs that the clipboard's text was ignored; size is its size in
// bytes if known, else negative.
func (c *Clipboard) tooLarge(size int) {
	if size >= 0 {
		c.log.Info("the clipboard's text is too large: ignored", "bytes", size, "max_bytes", c.maxBytes)
	} else {
		c.log.Info("the clipboard's text is too large: ignored", "max_bytes", c.maxBytes)
	}
}

// decode returns the text of a property of type typ, and whether it is
// text.
func (c *Clipboard) decode(typ xproto.Atom, format byte, data []byte) (string, bool) {
	if format != 8 {
		c.log.Info("the clipboard's owner sent text in a format other than 8", "format", format)
		return "", false
	}
	if typ == xproto.AtomString {
		return fromLatin1(data), true
	}
	// UTF8_STRING, and anything else an owner calls text when asked for
	// UTF8_STRING or STRING (TEXT, text/plain;charset=utf-8).
	return strings.ToValidUTF8(string(data), "\uFFFD"), true
}

// propertyChanged handles a PropertyNotify: our timestamp, an INCR chunk
// for us, or a requestor that took our INCR chunk.
func (c *Clipboard) propertyChanged(e xproto.PropertyNotifyEvent) {
	if e.Window == c.win {
		switch {
		case e.Atom == c.atoms.stamp && e.State == xproto.PropertyNewValue && len(c.stamping) > 0:
			r := c.stamping[0]
			c.stamping = c.stamping[1:]
			c.finishSet(r, e.Time)
		case e.Atom == c.atoms.prop && e.State == xproto.PropertyNewValue && c.fetch != nil && c.fetch.incr:
			c.incrChunk()
		}
		return
	}
	if e.State != xproto.PropertyDelete {
		return
	}
	k := clipSendKey{e.Window, e.Atom}
	s, ok := c.sends[k]
	if !ok {
		return
	}
	n := min(c.chunk, len(s.data)-s.off)
	xproto.ChangeProperty(c.conn, xproto.PropModeReplace, k.win, k.prop, s.typ, 8, uint32(n), s.data[s.off:s.off+n])
	if n == 0 { // the empty chunk that ends it
		c.endSend(k)
		return
	}
	s.off += n
	s.deadline = time.Now().Add(c.timeout)
}

// startSet asks the server for the time with a zero-length append to our
// window's property; finishSet takes the clipboard when its notify comes.
func (c *Clipboard) startSet(r *clipSetRequest) {
	xproto.ChangeProperty(c.conn, xproto.PropModeAppend, c.win, c.atoms.stamp, xproto.AtomString, 8, 0, nil)
	c.stamping = append(c.stamping, r)
}

// finishSet takes the clipboard at time t for r.
func (c *Clipboard) finishSet(r *clipSetRequest, t xproto.Timestamp) {
	xproto.SetSelectionOwner(c.conn, c.win, c.atoms.clipboard, t)
	o, err := xproto.GetSelectionOwner(c.conn, c.atoms.clipboard).Reply()
	if err != nil {
		r.done <- c.lostErr(err)
		return
	}
	if o.Owner != c.win {
		r.done <- errors.New("x11: another client took the clipboard at the same moment")
		return
	}
	c.ownNotifies++
	r.own.time = t
	c.own = r.own
	c.log.Debug("took the clipboard", "bytes", len(r.own.utf8))
	r.done <- nil
}

// serve answers another client's SelectionRequest.
func (c *Clipboard) serve(e xproto.SelectionRequestEvent) {
	prop := e.Property
	if prop == xproto.AtomNone {
		prop = e.Target // an obsolete requestor (ICCCM 2.2)
	}
	o := c.own
	if e.Owner != c.win || e.Selection != c.atoms.clipboard || o == nil ||
		(e.Time != xproto.TimeCurrentTime && timeBefore(e.Time, o.time)) {
		c.notify(e, xproto.AtomNone)
		return
	}
	a := c.atoms
	switch e.Target {
	case a.targets:
		targets := []xproto.Atom{a.targets, a.timestamp, a.utf8, a.text}
		if o.latin1 != nil {
			targets = append(targets, xproto.AtomString)
		}
		data := make([]byte, 4*len(targets))
		for i, t := range targets {
			xgb.Put32(data[4*i:], uint32(t))
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, xproto.AtomAtom, 32, uint32(len(targets)), data)
	case a.timestamp:
		data := make([]byte, 4)
		xgb.Put32(data, uint32(o.time))
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, xproto.AtomInteger, 32, 1, data)
	case a.utf8, a.text:
		c.sendText(e, prop, a.utf8, o.utf8)
		return
	case xproto.AtomString:
		if o.latin1 == nil {
			c.notify(e, xproto.AtomNone)
			return
		}
		c.sendText(e, prop, xproto.AtomString, o.latin1)
		return
	default: // MULTIPLE included
		c.notify(e, xproto.AtomNone)
		return
	}
	c.notify(e, prop)
}

// sendText answers e with data of type typ in prop: in one property if it
// fits in a request, else by INCR.
func (c *Clipboard) sendText(e xproto.SelectionRequestEvent, prop, typ xproto.Atom, data []byte) {
	if e.Requestor == c.win {
		// Never ours: we do not convert while we own the clipboard, and
		// watching our own window by INCR's rules would break its mask.
		c.notify(e, xproto.AtomNone)
		return
	}
	if len(data) <= c.chunk {
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, typ, 8, uint32(len(data)), data)
		c.notify(e, prop)
		return
	}
	k := clipSendKey{e.Requestor, prop}
	if _, ok := c.sends[k]; ok {
		c.endSend(k) // the requestor gave up that one and asks again
	}
	if c.watched[k.win] == 0 {
		// Before the INCR property is written, so that its deletion
		// cannot come unseen.
		xproto.ChangeWindowAttributes(c.conn, k.win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	}
	c.watched[k.win]++
	c.sends[k] = &clipSend{typ: typ, data: data, deadline: time.Now().Add(c.timeout)}
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(data)))
	xproto.ChangeProperty(c.conn, xproto.PropModeReplace, k.win, k.prop, c.atoms.incr, 32, 1, size)
	c.notify(e, prop)
	c.log.Debug("sending the clipboard by INCR", "bytes", len(data))
}

// endSend forgets the outgoing transfer k, and stops watching its window
// if it was the last there.
func (c *Clipboard) endSend(k clipSendKey) {
	delete(c.sends, k)
	if c.watched[k.win]--; c.watched[k.win] <= 0 {
		delete(c.watched, k.win)
		xproto.ChangeWindowAttributes(c.conn, k.win, xproto.CwEventMask, []uint32{0})
	}
}

// notify tells e's requestor that the answer is in prop (None: refused).
func (c *Clipboard) notify(e xproto.SelectionRequestEvent, prop xproto.Atom) {
	ev := xproto.SelectionNotifyEvent{
		Time:      e.Time,
		Requestor: e.Requestor,
		Selection: e.Selection,
		Target:    e.Target,
		Property:  prop,
	}
	xproto.SendEvent(c.conn, false, e.Requestor, xproto.EventMaskNoEvent, string(ev.Bytes()))
}

// nextDeadline returns the earliest deadline of the transfers, if any.
func (c *Clipboard) nextDeadline() (time.Time, bool) {
	var d time.Time
	ok := false
	if c.fetch != nil {
		d, ok = c.fetch.deadline, true
	}
	for _, s := range c.sends {
		if !ok || s.deadline.Before(d) {
			d, ok = s.deadline, true
		}
	}
	return d, ok
}

// expire gives up the transfers whose other side has not moved in time.
func (c *Clipboard) expire(now time.Time) {
	if f := c.fetch; f != nil && !now.Before(f.deadline) {
		c.log.Info("the clipboard's owner did not answer in time", "timeout", c.timeout, "incr", f.incr)
		if f.incr {
			xproto.DeleteProperty(c.conn, c.win, c.atoms.prop)
		}
		c.endFetch("", false)
	}
	for k, s := range c.sends {
		if !now.Before(s.deadline) {
			c.log.Info("a client stopped taking the clipboard's text", "timeout", c.timeout, "sent", s.off, "bytes", len(s.data))
			c.endSend(k)
		}
	}
}

// timeBefore reports whether a is before b, on the server's wrapping
// millisecond clock.
func timeBefore(a, b xproto.Timestamp) bool { return int32(a-b) < 0 }

// toLatin1 returns s in Latin-1, or nil if it has a character beyond
// U+00FF.
func toLatin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil
		}
		b = append(b, byte(r))
	}
	return b
}

// fromLatin1 returns the Latin-1 bytes b as a UTF-8 string.
func fromLatin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}
