package hostui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// live is a host waiting on loopback with its window served; viewers
// connect with connect.
type live struct {
	ctx    context.Context
	host   *host.Host
	server *hostui.Server
	hostEv *localwebtest.Recorder[host.Event]
	// uploads is the folder under which the window keeps the files the
	// person sends, until they are sent.
	uploads string
}

// startHost starts a host named Alice sharing a 640×400 synthetic screen
// and serves her window; configure, if given, changes the host's Config
// first. Its cleanup stops everything.
func startHost(t *testing.T, configure ...func(*host.Config)) *live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{ctx: ctx, hostEv: new(localwebtest.Recorder[host.Event]), uploads: t.TempDir()}
	src := synthetic.New(640, 400, 10)
	var fmu sync.Mutex
	var srv *hostui.Server
	publish := func(e host.Event) {
		fmu.Lock()
		defer fmu.Unlock()
		l.hostEv.Add(e)
		if srv != nil {
			srv.Publish(e)
		}
	}
	cfg := host.Config{
		ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice",
		Source: src, Level: screen.Full, Monitor: -1, OnEvent: publish,
	}
	for _, f := range configure {
		f(&cfg)
	}
	h, err := host.New(cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	l.host = h
	s, err := hostui.New(h, hostui.Options{Level: "full", UploadDir: l.uploads})
	if err != nil {
		cancel()
		h.Close()
		t.Fatal(err)
	}
	fmu.Lock()
	srv = s
	fmu.Unlock()
	l.server = s
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-hostDone
		if err := s.Close(); err != nil {
			t.Errorf("closing the UI server: %v", err)
		}
		h.Close()
		src.Close()
	})
	return l
}

// injector is a host.Injector that performs nothing: enough for the
// person to be able to grant control.
type injector struct{}

var _ host.Injector = injector{}

func (injector) Inject(context.Context, host.InputEvent) error { return nil }
func (injector) Close() error                                  { return nil }

// keys is a KeyWatcher whose ESC never comes: the page says ESC works.
type keys struct{}

func (keys) Escapes() <-chan struct{} { return nil }
func (keys) Close() error             { return nil }

// connect opens a viewer named name with password; configure, if given,
// changes its Config first. It runs until the test ends. A refused viewer
// returns the error.
func (l *live) connect(t *testing.T, name, password string, configure ...func(*viewer.Config)) (*viewer.Viewer, *localwebtest.Recorder[viewer.Event], error) {
	t.Helper()
	rec := new(localwebtest.Recorder[viewer.Event])
	cfg := viewer.Config{
		Invitation: l.host.Invitation(), Password: password, Name: name, OnEvent: rec.Add,
	}
	for _, f := range configure {
		f(&cfg)
	}
	v, err := viewer.Open(l.ctx, cfg)
	if err != nil {
		return nil, rec, err
	}
	done := make(chan struct{})
	go func() { defer close(done); v.Run(l.ctx) }()
	t.Cleanup(func() {
		v.Disconnect("the test ended")
		<-done
	})
	return v, rec, nil
}
