package integration_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// recorder is an Injector that keeps what it is asked to perform.
type recorder struct {
	mu       sync.Mutex
	events   []host.InputEvent
	released int
	got      chan struct{} // cap 1: something was injected
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1)} }

func (r *recorder) Inject(_ context.Context, e host.InputEvent) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.got <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) ReleaseAll() error {
	r.mu.Lock()
	r.released++
	r.mu.Unlock()
	return nil
}

func (r *recorder) Close() error { return nil }

func (r *recorder) take() []host.InputEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// waitText waits until the recorder has performed a text event with text,
// and returns everything it performed up to then.
func (r *recorder) waitText(t *testing.T, text string) []host.InputEvent {
	t.Helper()
	var all []host.InputEvent
	deadline := time.After(10 * time.Second)
	for {
		all = append(all, r.take()...)
		if slices.ContainsFunc(all, func(e host.InputEvent) bool { return e.Kind == host.InputText && e.Text == text }) {
			return all
		}
		select {
		case <-r.got:
		case <-deadline:
			t.Fatalf("the injector never got the text %q; it got %+v", text, all)
		}
	}
}

// escapes is a KeyWatcher whose ESC presses the test makes.
type escapes chan struct{}

func (e escapes) Escapes() <-chan struct{} { return e }
func (e escapes) Close() error             { return nil }

type controlled struct {
	h          *host.Host
	v          *viewer.Viewer
	inj        *recorder
	esc        escapes
	hostEvents chan host.Event
	events     chan viewer.Event
}

func controlSession(t *testing.T, cfg host.Config) *controlled {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c := &controlled{inj: newRecorder(), esc: make(escapes, 1), hostEvents: make(chan host.Event, 100), events: make(chan viewer.Event, 100)}
	cfg.ListenAddr, cfg.TTL, cfg.HostName = "127.0.0.1:0", time.Hour, "Alice"
	cfg.Injector, cfg.Keys, cfg.LogDir = c.inj, c.esc, t.TempDir()
	cfg.OnEvent = func(e host.Event) { c.hostEvents <- e }
	cfg.Monitor = -1
	h, err := host.New(cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c.h = h
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()
	v, err := viewer.Open(ctx, viewer.Config{
		Invitation: h.Invitation(), Password: h.Password(), Name: "Bob",
		OnEvent: func(e viewer.Event) { c.events <- e },
	})
	if err != nil {
		cancel()
		<-hostDone
		h.Close()
		t.Fatal(err)
	}
	c.v = v
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()
	t.Cleanup(func() { v.Disconnect(""); <-viewerDone; cancel(); <-hostDone; h.Close() })
	return c
}

func waitHost(t *testing.T, ch <-chan host.Event, typ string) host.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			t.Fatalf("the host never reported %s", typ)
		}
	}
}

func waitViewer(t *testing.T, ch <-chan viewer.Event, typ string) viewer.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			t.Fatalf("the viewer never reported %s", typ)
		}
	}
}

