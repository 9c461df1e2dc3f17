//go:build linux

package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// events collects what one side reports, for tests that look back.
type events[E any] struct {
	mu   sync.Mutex
	list []E
	more chan struct{}
}

func newEvents[E any]() *events[E] { return &events[E]{more: make(chan struct{}, 1)} }

func (e *events[E]) add(ev E) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	select {
	case e.more <- struct{}{}:
	default:
	}
}

// await waits until ok holds for the events so far, and returns them.
func (e *events[E]) await(t *testing.T, what string, ok func([]E) bool) []E {
	t.Helper()
	deadline := time.After(40 * time.Second)
	for {
		e.mu.Lock()
		list := slices.Clone(e.list)
		e.mu.Unlock()
		if ok(list) {
			return list
		}
		select {
		case <-e.more:
		case <-deadline:
			t.Fatalf("waited in vain for %s", what)
		}
	}
}

// TestNATResumeAfterHostAddressChange: mid-session, with a file on its way
// to the helper, the host's router gets another public address (its NAT
// mappings die with the old one). Both sides notice the lost connection,
// the viewer resumes the session through the rendezvous on a newly
// punched path, without a new password; chat written during the outage
// arrives once on each side, and the file finishes (resumed, SHA-256
// checked) without anyone accepting it again.
func TestNATResumeAfterHostAddressChange(t *testing.T) {
	r := startResumeLab(t, host.Config{})
	h, v, hostEv, viewEv, ctx := r.h, r.v, r.hostEv, r.viewEv, r.ctx

	// A file from the person to the helper, big enough to be under way
	// when the address changes. The helper accepts it once.
	data := make([]byte, 96<<20)
	rand.Read(data[:1<<20])
	for i := 1 << 20; i < len(data); i += 1 << 20 {
		copy(data[i:], data[:1<<20])
		data[i] ^= byte(i >> 20) // no two megabytes alike
	}
	src := filepath.Join(t.TempDir(), "logs.tar")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.SendFile(ctx, src); err != nil {
		t.Fatal(err)
	}
	offer := viewEv.await(t, "the file offer", func(es []viewer.Event) bool { return hasType(es, viewer.EventFileOffer) })
	if err := v.AcceptFile(lastOf(offer, viewer.EventFileOffer).ID); err != nil {
		t.Fatal(err)
	}
	viewEv.await(t, "the file under way", func(es []viewer.Event) bool {
		for _, e := range es {
			if e.Type == viewer.EventFileProgress && e.Done > 0 {
				return true
			}
		}
		return false
	})

	// The host's public address changes: its NAT's mappings are gone.
	r.moveHost("203.0.113.10", "203.0.113.11")
	changed := time.Now()
	if err := h.Chat("written during the outage by Alice"); err != nil {
		t.Fatalf("chat during the outage: %v", err)
	}
	if err := v.Chat("written during the outage by Bob"); err != nil {
		t.Fatalf("chat during the outage: %v", err)
	}

	viewEv.await(t, "the viewer noticing the loss", func(es []viewer.Event) bool { return hasType(es, viewer.EventReconnecting) })
	es := viewEv.await(t, "the viewer resuming", func(es []viewer.Event) bool {
		for _, e := range es {
			if e.Type == viewer.EventConnected && e.Resumed {
				return true
			}
		}
		return false
	})
	took := time.Since(changed)
	resumed := lastOf(es, viewer.EventConnected)
	t.Logf("resumed over %s at %s, %v after the address changed", resumed.Path, resumed.Addr, took.Round(time.Millisecond))
	if !strings.HasPrefix(resumed.Addr, "203.0.113.11:") {
		t.Errorf("resumed at %s, want the host's new public address 203.0.113.11", resumed.Addr)
	}
	hostEv.await(t, "the host resuming", func(es []host.Event) bool {
		for _, e := range es {
			if e.Type == host.EventConnected && e.Resumed {
				return true
			}
		}
		return false
	})
	if !hasType(hostEv.await(t, "host events", func([]host.Event) bool { return true }), host.EventReconnecting) {
		t.Error("the host resumed without having reported the loss")
	}

	// Chat from the outage arrives, once each.
	hostEv.await(t, "Bob's chat at the host", func(es []host.Event) bool {
		return countChat(es, func(e host.Event) (string, bool) { return e.Text, e.Self }, "written during the outage by Bob") >= 1
	})
	viewEv.await(t, "Alice's chat at the viewer", func(es []viewer.Event) bool {
		return countChat(es, func(e viewer.Event) (string, bool) { return e.Text, e.Self }, "written during the outage by Alice") >= 1
	})
	// The file arrives whole, without a second offer.
	es = viewEv.await(t, "the file received", func(es []viewer.Event) bool {
		return hasType(es, viewer.EventFileReceived) || hasType(es, viewer.EventFileFailed)
	})
	if e := lastOf(es, viewer.EventFileFailed); e.Type != "" {
		t.Fatalf("the file failed: %s", e.Reason)
	}
	got := lastOf(es, viewer.EventFileReceived)
	// It was cut by the loss and finished on the resumed connection.
	if slices.IndexFunc(es, func(e viewer.Event) bool { return e.Type == viewer.EventFileReceived }) <
		slices.IndexFunc(es, func(e viewer.Event) bool { return e.Type == viewer.EventConnected && e.Resumed }) {
		t.Fatal("the file arrived before the connection was lost: the test proves nothing about resuming it")
	}
	if n := countType(es, viewer.EventFileOffer); n != 1 {
		t.Errorf("the helper was offered the file %d times, want once", n)
	}
	b, err := os.ReadFile(got.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, data) {
		t.Fatalf("the received file differs (%d bytes, want %d)", len(b), len(data))
	}
	// Nothing was said twice: a little later, still one of each.
	time.Sleep(300 * time.Millisecond)
	hs := hostEv.await(t, "host events", func([]host.Event) bool { return true })
	vs := viewEv.await(t, "viewer events", func([]viewer.Event) bool { return true })
	if n := countChat(hs, func(e host.Event) (string, bool) { return e.Text, e.Self }, "written during the outage by Bob"); n != 1 {
		t.Errorf("the host showed Bob's outage chat %d times", n)
	}
	if n := countChat(vs, func(e viewer.Event) (string, bool) { return e.Text, e.Self }, "written during the outage by Alice"); n != 1 {
		t.Errorf("the viewer showed Alice's outage chat %d times", n)
	}
	if hasType(vs, viewer.EventDisconnected) || hasType(hs, host.EventDisconnected) {
		t.Error("a side reported the session ended")
	}
	if resumed.Path != session.PathPunched {
		t.Errorf("resumed over %q, want punched", resumed.Path)
	}
}

