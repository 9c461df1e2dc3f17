package portal

// The D-Bus side: the portal's Request/Response pattern and its sessions.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// Names of xdg-desktop-portal on the session bus.
const (
	busName            = "org.freedesktop.portal.Desktop"
	objectPath         = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	ifaceScreenCast    = "org.freedesktop.portal.ScreenCast"
	ifaceRemoteDesktop = "org.freedesktop.portal.RemoteDesktop"
	ifaceRequest       = "org.freedesktop.portal.Request"
	ifaceSession       = "org.freedesktop.portal.Session"
	ifaceProperties    = "org.freedesktop.DBus.Properties"

	// mutterRemoteDesktop is on the bus where GNOME's mutter composites.
	mutterRemoteDesktop = "org.gnome.Mutter.RemoteDesktop"
)

// Values of the portal's options.
const (
	sourceMonitor       = 1 // SelectSources types
	cursorHidden        = 1 // cursor_mode
	cursorEmbedded      = 2
	cursorMetadata      = 4
	persistUntilRevoked = 2 // persist_mode: until the person revokes it
	deviceKeyboard      = 1 // SelectDevices types, Start's devices
	devicePointer       = 2
)

// Response codes of org.freedesktop.portal.Request.Response.
const (
	responseSuccess   = 0
	responseCancelled = 1 // the person cancelled the dialog
)

// bus is a connection to the session bus and the portal's object on it.
type bus struct {
	conn   *dbus.Conn
	obj    dbus.BusObject
	sender string // our unique name as request paths spell it: "1_42"
	owner  string // the portal's unique name: signals from others are ignored

	mu      sync.Mutex
	waiting map[dbus.ObjectPath]chan response // guarded by mu: requests awaiting their Response
	closed  map[dbus.ObjectPath]chan struct{} // guarded by mu: sessions, closed by the Closed signal
	done    chan struct{}                     // closed when the dispatcher ends
}

// response is a Request's Response signal.
type response struct {
	code    uint32
	results map[string]dbus.Variant
}

// dial connects to the session bus at address and finds the portal on it
// (starting it if it is D-Bus activatable). Errors are one line.
func dial(ctx context.Context, address string) (*bus, error) {
	if address == "" {
		return nil, fmt.Errorf("%w: no session bus address", ErrUnavailable)
	}
	conn, err := dbus.Connect(address)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to the session bus: %v", ErrUnavailable, err)
	}
	b := &bus{
		conn:    conn,
		obj:     conn.Object(busName, objectPath),
		waiting: map[dbus.ObjectPath]chan response{},
		closed:  map[dbus.ObjectPath]chan struct{}{},
		done:    make(chan struct{}),
	}
	names := conn.Names()
	if len(names) == 0 {
		conn.Close()
		return nil, fmt.Errorf("%w: the session bus gave no name", ErrUnavailable)
	}
	b.sender = strings.ReplaceAll(strings.TrimPrefix(names[0], ":"), ".", "_")
	// The first call starts an activatable portal; its owner is known after.
	if _, err := b.property(ctx, ifaceScreenCast, "version"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&b.owner); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	go b.dispatch(sigs)
	for _, m := range [][]dbus.MatchOption{
		{dbus.WithMatchSender(b.owner), dbus.WithMatchInterface(ifaceRequest), dbus.WithMatchMember("Response"),
			dbus.WithMatchPathNamespace(objectPath + "/request/" + dbus.ObjectPath(b.sender))},
		{dbus.WithMatchSender(b.owner), dbus.WithMatchInterface(ifaceSession), dbus.WithMatchMember("Closed"),
			dbus.WithMatchPathNamespace(objectPath + "/session/" + dbus.ObjectPath(b.sender))},
	} {
		if err := conn.AddMatchSignalContext(ctx, m...); err != nil {
			b.close()
			return nil, fmt.Errorf("portal: cannot watch the portal's signals: %v", err)
		}
	}
	return b, nil
}

// close disconnects and waits for the dispatcher.
func (b *bus) close() {
	b.conn.Close()
	<-b.done
}

// dispatch hands the portal's signals to whoever waits for them, until the
// connection closes.
func (b *bus) dispatch(sigs <-chan *dbus.Signal) {
	defer close(b.done)
	for s := range sigs {
		if s.Sender != b.owner {
			continue
		}
		switch s.Name {
		case ifaceRequest + ".Response":
			var r response
			if dbus.Store(s.Body, &r.code, &r.results) != nil {
				continue
			}
			b.mu.Lock()
			ch := b.waiting[s.Path]
			delete(b.waiting, s.Path)
			b.mu.Unlock()
			if ch != nil {
				ch <- r // cap 1, one Response per request
			}
		case ifaceSession + ".Closed":
			b.mu.Lock()
			ch := b.closed[s.Path]
			delete(b.closed, s.Path)
			b.mu.Unlock()
			if ch != nil {
				close(ch)
			}
		}
	}
}