// waitLog waits until the session log holds n lines containing s.
func waitLog(t *testing.T, path, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), s) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session log never had %d lines with %s:\n%s", n, s, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func send(t *testing.T, v *viewer.Viewer, in ...session.Input) {
	t.Helper()
	for _, e := range in {
		if err := v.SendInput(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestControlNeedsConsent(t *testing.T) {
	c := controlSession(t, host.Config{})
	waitHost(t, c.hostEvents, host.EventConnected)

	// Before any consent: dropped, and the log says so.
	send(t, c.v, session.Input{Kind: session.InputText, Text: "rm -rf ~\n"}, session.Input{Kind: session.InputKey, Key: "Enter", Down: true})
	waitLog(t, c.h.LogPath(), `"input_dropped"`, 1)

	if err := c.v.RequestControl(); err != nil {
		t.Fatal(err)
	}
	req := waitHost(t, c.hostEvents, host.EventControlRequested)
	if req.Helper != "Bob" {
		t.Errorf("request from %q", req.Helper)
	}
	if err := c.h.Grant(session.CapControl); err != nil {
		t.Fatal(err)
	}
	g := waitViewer(t, c.events, viewer.EventControlGranted)
	if !slices.Equal(g.Capabilities, []string{session.CapControl}) || !c.v.InControl() {
		t.Errorf("granted %v", g.Capabilities)
	}

	// Granted: performed in order, nothing from before the grant.
	send(t, c.v,
		session.Input{Kind: session.InputMove, X: 10, Y: 20},
		session.Input{Kind: session.InputButton, X: 10, Y: 20, Button: 1, Down: true},
		session.Input{Kind: session.InputButton, X: 10, Y: 20, Button: 1},
		session.Input{Kind: session.InputKey, Key: "a", Down: true},
		session.Input{Kind: session.InputKey, Key: "a"},
		session.Input{Kind: session.InputText, Text: "Hello, World! ü"},
	)
	got := c.inj.waitText(t, "Hello, World! ü")
	var kinds []string
	for _, e := range got {
		if e.Kind == host.InputText && e.Text == "rm -rf ~\n" || e.Kind == host.InputKey && e.Key == "Enter" {
			t.Fatalf("input sent before consent was performed: %+v", e)
		}
		kinds = append(kinds, map[host.InputKind]string{host.InputPointer: "move", host.InputButton: "button", host.InputKey: "key", host.InputText: "text"}[e.Kind])
	}
	want := []string{"move", "button", "button", "key", "key", "text"}
	if !slices.Equal(kinds, want) {
		t.Errorf("performed %v, want %v", kinds, want)
	}

	// The person stops control with the button.
	if err := c.h.Revoke(session.ByButton); err != nil {
		t.Fatal(err)
	}
	r := waitViewer(t, c.events, viewer.EventControlRevoked)
	if r.By != session.ByButton || c.v.InControl() {
		t.Errorf("revoked by %q, in control %v", r.By, c.v.InControl())
	}
	send(t, c.v, session.Input{Kind: session.InputText, Text: "after revoke"})
	waitLog(t, c.h.LogPath(), `"input_dropped"`, 2) // the host has seen it

	// ESC while not in control does nothing; grant again, then ESC.
	if err := c.h.Grant(session.CapControl); err != nil {
		t.Fatal(err)
	}
	waitViewer(t, c.events, viewer.EventControlGranted)
	send(t, c.v, session.Input{Kind: session.InputText, Text: "marker"})
	for _, e := range c.inj.waitText(t, "marker") {
		if e.Text == "after revoke" {
			t.Fatal("input sent after the revoke was performed")
		}
	}
	c.esc <- struct{}{}
	r = waitViewer(t, c.events, viewer.EventControlRevoked)
	if r.By != session.ByEscape {
		t.Errorf("revoked by %q, want esc", r.By)
	}
	if he := waitHost(t, c.hostEvents, host.EventControlRevoked); he.By != session.ByButton {
		t.Errorf("host says first revoke by %q", he.By)
	}
	if he := waitHost(t, c.hostEvents, host.EventControlRevoked); he.By != session.ByEscape {
		t.Errorf("host says revoked by %q", he.By)
	}
	c.inj.mu.Lock()
	released := c.inj.released
	c.inj.mu.Unlock()
	if released < 2 {
		t.Errorf("the helper's keys were released %d times, want after each revoke", released)
	}

	c.v.Disconnect("")
	waitHost(t, c.hostEvents, host.EventDisconnected)
	log, err := os.ReadFile(c.h.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"control_requested"`, `"control_granted"`, `"control_revoked"`, `"by":"button"`, `"by":"esc"`, `"input_dropped"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the session log lacks %s", want)
		}
	}
	if strings.Contains(string(log), "rm -rf") || strings.Contains(string(log), "Hello") {
		t.Error("the session log holds what the helper typed")
	}
}

func TestControlRefusedByPolicy(t *testing.T) {
	c := controlSession(t, host.Config{NoControl: "the administrator's policy (/etc/gethelp/policy.yaml) allows viewing only"})
	waitHost(t, c.hostEvents, host.EventConnected)
	if err := c.v.RequestControl(); err != nil {
		t.Fatal(err)
	}
	d := waitViewer(t, c.events, viewer.EventControlDenied)
	if d.By != session.ByPolicy || !strings.Contains(d.Reason, "policy") {
		t.Errorf("denied by %q: %q", d.By, d.Reason)
	}
	if err := c.h.Grant(session.CapControl); err == nil {
		t.Error("Grant gave control against the policy")
	}
}

func TestControlDeclined(t *testing.T) {
	c := controlSession(t, host.Config{})
	waitHost(t, c.hostEvents, host.EventConnected)
	if err := c.v.RequestControl(); err != nil {
		t.Fatal(err)
	}
	waitHost(t, c.hostEvents, host.EventControlRequested)
	if err := c.h.Deny(); err != nil {
		t.Fatal(err)
	}
	d := waitViewer(t, c.events, viewer.EventControlDenied)
	if d.By != session.ByDeny || c.v.InControl() {
		t.Errorf("denied by %q, in control %v", d.By, c.v.InControl())
	}
	if err := c.h.Grant(session.CapAdminPrompts); err == nil {
		t.Error("administrator prompts granted to a person who cannot answer them")
	}
}
