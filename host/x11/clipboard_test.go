package x11_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host/x11"
)

// openClipboard opens a Clipboard on display with its log in the returned
// buffer (shown when the test fails), closed when the test ends. A test
// opens its first Clipboard before its own connections (see
// initExtensions).
func openClipboard(t *testing.T, display string, opts x11.ClipboardOptions) (*x11.Clipboard, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cb, err := x11.OpenClipboard(display, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cb.Close()
		if t.Failed() {
			t.Logf("clipboard log:\n%s", logs)
		}
	})
	return cb, logs
}

// setClipboard sets cb's text, failing the test on an error.
func setClipboard(t *testing.T, cb *x11.Clipboard, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cb.Set(ctx, text); err != nil {
		t.Fatalf("Set(%d bytes): %v", len(text), err)
	}
}

// expectClipboardChange fails the test unless cb reports want within 5 seconds
// (and nothing else first).
func expectClipboardChange(t *testing.T, cb *x11.Clipboard, want, what string) {
	t.Helper()
	select {
	case got, ok := <-cb.Changes():
		if !ok {
			t.Fatalf("%s: Changes closed: %v", what, cb.Err())
		}
		if got != want {
			t.Fatalf("%s: Changes gave %s, want %s", what, abbrevText(got), abbrevText(want))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no change reported within 5s", what)
	}
}

// expectNoClipboardChange fails the test if cb has a change ready.
func expectNoClipboardChange(t *testing.T, cb *x11.Clipboard, what string) {
	t.Helper()
	select {
	case got := <-cb.Changes():
		t.Fatalf("%s: Changes gave %s, want nothing", what, abbrevText(got))
	default:
	}
}

// logHas reports whether a line of logs past offset from has all of
// parts.
func logHas(logs *logBuffer, from int, parts ...string) bool {
	for line := range strings.Lines(logs.String()[from:]) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			return true
		}
	}
	return false
}

// abbrevText shows s, or its length and ends if it is long.
func abbrevText(s string) string {
	if len(s) <= 40 {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%d bytes %q…%q", len(s), s[:16], s[len(s)-16:])
}

// longClipboardText returns text of exactly n bytes with multi-byte
// characters, and a number every so often so that misplaced chunks show.
func longClipboardText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%d: grüße ✓ ", i)
	}
	s := b.String()
	for len(s) > n { // cut on a character boundary, then pad with ASCII
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s + strings.Repeat(".", n-len(s))
}

// peer is another X client in the test: a requestor or an owner of
// CLIPBOARD written directly on xgb, independent of the Clipboard's code.
// A peer is used either as a requestor or as an owner, never both.
type peer struct {
	t   *testing.T
	c   *xgb.Conn
	win xproto.Window

	notifies chan xproto.SelectionNotifyEvent
	requests chan xproto.SelectionRequestEvent
	props    chan xproto.PropertyNotifyEvent
	served   chan peerServed // as an owner: each request answered (or received, if it hangs)
	stop     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	atoms   map[string]xproto.Atom                       // guarded by mu
	answers map[xproto.Window]map[xproto.Atom]peerAnswer // guarded by mu: by owner window
}

// peerServed is a request a peer answered as an owner.
type peerServed struct {
	owner  xproto.Window
	target string
}

// peerAnswer is how a peer that owns CLIPBOARD answers one target.
type peerAnswer struct {
	typ        string // the property's type
	data       []byte
	chunk      int  // > 0: by INCR, in chunks of this size
	understate bool // the INCR property says 1 byte (it is a lower bound)
	hang       bool // never answer
}

// newPeer connects to display with a window of its own, and starts its
// event reader and its server of selection requests.
func newPeer(t *testing.T, display string) *peer {
	t.Helper()
	c, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{
		t: t, c: c,
		notifies: make(chan xproto.SelectionNotifyEvent, 16),
		requests: make(chan xproto.SelectionRequestEvent, 16),
		props:    make(chan xproto.PropertyNotifyEvent, 4096),
		served:   make(chan peerServed, 64),
		stop:     make(chan struct{}),
		atoms:    make(map[string]xproto.Atom),
		answers:  make(map[xproto.Window]map[xproto.Atom]peerAnswer),
	}
	p.wg.Add(2)
	go p.read()
	go p.serve()
	t.Cleanup(func() {
		close(p.stop)
		c.Close()
		p.wg.Wait()
	})
	p.win = p.window(t)
	return p
}

