package integration_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// offering is a Host that takes offers, run until the test ends, with a
// policy the test can change.
type offering struct {
	h      *host.Host
	events chan host.Event
	addr   netip.AddrPort

	stop func() // stops Run and closes the host; idempotent

	mu  sync.Mutex
	pol host.OfferPolicy // guarded by mu
}

func (o *offering) setPolicy(p host.OfferPolicy) {
	o.mu.Lock()
	o.pol = p
	o.mu.Unlock()
}

func startOffering(t *testing.T, answerTimeout time.Duration, helpers ...helperkey.PrivateKey) *offering {
	t.Helper()
	var lines []string
	for _, k := range helpers {
		lines = append(lines, k.Public().String())
	}
	allow, err := helperkey.ParseAllowlist(lines)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := agentlink.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	o := &offering{events: make(chan host.Event, 100), pol: host.OfferPolicy{Enabled: true, Helpers: allow}}
	logDir := t.TempDir()
	h, err := host.New(host.Config{
		ListenAddr: "127.0.0.1:0",
		HostName:   "Alice",
		LogDir:     logDir,
		Monitor:    -1,
		OnEvent:    func(e host.Event) { o.events <- e },
		Offers: &host.OfferConfig{
			Certificate:   cert,
			AnswerTimeout: answerTimeout,
			Policy: func() (host.OfferPolicy, error) {
				o.mu.Lock()
				defer o.mu.Unlock()
				return o.pol, nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	o.h = h
	o.addr = h.Invitation().Addresses[0]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	o.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			h.Close()
		})
	}
	t.Cleanup(o.stop)
	o.next(t, host.EventWaiting)
	return o
}

// next returns the next event of type typ, failing on any other offer
// event on the way.
func (o *offering) next(t *testing.T, typ string) host.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-o.events:
			if e.Type == typ {
				return e
			}
			if strings.HasPrefix(e.Type, "offer") {
				t.Fatalf("got %+v while waiting for %q", e, typ)
			}
		case <-timeout:
			t.Fatalf("no %q event", typ)
		}
	}
}

// noLeaks fails the test if goroutines it started outlive it (checked
// after every other cleanup).
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func newHelper(t *testing.T, name string) helperkey.PrivateKey {
	t.Helper()
	k, err := helperkey.Generate(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type offered struct {
	v   *viewer.Viewer
	err error
}

// offer offers help as k; the result comes when the person answers.
func (o *offering) offer(ctx context.Context, t *testing.T, k helperkey.PrivateKey) <-chan offered {
	t.Helper()
	cert, err := k.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan offered, 1)
	go func() {
		v, err := viewer.Open(ctx, viewer.Config{
			Name: "claims to be someone else",
			Offer: &viewer.Offer{
				Host: o.addr.String(), Addresses: []netip.AddrPort{o.addr}, Certificate: cert,
				VerifyHost: func([]byte) error { return nil },
			},
		})
		out <- offered{v, err}
	}()
	return out
}

func wait(t *testing.T, c <-chan offered) offered {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the offer got no answer")
		return offered{}
	}
}

