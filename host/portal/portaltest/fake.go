//go:build linux

package portaltest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	busName    = "org.freedesktop.portal.Desktop"
	objectPath = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	screenCast = "org.freedesktop.portal.ScreenCast"
	remoteDesk = "org.freedesktop.portal.RemoteDesktop"
)

// Portal is a fake xdg-desktop-portal with ScreenCast and RemoteDesktop,
// strict about what the real one refuses. Set its fields, then Start it.
// Its zero value (with PipeWire, Node and Size, which Env sets) grants
// what it is asked at once, as a person clicking Share would.
type Portal struct {
	PipeWire *PipeWire // where OpenPipeWireRemote connects
	Node     uint32    // the node Start reports
	Size     [2]int32  // the size Start reports; {-1, -1} omits it

	Cancel          bool   // Start answers 1: the person cancelled the dialog
	Hold            bool   // Start never answers (the dialog stays up) until Request.Close
	NoRemoteDesktop bool   // offer ScreenCast only (as xdg-desktop-portal-wlr)
	Devices         uint32 // the devices Start grants; 0: those asked
	Mutter          bool   // also own org.gnome.Mutter.RemoteDesktop, as on GNOME

	mu       sync.Mutex
	conn     *dbus.Conn
	calls    []Call
	changed  chan struct{} // closed and replaced at each call
	sessions map[dbus.ObjectPath]*session
	tokens   int
	files    []*os.File
	timers   []*time.Timer
}

// Call is a method call the portal received.
type Call struct {
	Method  string                  // "Start", "NotifyPointerButton", "Session.Close"…
	Session dbus.ObjectPath         // "" for none
	Options map[string]dbus.Variant // the call's options
	Args    []any                   // the other arguments, in order
}

// session is a portal session.
type session struct {
	sender   string
	remote   bool
	devices  uint32 // selected
	sources  bool   // SelectSources done
	started  bool
	granted  uint32
	persist  bool
	restored string // the restore_token the client gave
}

// Start claims the portal's name on the bus at address and serves until
// the test ends.
func (p *Portal) Start(t testing.TB, address string) {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatalf("fake portal: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		p.mu.Lock()
		for _, tm := range p.timers {
			tm.Stop()
		}
		for _, f := range p.files {
			f.Close()
		}
		p.mu.Unlock()
	})
	p.mu.Lock()
	p.conn = conn
	p.sessions = map[dbus.ObjectPath]*session{}
	p.changed = make(chan struct{})
	p.mu.Unlock()
	if err := conn.Export(&screenCastObj{p}, objectPath, screenCast); err != nil {
		t.Fatal(err)
	}
	props := prop.Map{screenCast: {
		"version":              {Value: uint32(5)},
		"AvailableSourceTypes": {Value: uint32(1 | 2)},
		"AvailableCursorModes": {Value: uint32(1 | 2 | 4)},
	}}
	if !p.NoRemoteDesktop {
		if err := conn.Export(&remoteDesktopObj{p}, objectPath, remoteDesk); err != nil {
			t.Fatal(err)
		}
		props[remoteDesk] = map[string]*prop.Prop{
			"version":              {Value: uint32(2)},
			"AvailableDeviceTypes": {Value: uint32(1 | 2 | 4)},
		}
	}
	if _, err := prop.Export(conn, objectPath, props); err != nil {
		t.Fatal(err)
	}
	names := []string{busName}
	if p.Mutter {
		names = append(names, "org.gnome.Mutter.RemoteDesktop")
	}
	for _, name := range names {
		reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
		if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
			t.Fatalf("fake portal: cannot own %s: %v %v", name, reply, err)
		}
	}
}

// Calls returns the calls received so far.
func (p *Portal) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// WaitCalls waits until the portal received n calls whose method starts
// with prefix, and returns them.
func (p *Portal) WaitCalls(ctx context.Context, prefix string, n int) ([]Call, error) {
	for {
		p.mu.Lock()
		var got []Call
		for _, c := range p.calls {
			if strings.HasPrefix(c.Method, prefix) {
				got = append(got, c)
			}
		}
		changed := p.changed
		p.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("portaltest: %d calls of %s, not %d: %w", len(got), prefix, n, ctx.Err())
		}
	}
}