// TestNATResumeKeepsConsent: the person's consent survives a resumed
// connection (same helper, same session): control granted before the loss
// works after it. What the person revokes while the connection is down is
// gone when the helper is back, and the helper is told.
func TestNATResumeKeepsConsent(t *testing.T) {
	in := newRecorder()
	r := startResumeLab(t, host.Config{Injector: in})
	if err := r.h.Grant(session.CapControl, session.CapClipboard); err != nil {
		t.Fatal(err)
	}
	r.viewEv.await(t, "control granted", func(es []viewer.Event) bool { return hasType(es, viewer.EventControlGranted) })

	// A lost connection, resumed: control is still the helper's.
	r.moveHost("203.0.113.10", "203.0.113.11")
	r.awaitResumed(t, 1)
	if !r.v.InControl() {
		t.Fatal("the helper lost control with the connection")
	}
	if err := r.v.TypeText(r.ctx, "after the resume"); err != nil {
		t.Fatal(err)
	}
	in.waitText(t, "after the resume")

	// Lost again; meanwhile the person presses Stop control.
	r.moveHost("203.0.113.11", "203.0.113.12")
	r.hostEv.await(t, "the second loss", func(es []host.Event) bool { return countType(es, host.EventReconnecting) >= 2 })
	if err := r.h.Revoke(session.ByButton); err != nil {
		t.Fatalf("revoking while the connection is down: %v", err)
	}
	if err := r.h.PauseSharing(true); err != nil {
		t.Fatalf("pausing while the connection is down: %v", err)
	}
	r.awaitResumed(t, 2)
	// Sharing stays paused on the resumed connection.
	r.viewEv.await(t, "sharing paused after the resume", func(es []viewer.Event) bool {
		i, resumes := -1, 0 // from the second resume on
		for j, e := range es {
			if e.Type == viewer.EventConnected && e.Resumed {
				if resumes++; resumes == 2 {
					i = j
				}
			}
		}
		if i < 0 {
			return false
		}
		for _, e := range es[i:] {
			if e.Type == viewer.EventSharing && e.Paused != nil && *e.Paused {
				return true
			}
		}
		return false
	})
	es := r.viewEv.await(t, "the helper told of the revoke", func(es []viewer.Event) bool {
		e := lastOf(es, viewer.EventControlRevoked)
		return e.Type != "" && e.By == session.ByButton
	})
	if r.v.InControl() {
		t.Fatal("the helper still has control after the person took it back")
	}
	if e := lastOf(es, viewer.EventControlRevoked); !slices.Equal(e.Capabilities, []string{session.CapClipboard}) {
		t.Errorf("capabilities after the revoke %v, want just clipboard", e.Capabilities)
	}
	// Input the helper sends now is not performed.
	before := len(in.take())
	_ = r.v.TypeText(r.ctx, "too late")
	time.Sleep(300 * time.Millisecond)
	for _, e := range in.take() {
		if e.Text == "too late" {
			t.Fatalf("input after the revoke was performed (%d events before)", before)
		}
	}

	// Lost a third time, and the person disconnects meanwhile: the session
	// ends at once, not when the wait for the helper runs out.
	r.moveHost("203.0.113.12", "203.0.113.13")
	r.hostEv.await(t, "the third loss", func(es []host.Event) bool { return countType(es, host.EventReconnecting) >= 3 })
	if err := r.h.Disconnect("Alice ended the session"); err != nil {
		t.Fatalf("disconnecting while the connection is down: %v", err)
	}
	e := lastOf(r.hostEv.await(t, "the end", func(es []host.Event) bool { return hasType(es, host.EventDisconnected) }), host.EventDisconnected)
	if e.Reason != "Alice ended the session" {
		t.Errorf("ended with %q", e.Reason)
	}
}