// An accepted offer is a session like an invited one; afterwards the host
// takes the next offer. A second helper is told the person is busy while
// one is being asked about, and while one is being helped.
func TestOfferSessionsOneAfterAnother(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob, carol := newHelper(t, "Bob (help desk)"), newHelper(t, "Carol")
	o := startOffering(t, 0, bob, carol)

	if err := o.h.AnswerOffer(true); !errors.Is(err, host.ErrNoOffer) {
		t.Errorf("AnswerOffer with no offer = %v, want ErrNoOffer", err)
	}
	res := o.offer(ctx, t, bob)
	e := o.next(t, host.EventOffer)
	if e.Helper != "Bob (help desk)" || e.Fingerprint != bob.Public().Fingerprint() || e.ID == "" {
		t.Errorf("offer event %+v", e)
	}
	// Carol, while the person is asked about Bob.
	if r := wait(t, o.offer(ctx, t, carol)); !errors.Is(r.err, session.ErrBusy) {
		t.Errorf("second offer while asking: %v, want ErrBusy", r.err)
	}
	o.next(t, host.EventBusy)
	if err := o.h.AnswerOffer(true); err != nil {
		t.Fatal(err)
	}
	r := wait(t, res)
	if r.err != nil {
		t.Fatalf("accepted offer: %v", r.err)
	}
	if c := o.next(t, host.EventConnected); c.Helper != "Bob (help desk)" {
		t.Errorf("connected as %q: the person must see the policy's name, not the helper's claim", c.Helper)
	}
	vdone := make(chan error, 1)
	go func() { vdone <- r.v.Run(ctx) }()
	if err := r.v.Chat("hello"); err != nil {
		t.Fatal(err)
	}
	if c := o.next(t, host.EventChat); c.Text != "hello" || c.From != "Bob (help desk)" {
		t.Errorf("chat %+v", c)
	}
	// Carol, while Bob is helping.
	if r := wait(t, o.offer(ctx, t, carol)); !errors.Is(r.err, session.ErrBusy) {
		t.Errorf("offer during a session: %v, want ErrBusy", r.err)
	}
	r.v.Disconnect("done")
	<-vdone
	o.next(t, host.EventDisconnected)
	o.next(t, host.EventWaiting)

	// Now Carol gets asked.
	res = o.offer(ctx, t, carol)
	if e := o.next(t, host.EventOffer); e.Helper != "Carol" {
		t.Errorf("offer event %+v", e)
	}
	if err := o.h.AnswerOffer(false); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, res); !errors.Is(r.err, session.ErrDeclined) || !strings.Contains(r.err.Error(), "Alice declined") {
		t.Errorf("declined offer: %v", r.err)
	}
	if e := o.next(t, host.EventOfferDeclined); e.By != session.ByDeny || e.Helper != "Carol" {
		t.Errorf("offer_declined %+v", e)
	}

	logData, err := os.ReadFile(o.h.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	log := string(logData)
	for _, want := range []string{`"offer_accepted"`, `"offer_declined"`, `"reason":"busy"`, bob.Public().Fingerprint(), carol.Public().Fingerprint(), `"claims":"claims to be someone else"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
}

// An offer nobody answers, one the helper withdraws, and one the policy
// turns off while the person thinks are declined, and the helper told.
func TestOfferNotAnswered(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bob := newHelper(t, "Bob")

	t.Run("timeout", func(t *testing.T) {
		o := startOffering(t, 300*time.Millisecond, bob)
		res := o.offer(ctx, t, bob)
		o.next(t, host.EventOffer)
		if r := wait(t, res); !errors.Is(r.err, session.ErrDeclined) || !strings.Contains(r.err.Error(), "did not answer") {
			t.Errorf("unanswered offer: %v", r.err)
		}
		if e := o.next(t, host.EventOfferDeclined); e.By != "timeout" {
			t.Errorf("offer_declined %+v", e)
		}
		if err := o.h.AnswerOffer(true); !errors.Is(err, host.ErrNoOffer) {
			t.Errorf("a late answer: %v, want ErrNoOffer", err)
		}
	})

	t.Run("withdrawn", func(t *testing.T) {
		o := startOffering(t, 0, bob)
		octx, ocancel := context.WithCancel(ctx)
		res := o.offer(octx, t, bob)
		o.next(t, host.EventOffer)
		ocancel()
		if r := wait(t, res); !errors.Is(r.err, context.Canceled) {
			t.Errorf("withdrawn offer: %v", r.err)
		}
		if e := o.next(t, host.EventOfferDeclined); e.By != session.ByHelper {
			t.Errorf("offer_declined %+v", e)
		}
	})

	t.Run("policy turned off meanwhile", func(t *testing.T) {
		o := startOffering(t, 0, bob)
		res := o.offer(ctx, t, bob)
		o.next(t, host.EventOffer)
		o.setPolicy(host.OfferPolicy{})
		if err := o.h.AnswerOffer(true); err != nil {
			t.Fatal(err)
		}
		if r := wait(t, res); !errors.Is(r.err, session.ErrPolicy) {
			t.Errorf("offer accepted after the policy changed: %v", r.err)
		}
		if e := o.next(t, host.EventOfferDeclined); e.By != session.ByPolicy {
			t.Errorf("offer_declined %+v", e)
		}
		// And the next offer is refused without asking.
		if r := wait(t, o.offer(ctx, t, bob)); !errors.Is(r.err, session.ErrPolicy) {
			t.Errorf("offer while off: %v", r.err)
		}
		if e := o.next(t, host.EventOfferRefused); e.By != session.ByPolicy {
			t.Errorf("offer_refused %+v", e)
		}
	})

	t.Run("gethelp stops", func(t *testing.T) {
		o := startOffering(t, 0, bob)
		res := o.offer(ctx, t, bob)
		o.next(t, host.EventOffer)
		o.stop()
		if r := wait(t, res); !errors.Is(r.err, session.ErrCancelled) {
			t.Errorf("offer when gethelp stopped: %v", r.err)
		}
	})
}