// CloseSessions ends every session as the desktop does when the person
// stops sharing: the Session's Closed signal.
func (p *Portal) CloseSessions() {
	p.mu.Lock()
	var paths []dbus.ObjectPath
	for path := range p.sessions {
		paths = append(paths, path)
	}
	clear(p.sessions)
	conn := p.conn
	p.mu.Unlock()
	for _, path := range paths {
		conn.Emit(path, "org.freedesktop.portal.Session.Closed", map[string]dbus.Variant{})
	}
}

// recordLocked notes a call.
func (p *Portal) recordLocked(method string, session dbus.ObjectPath, opts map[string]dbus.Variant, args ...any) {
	p.calls = append(p.calls, Call{Method: method, Session: session, Options: opts, Args: args})
	close(p.changed)
	p.changed = make(chan struct{})
}

// request answers a call with the Request's path and sends its Response
// with code and results (unless hold).
func (p *Portal) requestLocked(sender dbus.Sender, opts map[string]dbus.Variant, code uint32, results map[string]dbus.Variant, hold bool) (dbus.ObjectPath, *dbus.Error) {
	token, ok := opts["handle_token"].Value().(string)
	if !ok || !dbus.ObjectPath("/"+token).IsValid() {
		return "", dbus.MakeFailedError(fmt.Errorf("handle_token missing or invalid"))
	}
	path := objectPath + "/request/" + dbus.ObjectPath(senderElement(sender)) + "/" + dbus.ObjectPath(token)
	conn := p.conn
	if hold {
		conn.Export(&requestObj{p}, path, "org.freedesktop.portal.Request")
		return path, nil
	}
	go conn.Emit(path, "org.freedesktop.portal.Request.Response", code, results)
	return path, nil
}

// sessionLocked returns the sender's session at path, or an error.
func (p *Portal) sessionLocked(sender dbus.Sender, path dbus.ObjectPath) (*session, *dbus.Error) {
	s := p.sessions[path]
	if s == nil || s.sender != string(sender) {
		return nil, dbus.MakeFailedError(fmt.Errorf("no session %s of %s", path, sender))
	}
	return s, nil
}

func (p *Portal) createSession(sender dbus.Sender, opts map[string]dbus.Variant, remote bool) (dbus.ObjectPath, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := "CreateSession"
	if remote {
		name = "RemoteDesktop.CreateSession"
	}
	p.recordLocked(name, "", opts)
	token, ok := opts["session_handle_token"].Value().(string)
	if !ok || !dbus.ObjectPath("/"+token).IsValid() {
		return "", dbus.MakeFailedError(fmt.Errorf("session_handle_token missing or invalid"))
	}
	path := objectPath + "/session/" + dbus.ObjectPath(senderElement(sender)) + "/" + dbus.ObjectPath(token)
	p.sessions[path] = &session{sender: string(sender), remote: remote}
	p.conn.Export(&sessionObj{p, path}, path, "org.freedesktop.portal.Session")
	return p.requestLocked(sender, opts, 0, map[string]dbus.Variant{"session_handle": dbus.MakeVariant(string(path))}, false)
}

func (p *Portal) selectSources(sender dbus.Sender, path dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked("SelectSources", path, opts)
	s, err := p.sessionLocked(sender, path)
	if err != nil {
		return "", err
	}
	if s.started || s.sources {
		return "", dbus.MakeFailedError(fmt.Errorf("sources already selected"))
	}
	for k, v := range opts {
		switch k {
		case "handle_token":
		case "types", "cursor_mode", "persist_mode":
			u, ok := v.Value().(uint32)
			if !ok {
				return "", dbus.MakeFailedError(fmt.Errorf("%s is a %s, not u", k, v.Signature()))
			}
			if k == "persist_mode" {
				if s.remote {
					return "", dbus.MakeFailedError(fmt.Errorf("Remote desktop sessions cannot persist"))
				}
				s.persist = u != 0
			}
			if k == "cursor_mode" && u != 1 && u != 2 && u != 4 {
				return "", dbus.MakeFailedError(fmt.Errorf("unknown cursor_mode %d", u))
			}
		case "multiple":
			if _, ok := v.Value().(bool); !ok {
				return "", dbus.MakeFailedError(fmt.Errorf("multiple is not b"))
			}
		case "restore_token":
			if s.remote {
				return "", dbus.MakeFailedError(fmt.Errorf("Remote desktop sessions cannot be restored here"))
			}
			s.restored, _ = v.Value().(string)
		default:
			return "", dbus.MakeFailedError(fmt.Errorf("unknown option %s", k))
		}
	}
	s.sources = true
	return p.requestLocked(sender, opts, 0, map[string]dbus.Variant{}, false)
}