// window creates an unmapped window that selects PropertyChange.
func (p *peer) window(t *testing.T) xproto.Window {
	t.Helper()
	win, err := xproto.NewWindowId(p.c)
	if err != nil {
		t.Fatal(err)
	}
	root := xproto.Setup(p.c).DefaultScreen(p.c).Root
	if err := xproto.CreateWindowChecked(p.c, 0, win, root, -1, -1, 1, 1, 0, xproto.WindowClassInputOnly, 0,
		xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		t.Fatal(err)
	}
	return win
}

func (p *peer) read() {
	defer p.wg.Done()
	for {
		ev, _ := p.c.WaitForEvent()
		if ev == nil {
			select {
			case <-p.stop:
				return
			default:
				continue // an X error
			}
		}
		var ok bool
		switch e := ev.(type) {
		case xproto.SelectionNotifyEvent:
			ok = sendUnlessStopped(p.stop, p.notifies, e)
		case xproto.SelectionRequestEvent:
			ok = sendUnlessStopped(p.stop, p.requests, e)
		case xproto.PropertyNotifyEvent:
			ok = sendUnlessStopped(p.stop, p.props, e)
		default:
			ok = true
		}
		if !ok {
			return
		}
	}
}

// sendUnlessStopped sends v on ch unless stop is closed first.
func sendUnlessStopped[T any](stop chan struct{}, ch chan T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-stop:
		return false
	}
}

// atom interns name.
func (p *peer) atom(name string) xproto.Atom {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.atoms[name]; ok {
		return a
	}
	r, err := xproto.InternAtom(p.c, false, uint16(len(name)), name).Reply()
	if err != nil {
		p.t.Error(err)
		return 0
	}
	p.atoms[name] = r.Atom
	return r.Atom
}

// name returns the name of atom a.
func (p *peer) name(a xproto.Atom) string {
	if a == xproto.AtomNone {
		return "None"
	}
	r, err := xproto.GetAtomName(p.c, a).Reply()
	if err != nil {
		return fmt.Sprintf("atom %d (%v)", a, err)
	}
	return r.Name
}

// own takes CLIPBOARD (at CurrentTime, as xclip does) with a new window,
// which it returns, and answers targets as answers say; other targets are
// refused. Requests come to the window that owns the selection when the
// server sees them, so each ownership has a window of its own.
func (p *peer) own(t *testing.T, answers map[string]peerAnswer) xproto.Window {
	t.Helper()
	m := make(map[xproto.Atom]peerAnswer)
	for name, a := range answers {
		m[p.atom(name)] = a
	}
	win := p.window(t)
	p.mu.Lock()
	p.answers[win] = m
	p.mu.Unlock()
	if err := xproto.SetSelectionOwnerChecked(p.c, win, p.atom("CLIPBOARD"), xproto.TimeCurrentTime).Check(); err != nil {
		t.Fatal(err)
	}
	return win
}

// serve answers selection requests to the peer's owner windows.
func (p *peer) serve() {
	defer p.wg.Done()
	for {
		var e xproto.SelectionRequestEvent
		select {
		case e = <-p.requests:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		a, ok := p.answers[e.Owner][e.Target]
		p.mu.Unlock()
		switch {
		case !ok:
			p.notify(e, xproto.AtomNone)
		case a.hang:
		case a.chunk > 0:
			p.sendIncr(e, a)
		default:
			xproto.ChangeProperty(p.c, xproto.PropModeReplace, e.Requestor, e.Property, p.atom(a.typ), 8, uint32(len(a.data)), a.data)
			p.notify(e, e.Property)
		}
		if _, err := xproto.GetInputFocus(p.c).Reply(); err != nil { // the server has it all
			return
		}
		select {
		case p.served <- peerServed{e.Owner, p.name(e.Target)}:
		default:
		}
	}
}

// waitServed waits until the peer has answered a request for target to
// its window owner.
func (p *peer) waitServed(t *testing.T, owner xproto.Window, target string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-p.served:
			if got == (peerServed{owner, target}) {
				return
			}
		case <-deadline:
			t.Fatalf("peer: no request for %s within 5s", target)
		}
	}
}

func (p *peer) notify(e xproto.SelectionRequestEvent, prop xproto.Atom) {
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(p.c, false, e.Requestor, 0, string(ev.Bytes()))
}

