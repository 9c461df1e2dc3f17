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
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
	"github.com/gethelp/gethelp/viewer/viewerui"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests.
const waitTimeout = browsertest.Timeout

// injector is a host.Injector that records the helper's input instead of
// performing it.
type injector struct {
	*localwebtest.Recorder[host.InputEvent]
}

var _ host.Injector = (*injector)(nil)

func (i *injector) Inject(_ context.Context, e host.InputEvent) error {
	i.Add(e)
	return nil
}

func (i *injector) Close() error { return nil }

// live is a host and a viewer talking over loopback, with the viewer's
// window served.
type live struct {
	host    *host.Host
	viewer  *viewer.Viewer
	server  *viewerui.Server
	hostEv  *localwebtest.Recorder[host.Event]
	viewEv  *localwebtest.Recorder[viewer.Event]
	hostSrc *synthetic.Source
	// input records what the helper's input did on the host, once the
	// person granted control.
	input *injector
	// uploads is the folder under which the window keeps the files the
	// helper sends, until they are sent.
	uploads string
}

// setup changes the configuration of startLive's host and viewer.
type setup struct {
	host   func(*host.Config)
	viewer func(*viewer.Config)
}

// startLive starts a host sharing a 640×400 synthetic screen at full
// quality, with a recording injector and a session log, connects a viewer
// named Bob to it and serves Bob's window; setups, if given, change the
// configurations first. Its cleanup stops everything.
func startLive(t *testing.T, setups ...setup) *live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{
		hostEv: new(localwebtest.Recorder[host.Event]), viewEv: new(localwebtest.Recorder[viewer.Event]),
		input: &injector{Recorder: new(localwebtest.Recorder[host.InputEvent])}, uploads: t.TempDir(),
	}
	l.hostSrc = synthetic.New(640, 400, 10)
	hcfg := host.Config{
		ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice",
		Source: l.hostSrc, Level: screen.Full, Monitor: -1,
		OnEvent: l.hostEv.Add, Injector: l.input, LogDir: t.TempDir(),
	}
	for _, s := range setups {
		if s.host != nil {
			s.host(&hcfg)
		}
	}
	h, err := host.New(hcfg)
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
		l.viewEv.Add(e)
		if srv != nil {
			srv.Publish(e)
		}
	}
	vcfg := viewer.Config{
		Invitation: h.Invitation(), Password: h.Password(), Name: "Bob", OnEvent: publish,
	}
	for _, s := range setups {
		if s.viewer != nil {
			s.viewer(&vcfg)
		}
	}
	v, err := viewer.Open(ctx, vcfg)
	if err != nil {
		cancel()
		<-hostDone
		h.Close()
		l.hostSrc.Close()
		t.Fatal(err)
	}
	l.viewer = v
	s, err := viewerui.New(v, viewerui.Options{UploadDir: l.uploads})
	if err != nil {
		t.Fatal(err)
	}
	fmu.Lock()
	for _, e := range l.viewEv.All() {
		s.Publish(e)
	}
	srv = s
	fmu.Unlock()
	l.server = s
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()

	t.Cleanup(func() {
		// The viewer says goodbye while the host still runs to answer it
		// (cancelling both at once would wait out the goodbye's grace).
		v.Disconnect("the test ended")
		<-viewerDone
		cancel()
		<-hostDone
		if err := s.Close(); err != nil {
			t.Errorf("closing the UI server: %v", err)
		}
		h.Close()
		l.hostSrc.Close()
	})
	return l
}