func (p *Portal) selectDevices(sender dbus.Sender, path dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked("SelectDevices", path, opts)
	s, err := p.sessionLocked(sender, path)
	if err != nil {
		return "", err
	}
	if !s.remote || s.started {
		return "", dbus.MakeFailedError(fmt.Errorf("not a remote desktop session, or started"))
	}
	for k, v := range opts {
		switch k {
		case "handle_token":
		case "types":
			s.devices, _ = v.Value().(uint32)
		case "persist_mode":
			u, _ := v.Value().(uint32)
			s.persist = u != 0
		case "restore_token":
			s.restored, _ = v.Value().(string)
		default:
			return "", dbus.MakeFailedError(fmt.Errorf("unknown option %s", k))
		}
	}
	return p.requestLocked(sender, opts, 0, map[string]dbus.Variant{}, false)
}

// streamProps is one entry of Start's streams, a(ua{sv}).
type streamProps struct {
	Node  uint32
	Props map[string]dbus.Variant
}

func (p *Portal) start(sender dbus.Sender, path dbus.ObjectPath, parent string, opts map[string]dbus.Variant, remote bool) (dbus.ObjectPath, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := "Start"
	if remote {
		name = "RemoteDesktop.Start"
	}
	p.recordLocked(name, path, opts, parent)
	s, err := p.sessionLocked(sender, path)
	if err != nil {
		return "", err
	}
	if s.remote != remote || !s.sources || s.started {
		return "", dbus.MakeFailedError(fmt.Errorf("session not ready to start"))
	}
	if p.Cancel {
		return p.requestLocked(sender, opts, 1, map[string]dbus.Variant{}, false)
	}
	if p.Hold {
		return p.requestLocked(sender, opts, 0, nil, true)
	}
	s.started = true
	props := map[string]dbus.Variant{
		"position":    dbus.MakeVariant(struct{ X, Y int32 }{0, 0}),
		"source_type": dbus.MakeVariant(uint32(1)),
	}
	if p.Size != [2]int32{-1, -1} {
		props["size"] = dbus.MakeVariant(struct{ W, H int32 }{p.Size[0], p.Size[1]})
	}
	results := map[string]dbus.Variant{
		"streams": dbus.MakeVariant([]streamProps{{p.Node, props}}),
	}
	if remote {
		s.granted = s.devices
		if p.Devices != 0 {
			s.granted = p.Devices
		}
		results["devices"] = dbus.MakeVariant(s.granted)
	}
	if s.persist {
		p.tokens++
		results["restore_token"] = dbus.MakeVariant(fmt.Sprintf("token-%d", p.tokens))
	}
	return p.requestLocked(sender, opts, 0, results, false)
}

func (p *Portal) openPipeWireRemote(sender dbus.Sender, path dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.UnixFD, *dbus.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked("OpenPipeWireRemote", path, opts)
	s, err := p.sessionLocked(sender, path)
	if err != nil {
		return -1, err
	}
	if !s.started {
		return -1, dbus.MakeFailedError(fmt.Errorf("session not started"))
	}
	f, cerr := p.PipeWire.Connect()
	if cerr != nil {
		return -1, dbus.MakeFailedError(cerr)
	}
	// The reply carries a copy; this one is closed once it is surely sent,
	// so that PipeWire sees the client go when the client's process ends.
	p.files = append(p.files, f)
	p.timers = append(p.timers, time.AfterFunc(2*time.Second, func() { f.Close() }))
	return dbus.UnixFD(f.Fd()), nil
}