// sendIncr answers e by INCR as ICCCM says. A deletion is taken as the
// requestor's only once the property is really gone: the PropertyNotify of
// an earlier transfer can still be on its way.
func (p *peer) sendIncr(e xproto.SelectionRequestEvent, a peerAnswer) {
	win, prop := e.Requestor, e.Property
	xproto.ChangeWindowAttributes(p.c, win, xproto.CwEventMask, []uint32{xproto.EventMaskPropertyChange})
	defer xproto.ChangeWindowAttributes(p.c, win, xproto.CwEventMask, []uint32{0})
	size := make([]byte, 4)
	xgb.Put32(size, uint32(len(a.data)))
	if a.understate {
		xgb.Put32(size, 1)
	}
	xproto.ChangeProperty(p.c, xproto.PropModeReplace, win, prop, p.atom("INCR"), 32, 1, size)
	p.notify(e, prop)
	for off := 0; ; {
		if !p.waitDeleted(win, prop) {
			p.t.Errorf("peer: the requestor did not take an INCR chunk within 5s (%d of %d bytes sent)", off, len(a.data))
			return
		}
		n := min(a.chunk, len(a.data)-off)
		xproto.ChangeProperty(p.c, xproto.PropModeReplace, win, prop, p.atom(a.typ), 8, uint32(n), a.data[off:off+n])
		if n == 0 {
			return
		}
		off += n
	}
}

// waitDeleted waits up to 5 seconds until prop on win is deleted.
func (p *peer) waitDeleted(win xproto.Window, prop xproto.Atom) bool {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-p.props:
			if e.Window != win || e.Atom != prop || e.State != xproto.PropertyDelete {
				continue
			}
			r, err := xproto.GetProperty(p.c, false, win, prop, xproto.GetPropertyTypeAny, 0, 0).Reply()
			if err != nil || r.Type == xproto.AtomNone {
				return err == nil
			}
		case <-deadline:
			return false
		case <-p.stop:
			return false
		}
	}
}

// waitProp waits up to 5 seconds for a PropertyNotify of state for prop
// on win, dropping others.
func (p *peer) waitProp(win xproto.Window, prop xproto.Atom, state byte) bool {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-p.props:
			if e.Window == win && e.Atom == prop && e.State == state {
				return true
			}
		case <-deadline:
			return false
		case <-p.stop:
			return false
		}
	}
}

// convert asks CLIPBOARD's owner for target and returns the answer's type
// (None when refused), format and data, reading INCR transfers whole.
func (p *peer) convert(t *testing.T, target string) (typ string, format byte, data []byte) {
	t.Helper()
	for len(p.props) > 0 { // an earlier conversion's
		<-p.props
	}
	prop := p.atom("PEER_PROP")
	xproto.ConvertSelection(p.c, p.win, p.atom("CLIPBOARD"), p.atom(target), prop, xproto.TimeCurrentTime)
	var e xproto.SelectionNotifyEvent
	select {
	case e = <-p.notifies:
	case <-time.After(5 * time.Second):
		t.Fatalf("no SelectionNotify for %s within 5s", target)
	}
	if e.Target != p.atom(target) {
		t.Fatalf("SelectionNotify for target %s, want %s", p.name(e.Target), target)
	}
	if e.Property == xproto.AtomNone {
		return "None", 0, nil
	}
	if e.Property != prop {
		t.Fatalf("answer in property %s, want PEER_PROP", p.name(e.Property))
	}
	r := p.getProperty(t, prop)
	if p.name(r.Type) != "INCR" {
		return p.name(r.Type), r.Format, r.Value
	}
	// Reading it deleted it, which started the transfer. A PropertyNotify
	// may be stale (the INCR property's own, one for a chunk read
	// already): then the property is gone.
	for {
		if !p.waitProp(p.win, prop, xproto.PropertyNewValue) {
			t.Fatalf("no INCR chunk within 5s after %d bytes", len(data))
		}
		r := p.getProperty(t, prop)
		switch {
		case r.Type == xproto.AtomNone:
		case r.ValueLen == 0:
			return typ, format, data
		default:
			typ, format = p.name(r.Type), r.Format
			data = append(data, r.Value...)
		}
	}
}

// getProperty reads and deletes prop of the peer's window.
func (p *peer) getProperty(t *testing.T, prop xproto.Atom) *xproto.GetPropertyReply {
	t.Helper()
	r, err := xproto.GetProperty(p.c, true, p.win, prop, xproto.GetPropertyTypeAny, 0, 1<<20).Reply()
	if err != nil {
		t.Fatal(err)
	}
	if r.BytesAfter > 0 {
		t.Fatalf("property larger than 4 MiB")
	}
	return r
}

