package hostui_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb/browsertest"
	"github.com/gethelp/gethelp/localweb/localwebtest"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// TestHostOffers: a computer that takes offers of help shows its key, not
// a password; each offer is a dialog the person answers; after a session
// it waits for the next offer.
func TestHostOffers(t *testing.T) {
	t.Parallel() // its own host, viewers and browser
	bob, err := helperkey.Generate("Bob (help desk)")
	if err != nil {
		t.Fatal(err)
	}
	allow, err := helperkey.ParseAllowlist([]string{bob.Public().String()})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := agentlink.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	l := startHost(t, func(c *host.Config) {
		c.Offers = &host.OfferConfig{
			Certificate: cert,
			Policy:      func() (host.OfferPolicy, error) { return host.OfferPolicy{Enabled: true, Helpers: allow}, nil },
		}
	})
	ctx := browsertest.Open(t, l.server.URL())
	browsertest.Poll(t, ctx, "the waiting state", `document.getElementById('status-title').textContent === 'Waiting for an offer of help'`)
	browsertest.Poll(t, ctx, "this computer's key", fmt.Sprintf(`document.getElementById('inv-id').textContent === %q &&
		document.getElementById('password-card').hidden && document.getElementById('inv-expires').hidden`, l.host.KeyFingerprint()))
	browsertest.Screenshot(t, ctx, "host-serve-waiting.png")

	// offer offers help as k; the result comes when the person answers.
	offer := func(k helperkey.PrivateKey) <-chan error {
		c, err := k.Certificate()
		if err != nil {
			t.Fatal(err)
		}
		addr := l.host.Invitation().Addresses[0]
		res := make(chan error, 1)
		go func() {
			rec := new(localwebtest.Recorder[viewer.Event])
			v, err := viewer.Open(l.ctx, viewer.Config{
				Name: "Bob", OnEvent: rec.Add,
				Offer: &viewer.Offer{Host: addr.String(), Addresses: []netip.AddrPort{addr}, Certificate: c, VerifyHost: func([]byte) error { return nil }},
			})
			if err == nil {
				done := make(chan struct{})
				go func() { defer close(done); v.Run(context.Background()) }()
				t.Cleanup(func() { v.Disconnect("the test ended"); <-done })
			}
			res <- err
		}()
		return res
	}

	// An offer: the dialog, with the safe answer focused; Decline.
	declined := offer(bob)
	browsertest.Poll(t, ctx, "the offer", `document.getElementById('offer-dialog').open &&
		document.getElementById('od-title').textContent === 'Bob (help desk) offers to help you' &&
		document.activeElement === document.getElementById('od-decline')`)
	body := browsertest.Eval[string](t, ctx, `document.getElementById('offer-dialog').innerText`)
	for _, want := range []string{"name your administrator gave", bob.Public().Fingerprint(), "cannot use your mouse or keyboard", "Accept", "Decline"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dialog does not say %q:\n%s", want, body)
		}
	}
	browsertest.Poll(t, ctx, "the title", `document.title.includes('Bob (help desk) offers to help you')`)
	browsertest.Poll(t, ctx, "Accept to be enabled", `!document.getElementById('od-accept').disabled`)
	browsertest.Screenshot(t, ctx, "host-serve-offer.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("od-decline"))); err != nil {
		t.Fatal(err)
	}
	if err := <-declined; !errors.Is(err, session.ErrDeclined) {
		t.Fatalf("declined offer: %v", err)
	}
	browsertest.Poll(t, ctx, "the decline in the log", `!document.getElementById('offer-dialog').open &&
		document.getElementById('log').textContent.includes('You declined Bob (help desk)’s offer of help.')`)

	// ESC declines too.
	declined = offer(bob)
	browsertest.Poll(t, ctx, "the second offer", `document.getElementById('offer-dialog').open`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if err := <-declined; !errors.Is(err, session.ErrDeclined) {
		t.Fatalf("offer declined with ESC: %v", err)
	}

	// Accept: the session, with the administrator's name for the key.
	accepted := offer(bob)
	browsertest.Poll(t, ctx, "Accept to be enabled again", `document.getElementById('offer-dialog').open && !document.getElementById('od-accept').disabled`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("od-accept"))); err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatalf("accepted offer: %v", err)
	}
	browsertest.Poll(t, ctx, "the helper", `document.getElementById('status-title').textContent === 'Bob (help desk) is helping you' &&
		!document.getElementById('offer-dialog').open &&
		document.getElementById('claim').textContent.includes('name your administrator gave this helper’s key')`)

	// A stranger's key is refused without asking; the log says so.
	l.server.Publish(host.Event{Type: host.EventOfferRefused, By: "not_allowed", Addr: "192.0.2.9:4000", Fingerprint: "SHA256:stranger"})
	browsertest.Poll(t, ctx, "the refusal in the log", `document.getElementById('log').textContent.includes(
		'Someone from 192.0.2.9:4000 offered help with a key your administrator does not allow (SHA256:stranger)')`)

	// Disconnect: the page waits for the next offer.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("disconnect"))); err != nil {
		t.Fatal(err)
	}
	browsertest.Poll(t, ctx, "waiting again", `document.getElementById('status-title').textContent === 'Waiting for an offer of help' &&
		document.getElementById('log').textContent.includes('Waiting for an offer of help.')`)
}