type typed interface{ host.Event | viewer.Event }

func typeOf[E typed](e E) string {
	switch e := any(e).(type) {
	case host.Event:
		return e.Type
	case viewer.Event:
		return e.Type
	}
	return ""
}

func hasType[E typed](es []E, typ string) bool { return countType(es, typ) > 0 }

func countType[E typed](es []E, typ string) int {
	n := 0
	for _, e := range es {
		if typeOf(e) == typ {
			n++
		}
	}
	return n
}

func lastOf[E typed](es []E, typ string) E {
	for i := len(es) - 1; i >= 0; i-- {
		if typeOf(es[i]) == typ {
			return es[i]
		}
	}
	var zero E
	return zero
}

// countChat counts the chat events from the other side with text.
func countChat[E typed](es []E, get func(E) (string, bool), text string) int {
	n := 0
	for _, e := range es {
		if typeOf(e) != "chat" {
			continue
		}
		if got, self := get(e); got == text && !self {
			n++
		}
	}
	return n
}

// resumeLab is a session across the NAT lab, for the resume tests.
type resumeLab struct {
	lab    *natLab
	h      *host.Host
	v      *viewer.Viewer
	hostEv *events[host.Event]
	viewEv *events[viewer.Event]
	ctx    context.Context
}

// startResumeLab starts a rendezvous, a host (cfg, plus what the lab
// needs) sharing a synthetic screen behind its NAT, and a viewer behind
// the other, connected; everything stops when the test ends.
func startResumeLab(t *testing.T, cfg host.Config) *resumeLab {
	t.Helper()
	lab := newNATLab(t)
	var pc net.PacketConn
	lab.in("pub", func() {
		var err error
		if pc, err = net.ListenPacket("udp", rendezvousAddr); err != nil {
			t.Fatal(err)
		}
	})
	srv, err := rendezvous.NewServer(pc, rendezvous.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	hostEv, viewEv := newEvents[host.Event](), newEvents[viewer.Event]()
	var h *host.Host
	lab.in("h", func() {
		cfg.TTL, cfg.HostName, cfg.Rendezvous = time.Hour, "Alice", rendezvousAddr
		cfg.Source, cfg.FilesDir, cfg.OnEvent = synthetic.New(320, 200, 10), t.TempDir(), hostEv.add
		h, err = host.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	hostDone := make(chan error, 1)
	lab.in("h", func() { go func() { hostDone <- h.Run(ctx) }() })
	t.Cleanup(func() { cancel(); <-hostDone })
	hostEv.await(t, "the host waiting", func(es []host.Event) bool { return hasType(es, host.EventWaiting) })
	if err := waitRegistered(ctx, lab, h.Invitation(), false); err != nil {
		t.Fatal(err)
	}

	inbox := t.TempDir()
	var v *viewer.Viewer
	lab.in("v", func() {
		v, err = viewer.Open(ctx, viewer.Config{
			Invitation: h.Invitation(), Password: h.Password(), Name: "Bob", FilesDir: inbox, OnEvent: viewEv.add,
		})
		if err != nil {
			t.Fatalf("viewer: %v", err)
		}
	})
	viewerDone := make(chan error, 1)
	// Run resumes from new sockets: in the viewer's namespace, as its own
	// process would be.
	go lab.in("v", func() { viewerDone <- v.Run(ctx) })
	t.Cleanup(func() { v.Disconnect(""); <-viewerDone })
	viewEv.await(t, "the viewer connected", func(es []viewer.Event) bool { return hasType(es, viewer.EventConnected) })

	return &resumeLab{lab: lab, h: h, v: v, hostEv: hostEv, viewEv: viewEv, ctx: ctx}
}

// moveHost gives the host's router a new public address: its NAT
// mappings go with the old one.
func (r *resumeLab) moveHost(from, to string) {
	r.lab.ip("rh", "addr", "del", from+"/24", "dev", "wan")
	r.lab.ip("rh", "addr", "add", to+"/24", "dev", "wan")
}

// awaitResumed waits for the n-th resumed connection at the viewer and at
// the host.
func (r *resumeLab) awaitResumed(t *testing.T, n int) viewer.Event {
	t.Helper()
	var got viewer.Event
	r.viewEv.await(t, "the viewer resuming", func(es []viewer.Event) bool {
		k := 0
		for _, e := range es {
			if e.Type == viewer.EventConnected && e.Resumed {
				if k++; k == n {
					got = e
					return true
				}
			}
		}
		return false
	})
	r.hostEv.await(t, "the host resuming", func(es []host.Event) bool {
		k := 0
		for _, e := range es {
			if e.Type == host.EventConnected && e.Resumed {
				k++
			}
		}
		return k >= n
	})
	return got
}
