package viewerui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
	"github.com/gethelp/gethelp/viewer/viewerui"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests.
const waitTimeout = browsertest.Timeout

// recorder keeps events and lets a test wait for one.
type recorder[E any] struct {
	mu      sync.Mutex
	events  []E
	changed chan struct{} // closed and replaced on every add
}

func newRecorder[E any]() *recorder[E] { return &recorder[E]{changed: make(chan struct{})} }

func (r *recorder[E]) add(e E) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder[E]) all() []E {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]E(nil), r.events...)
}

// wait returns the first event (from the start) that ok accepts, failing
// the test after waitTimeout.
func (r *recorder[E]) wait(t *testing.T, what string, ok func(E) bool) E {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if ok(e) {
				r.mu.Unlock()
				return e
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %+v", what, r.all())
		}
	}
}

// live is a host and a viewer talking over loopback, with the viewer's
// window served.
type live struct {
	host    *host.Host
	viewer  *viewer.Viewer
	server  *viewerui.Server
	hostEv  *recorder[host.Event]
	viewEv  *recorder[viewer.Event]
	hostSrc *synthetic.Source
}

// startLive starts a host sharing a 640×400 synthetic screen at full
// quality, connects a viewer named Bob to it and serves Bob's window. Its
// cleanup stops everything.
func startLive(t *testing.T) *live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{hostEv: newRecorder[host.Event](), viewEv: newRecorder[viewer.Event]()}
	l.hostSrc = synthetic.New(640, 400, 10)
	h, err := host.New(host.Config{
		ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice",
		Source: l.hostSrc, Level: screen.Full, Monitor: -1,
		OnEvent: l.hostEv.add,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	l.host = h
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()

	// The viewer emits "connected" inside Open, before the server exists:
	// events are recorded and replayed into the server once it does.
	var fmu sync.Mutex
	var srv *viewerui.Server
	publish := func(e viewer.Event) {
		fmu.Lock()
		defer fmu.Unlock()
		l.viewEv.add(e)
		if srv != nil {
			srv.Publish(e)
		}
	}
	v, err := viewer.Open(ctx, viewer.Config{
		Invitation: h.Invitation(), Password: h.Password(), Name: "Bob", OnEvent: publish,
	})
	if err != nil {
		cancel()
		<-hostDone
		h.Close()
		l.hostSrc.Close()
		t.Fatal(err)
	}
	l.viewer = v
	s, err := viewerui.New(v, viewerui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmu.Lock()
	for _, e := range l.viewEv.all() {
		s.Publish(e)
	}
	srv = s
	fmu.Unlock()
	l.server = s
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()

	t.Cleanup(func() {
		cancel()
		<-viewerDone
		<-hostDone
		if err := s.Close(); err != nil {
			t.Errorf("closing the UI server: %v", err)
		}
		h.Close()
		l.hostSrc.Close()
	})
	return l
}