// watchSession returns a channel closed when the portal closes session.
func (b *bus) watchSession(session dbus.ObjectPath) <-chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	b.closed[session] = ch
	b.mu.Unlock()
	return ch
}

// property reads a property of the portal's interface iface.
func (b *bus) property(ctx context.Context, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := b.obj.CallWithContext(ctx, ifaceProperties+".Get", 0, iface, name).Store(&v)
	if err != nil {
		return v, fmt.Errorf("the portal has no %s.%s: %v", trimPortal(iface), name, err)
	}
	return v, nil
}

// hasName reports whether name has an owner on the bus.
func (b *bus) hasName(ctx context.Context, name string) bool {
	var has bool
	err := b.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has)
	return err == nil && has
}

// uintProperty reads a uint32 property, or 0 when there is none.
func (b *bus) uintProperty(ctx context.Context, iface, name string) uint32 {
	v, err := b.property(ctx, iface, name)
	if err != nil {
		return 0
	}
	u, _ := v.Value().(uint32)
	return u
}

// request calls a method of the portal that answers with a Request, and
// waits for the Request's Response: the portal's results on success,
// ErrDeclined when the person cancelled the desktop's dialog, another
// one-line error otherwise. When ctx ends first, the request is closed
// (the dialog goes away) and ctx.Err() returned. opts are the method's
// options (its last argument); handle_token is added.
func (b *bus) request(ctx context.Context, method string, opts map[string]dbus.Variant, args ...any) (map[string]dbus.Variant, error) {
	token := newToken()
	opts["handle_token"] = dbus.MakeVariant(token)
	path := objectPath + "/request/" + dbus.ObjectPath(b.sender) + "/" + dbus.ObjectPath(token)
	ch := make(chan response, 1)
	b.mu.Lock()
	b.waiting[path] = ch
	b.mu.Unlock()
	forget := func(p dbus.ObjectPath) {
		b.mu.Lock()
		delete(b.waiting, p)
		b.mu.Unlock()
	}
	defer forget(path)
	// withdraw closes the request (the dialog goes away) when ctx ended
	// while the portal may have it open.
	withdraw := func(p dbus.ObjectPath) error {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		b.conn.Object(busName, p).CallWithContext(cctx, ifaceRequest+".Close", 0)
		cancel()
		return ctx.Err()
	}
	var handle dbus.ObjectPath
	if err := b.obj.CallWithContext(ctx, method, 0, append(args, opts)...).Store(&handle); err != nil {
		if ctx.Err() != nil {
			return nil, withdraw(path)
		}
		return nil, fmt.Errorf("portal: %s: %v", trimPortal(method), err)
	}
	if handle != path {
		// Portals before 0.9 chose the path themselves: a Response sent
		// before this line is missed, which such old portals never did
		// (they answered after the person's choice).
		b.mu.Lock()
		b.waiting[handle] = ch
		b.mu.Unlock()
		defer forget(handle)
	}
	select {
	case r := <-ch:
		switch r.code {
		case responseSuccess:
			return r.results, nil
		case responseCancelled:
			return nil, ErrDeclined
		default:
			return nil, fmt.Errorf("portal: the desktop ended %s with an error (response %d)", trimPortal(method), r.code)
		}
	case <-ctx.Done():
		return nil, withdraw(handle)
	case <-b.done:
		return nil, errLost
	}
}

// call calls a method of the portal that answers at once.
func (b *bus) call(ctx context.Context, method string, args ...any) error {
	if err := b.obj.CallWithContext(ctx, method, 0, args...).Err; err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !b.conn.Connected() {
			return errLost
		}
		return fmt.Errorf("portal: %s: %v", trimPortal(method), err)
	}
	return nil
}

// closeSession asks the portal to end session (it stops the stream and
// the desktop's sharing indicator). Errors are ignored: the session may
// be gone already.
func (b *bus) closeSession(session dbus.ObjectPath) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b.conn.Object(busName, session).CallWithContext(ctx, ifaceSession+".Close", 0)
}

// newToken returns a handle_token: unique enough, and a valid object
// path element.
func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return "gethelp_" + hex.EncodeToString(b[:])
}

// trimPortal shortens an interface or method name for messages:
// "ScreenCast.Start".
func trimPortal(name string) string { return strings.TrimPrefix(name, "org.freedesktop.portal.") }

// errLost is returned when the connection to the session bus broke.
var errLost = errors.New("portal: the connection to the session bus was lost")