// atomList returns the names of the atoms in data (format 32).
func (p *peer) atomList(data []byte) []string {
	var names []string
	for i := 0; i+4 <= len(data); i += 4 {
		names = append(names, p.name(xproto.Atom(xgb.Get32(data[i:]))))
	}
	slices.Sort(names)
	return names
}

func TestClipboardBetweenTwoClients(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	a, _ := openClipboard(t, display, x11.ClipboardOptions{})
	b, _ := openClipboard(t, display, x11.ClipboardOptions{})

	const text = "héllo ✓"
	setClipboard(t, a, text)
	expectClipboardChange(t, b, text, "A.Set, seen by B")
	expectNoClipboardChange(t, a, "A.Set, seen by A")

	// Now B takes it: the first change A reports must be B's, not its own.
	setClipboard(t, b, "second\nline")
	expectClipboardChange(t, a, "second\nline", "B.Set, seen by A")
	expectNoClipboardChange(t, b, "B.Set, seen by B")

	// A takes it back, twice in a row: B sees the newer text last.
	setClipboard(t, a, "one")
	setClipboard(t, a, "two")
	deadline := time.After(5 * time.Second)
	for got := ""; got != "two"; {
		select {
		case got = <-b.Changes():
			if got != "one" && got != "two" {
				t.Fatalf("B got %q, want one then two", got)
			}
		case <-deadline:
			t.Fatalf("B did not see %q within 5s (last %q)", "two", got)
		}
	}
}

func TestClipboardLatency(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	a, _ := openClipboard(t, display, x11.ClipboardOptions{})
	b, _ := openClipboard(t, display, x11.ClipboardOptions{})
	const rounds = 50
	var took []time.Duration
	for i := range rounds {
		text := fmt.Sprintf("round %d", i)
		start := time.Now()
		setClipboard(t, a, text)
		setDone := time.Since(start)
		expectClipboardChange(t, b, text, text)
		took = append(took, time.Since(start))
		if i == 0 {
			t.Logf("first round: Set returned after %v, B reported after %v", setDone, took[0])
		}
	}
	slices.Sort(took)
	t.Logf("from A.Set to B's Changes over %d rounds: min %v, median %v, p90 %v, max %v",
		rounds, took[0], took[rounds/2], took[rounds*9/10], took[rounds-1])
}

func TestClipboardLargeText(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	a, alog := openClipboard(t, display, x11.ClipboardOptions{})
	b, _ := openClipboard(t, display, x11.ClipboardOptions{})
	p := newPeer(t, display)

	tests := []struct {
		name string
		size int
		incr bool
	}{
		{"64 KiB", 64 << 10, false},
		{"600 KB, by INCR", 600_000, true},
		{"1 MiB, the limit", 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := longClipboardText(tt.size)
			start := time.Now()
			setClipboard(t, a, text)
			expectClipboardChange(t, b, text, "B")
			t.Logf("%d bytes from A.Set to B's Changes: %v", len(text), time.Since(start))

			typ, format, data := p.convert(t, "UTF8_STRING")
			if typ != "UTF8_STRING" || format != 8 || string(data) != text {
				t.Fatalf("peer got %s/%d %s, want UTF8_STRING/8 %s", typ, format, abbrevText(string(data)), abbrevText(text))
			}
			if sentIncr := logHas(alog, 0, "sending the clipboard by INCR", fmt.Sprintf("bytes=%d\n", tt.size)); sentIncr != tt.incr {
				t.Errorf("sent by INCR: %v, want %v", sentIncr, tt.incr)
			}
		})
	}

	err := a.Set(context.Background(), longClipboardText(1<<20+1))
	if !errors.Is(err, x11.ErrClipboardTooLarge) || !strings.HasPrefix(err.Error(), "x11: ") {
		t.Errorf("Set(1 MiB + 1) = %v, want ErrClipboardTooLarge", err)
	}
}