// notify records an input call after checking the session may make it.
func (p *Portal) notify(sender dbus.Sender, method string, path dbus.ObjectPath, opts map[string]dbus.Variant, device uint32, args ...any) *dbus.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.sessionLocked(sender, path)
	if err != nil {
		return err
	}
	if !s.remote || !s.started || s.granted&device == 0 {
		return dbus.MakeFailedError(fmt.Errorf("%s: session not started or device %d not granted", method, device))
	}
	p.recordLocked(method, path, opts, args...)
	return nil
}

// senderElement is a unique name as request and session paths spell it.
func senderElement(sender dbus.Sender) string {
	return strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_")
}

// screenCastObj is org.freedesktop.portal.ScreenCast.
type screenCastObj struct{ p *Portal }

func (o *screenCastObj) CreateSession(sender dbus.Sender, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.createSession(sender, opts, false)
}

func (o *screenCastObj) SelectSources(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.selectSources(sender, session, opts)
}

func (o *screenCastObj) Start(sender dbus.Sender, session dbus.ObjectPath, parent string, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.start(sender, session, parent, opts, false)
}

func (o *screenCastObj) OpenPipeWireRemote(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.UnixFD, *dbus.Error) {
	return o.p.openPipeWireRemote(sender, session, opts)
}

// remoteDesktopObj is org.freedesktop.portal.RemoteDesktop.
type remoteDesktopObj struct{ p *Portal }

func (o *remoteDesktopObj) CreateSession(sender dbus.Sender, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.createSession(sender, opts, true)
}

func (o *remoteDesktopObj) SelectDevices(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.selectDevices(sender, session, opts)
}

func (o *remoteDesktopObj) Start(sender dbus.Sender, session dbus.ObjectPath, parent string, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	return o.p.start(sender, session, parent, opts, true)
}

func (o *remoteDesktopObj) NotifyPointerMotionAbsolute(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant, stream uint32, x, y float64) *dbus.Error {
	if stream != o.p.Node {
		return dbus.MakeFailedError(fmt.Errorf("no stream %d", stream))
	}
	return o.p.notify(sender, "NotifyPointerMotionAbsolute", session, opts, 2, stream, x, y)
}

func (o *remoteDesktopObj) NotifyPointerButton(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant, button int32, state uint32) *dbus.Error {
	return o.p.notify(sender, "NotifyPointerButton", session, opts, 2, button, state)
}

func (o *remoteDesktopObj) NotifyPointerAxisDiscrete(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant, axis uint32, steps int32) *dbus.Error {
	return o.p.notify(sender, "NotifyPointerAxisDiscrete", session, opts, 2, axis, steps)
}

func (o *remoteDesktopObj) NotifyKeyboardKeysym(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant, keysym int32, state uint32) *dbus.Error {
	return o.p.notify(sender, "NotifyKeyboardKeysym", session, opts, 1, keysym, state)
}

func (o *remoteDesktopObj) NotifyKeyboardKeycode(sender dbus.Sender, session dbus.ObjectPath, opts map[string]dbus.Variant, keycode int32, state uint32) *dbus.Error {
	return o.p.notify(sender, "NotifyKeyboardKeycode", session, opts, 1, keycode, state)
}

// sessionObj is org.freedesktop.portal.Session.
type sessionObj struct {
	p    *Portal
	path dbus.ObjectPath
}

func (o *sessionObj) Close(sender dbus.Sender) *dbus.Error {
	p := o.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recordLocked("Session.Close", o.path, nil)
	if s := p.sessions[o.path]; s == nil || s.sender != string(sender) {
		return dbus.MakeFailedError(fmt.Errorf("no session %s", o.path))
	}
	delete(p.sessions, o.path)
	p.conn.Export(nil, o.path, "org.freedesktop.portal.Session")
	return nil
}

// requestObj is org.freedesktop.portal.Request, exported while a request
// is held.
type requestObj struct{ p *Portal }

func (o *requestObj) Close(msg dbus.Message) *dbus.Error {
	p := o.p
	p.mu.Lock()
	defer p.mu.Unlock()
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	p.recordLocked("Request.Close", "", nil, path)
	p.conn.Export(nil, path, "org.freedesktop.portal.Request")
	return nil
}