func TestClipboardTargets(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	a, _ := openClipboard(t, display, x11.ClipboardOptions{})
	p := newPeer(t, display)

	type answer struct {
		typ    string
		format byte
		data   string
	}
	tests := []struct {
		name, text, target string
		want               answer
	}{
		{"UTF8_STRING", "héllo ✓", "UTF8_STRING", answer{"UTF8_STRING", 8, "héllo ✓"}},
		{"TEXT", "héllo ✓", "TEXT", answer{"UTF8_STRING", 8, "héllo ✓"}},
		{"STRING of Latin-1", "café ñ ÿ", "STRING", answer{"STRING", 8, "caf\xe9 \xf1 \xff"}},
		{"STRING beyond Latin-1", "✓", "STRING", answer{"None", 0, ""}},
		{"empty", "", "UTF8_STRING", answer{"UTF8_STRING", 8, ""}},
		{"unsupported target", "héllo", "image/png", answer{"None", 0, ""}},
		{"MULTIPLE", "héllo", "MULTIPLE", answer{"None", 0, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setClipboard(t, a, tt.text)
			typ, format, data := p.convert(t, tt.target)
			if got := (answer{typ, format, string(data)}); got != tt.want {
				t.Errorf("%s of %q = %+q, want %+q", tt.target, tt.text, got, tt.want)
			}
		})
	}

	t.Run("TARGETS", func(t *testing.T) {
		for text, want := range map[string][]string{
			"café": {"STRING", "TARGETS", "TEXT", "TIMESTAMP", "UTF8_STRING"},
			"✓":    {"TARGETS", "TEXT", "TIMESTAMP", "UTF8_STRING"},
		} {
			setClipboard(t, a, text)
			typ, format, data := p.convert(t, "TARGETS")
			if typ != "ATOM" || format != 32 {
				t.Fatalf("TARGETS answered as %s/%d, want ATOM/32", typ, format)
			}
			if got := p.atomList(data); !slices.Equal(got, want) {
				t.Errorf("TARGETS of %q = %v, want %v", text, got, want)
			}
		}
	})

	t.Run("TIMESTAMP", func(t *testing.T) {
		setClipboard(t, a, "x")
		typ, format, data := p.convert(t, "TIMESTAMP")
		if typ != "INTEGER" || format != 32 || len(data) != 4 || xgb.Get32(data) == 0 {
			t.Errorf("TIMESTAMP = %s/%d %x, want INTEGER/32 and a time", typ, format, data)
		}
	})
}

func TestClipboardFromOtherOwners(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	b, blog := openClipboard(t, display, x11.ClipboardOptions{MaxBytes: 10_000, Timeout: 300 * time.Millisecond})
	p := newPeer(t, display)

	big := []byte(longClipboardText(20_000))
	utf8 := func(data []byte) map[string]peerAnswer {
		return map[string]peerAnswer{"UTF8_STRING": {typ: "UTF8_STRING", data: data}}
	}
	incr := func(data []byte, chunk int) map[string]peerAnswer {
		return map[string]peerAnswer{"UTF8_STRING": {typ: "UTF8_STRING", data: data, chunk: chunk}}
	}
	tests := []struct {
		name    string
		answers map[string]peerAnswer
		want    string // "" expects no change, then the log line, after the peer answered last
		last    string
		log     string
	}{
		{name: "UTF8_STRING", answers: utf8([]byte("grüße ✓")), want: "grüße ✓"},
		{name: "STRING only", answers: map[string]peerAnswer{"STRING": {typ: "STRING", data: []byte("gr\xfc\xdfe")}}, want: "grüße"},
		{name: "STRING for UTF8_STRING", answers: map[string]peerAnswer{"UTF8_STRING": {typ: "STRING", data: []byte("\xe9t\xe9")}}, want: "été"},
		{name: "invalid UTF-8", answers: utf8([]byte("a\xffb")), want: "a\uFFFDb"},
		{name: "INCR", answers: incr([]byte(longClipboardText(9000)), 1000), want: longClipboardText(9000)},
		{name: "INCR, uneven chunks", answers: incr([]byte(longClipboardText(10_000)), 4093), want: longClipboardText(10_000)},
		{name: "INCR, empty", answers: incr(nil, 1000), want: ""},
		{name: "too large", answers: utf8(big), last: "UTF8_STRING", log: "too large: ignored"},
		{name: "too large by INCR", answers: incr(big, 3000), last: "UTF8_STRING", log: "too large: ignored"},
		{name: "too large by INCR, announced as small", answers: map[string]peerAnswer{"UTF8_STRING": {typ: "UTF8_STRING", data: big, chunk: 3000, understate: true}},
			last: "UTF8_STRING", log: "too large: ignored"},
		{name: "too large by INCR, one chunk", answers: incr(big, 30_000), last: "UTF8_STRING", log: "too large: ignored"},
		{name: "no text", answers: map[string]peerAnswer{"image/png": {typ: "image/png", data: []byte("\x89PNG")}}, last: "STRING", log: "refused to give it as text"},
		{name: "owner hangs", answers: map[string]peerAnswer{"UTF8_STRING": {hang: true}}, last: "UTF8_STRING", log: "did not answer in time"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := len(blog.String())
			owner := p.own(t, tt.answers)
			if tt.last == "" {
				expectClipboardChange(t, b, tt.want, "B")
				return
			}
			// Nothing to report; a good owner after the ignored one must
			// still be heard, after the log line that says why.
			p.waitServed(t, owner, tt.last)
			next := fmt.Sprintf("after %d", i)
			p.own(t, utf8([]byte(next)))
			expectClipboardChange(t, b, next, "B, from the next owner")
			if !logHas(blog, from, tt.log) {
				t.Errorf("no log line with %q", tt.log)
			}
		})
	}
}

func TestClipboardSetErrors(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	a, _ := openClipboard(t, display, x11.ClipboardOptions{MaxBytes: 10})
	ctx := context.Background()
	if err := a.Set(ctx, "0123456789"); err != nil {
		t.Errorf("Set(10 bytes) with MaxBytes 10 = %v", err)
	}
	if err := a.Set(ctx, "0123456789a"); !errors.Is(err, x11.ErrClipboardTooLarge) {
		t.Errorf("Set(11 bytes) with MaxBytes 10 = %v, want ErrClipboardTooLarge", err)
	}
	if err := a.Set(ctx, "a\xffb"); err == nil || err.Error() != "x11: clipboard text is not valid UTF-8" {
		t.Errorf("Set(invalid UTF-8) = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Set(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context = %v", err)
	}
}

func TestClipboardClose(t *testing.T) {
	display, _ := x11.StartXvfb(t, 640, 480, 24)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := x11.OpenClipboard(display, x11.ClipboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := x11.OpenClipboard(display, x11.ClipboardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setClipboard(t, a, "bye")
	expectClipboardChange(t, b, "bye", "B")
	// B is in the middle of nothing, A owns the clipboard.
	for name, cb := range map[string]*x11.Clipboard{"A": a, "B": b} {
		done := make(chan error, 1)
		go func() { done <- cb.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s.Close = %v", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s.Close still blocked after 5s", name)
		}
		if _, ok := <-cb.Changes(); ok {
			t.Errorf("%s: Changes delivered a value after Close; want it closed", name)
		}
		if err := cb.Err(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s.Err after Close = %v, want net.ErrClosed", name, err)
		}
		if err := cb.Set(context.Background(), "x"); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s.Set after Close = %v, want net.ErrClosed", name, err)
		}
		if err := cb.Close(); err != nil {
			t.Errorf("%s: second Close = %v", name, err)
		}
	}
}

func TestClipboardServerGoesAway(t *testing.T) {
	display, stop := x11.StartXvfb(t, 640, 480, 24)
	a, _ := openClipboard(t, display, x11.ClipboardOptions{})
	stop()
	select {
	case _, ok := <-a.Changes():
		if ok {
			t.Error("a change when the server went away")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Changes still open 10s after the server went away")
	}
	if err := a.Err(); !errors.Is(err, x11.ErrLost) {
		t.Errorf("Err = %v, want ErrLost", err)
	}
	if err := a.Set(context.Background(), "x"); !errors.Is(err, x11.ErrLost) {
		t.Errorf("Set = %v, want ErrLost", err)
	}
}

func TestOpenClipboardErrors(t *testing.T) {
	tests := []struct {
		name, display, want string
	}{
		{"no display", "", "x11: no display given"},
		{"no server", ":1999", "x11: cannot open display :1999: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := x11.OpenClipboard(tt.display, x11.ClipboardOptions{})
			if err == nil {
				cb.Close()
				t.Fatal("OpenClipboard succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("OpenClipboard(%q) = %q, want one line starting %q", tt.display, err, tt.want)
			}
		})
	}
}

func ExampleOpenClipboard() {
	cb, err := x11.OpenClipboard(":0", x11.ClipboardOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cb.Close()
	// The helper's text onto the person's clipboard:
	if err := cb.Set(context.Background(), "sudo apt install xclip"); err != nil {
		fmt.Println(err)
	}
	// And what the person copies, to the helper:
	for text := range cb.Changes() {
		fmt.Println("the person copied", len(text), "bytes")
	}
}
