package session_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/session"
)

// offerHost is a listener that takes offers from the keys in allowed.
type offerHost struct {
	ln  *session.Listener
	pin [32]byte

	mu      sync.Mutex
	allowed [][]byte // guarded by mu: SPKIs
	refused [][]byte // guarded by mu: SPKIs VerifyClient refused
}

var errNotListed = errors.New("not on the list")

func startOfferHost(t *testing.T, allowed ...tls.Certificate) *offerHost {
	t.Helper()
	cert, pin, err := session.NewHostCertificate(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h := &offerHost{pin: pin}
	for _, c := range allowed {
		h.allowed = append(h.allowed, c.Leaf.RawSubjectPublicKeyInfo)
	}
	h.ln, err = session.Listen(session.ListenConfig{
		Addr:        "127.0.0.1:0",
		Certificate: cert,
		VerifyClient: func(spki []byte, remote net.Addr) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if remote == nil || !remote.(*net.UDPAddr).IP.IsLoopback() {
				t.Errorf("VerifyClient got remote %v", remote)
			}
			for _, a := range h.allowed {
				if bytes.Equal(a, spki) {
					return nil
				}
			}
			h.refused = append(h.refused, spki)
			return errNotListed
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.ln.Close() })
	return h
}

func (h *offerHost) dialConfig(cert *tls.Certificate) session.DialConfig {
	return session.DialConfig{
		Addresses:         []netip.AddrPort{h.ln.Addr()},
		Pin:               h.pin,
		Name:              "Bob",
		ClientCertificate: cert,
		AttemptTimeout:    2 * time.Second,
	}
}

func helperCert(t *testing.T) tls.Certificate {
	t.Helper()
	c, _, err := session.NewHostCertificate(time.Now().Add(time.Hour)) // any Ed25519 certificate will do
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOfferAccepted(t *testing.T) {
	c := ctx(t)
	bob := helperCert(t)
	h := startOfferHost(t, bob)
	got := make(chan *session.Request, 1)
	go func() {
		r, err := h.ln.Accept(c)
		if err != nil {
			close(got)
			return
		}
		got <- r
	}()
	type dialed struct {
		c   *session.Conn
		err error
	}
	viewer := make(chan dialed, 1)
	go func() {
		vc, err := session.Dial(c, h.dialConfig(&bob))
		viewer <- dialed{vc, err}
	}()
	r := <-got
	if r == nil {
		t.Fatal("no request")
	}
	if !r.Offer() || r.InvitationID != "" || r.ViewerName != "Bob" || !bytes.Equal(r.ClientKey(), bob.Leaf.RawSubjectPublicKeyInfo) {
		t.Fatalf("request: offer %v, invitation %q, name %q, key matches %v", r.Offer(), r.InvitationID, r.ViewerName, bytes.Equal(r.ClientKey(), bob.Leaf.RawSubjectPublicKeyInfo))
	}
	if r.CheckPassword("") || r.CheckPassword(testPassword) {
		t.Error("an offer passed a password check")
	}
	// The viewer waits while the person thinks.
	select {
	case d := <-viewer:
		t.Fatalf("Dial returned before the answer: %v", d.err)
	case <-time.After(200 * time.Millisecond):
	}
	hc, err := r.Accept("Alice")
	if err != nil {
		t.Fatal(err)
	}
	d := <-viewer
	if d.err != nil {
		t.Fatalf("Dial: %v", d.err)
	}
	if d.c.PeerName() != "Alice" {
		t.Errorf("viewer sees %q", d.c.PeerName())
	}
	if err := d.c.Send(session.Message{Type: session.TypeChat, Text: "I can help"}); err != nil {
		t.Fatal(err)
	}
	if m, err := hc.Receive(c); err != nil || m.Text != "I can help" {
		t.Fatalf("host received %+v, %v", m, err)
	}
	go hc.Close("done")
	for {
		if _, err := d.c.Receive(c); err != nil {
			break
		}
	}
	d.c.Close("done")
}

func TestOfferDeclined(t *testing.T) {
	c := ctx(t)
	bob := helperCert(t)
	h := startOfferHost(t, bob)
	go func() {
		r, err := h.ln.Accept(c)
		if err == nil {
			r.Reject(session.RejectDeclined, "Alice declined your offer", 0)
		}
	}()
	_, err := session.Dial(c, h.dialConfig(&bob))
	var re *session.RejectError
	if !errors.Is(err, session.ErrDeclined) || !errors.As(err, &re) || re.Reason != "Alice declined your offer" {
		t.Fatalf("Dial = %v, want ErrDeclined with the host's reason", err)
	}
}

// A key that is not on the list is refused inside the TLS handshake: the
// host's Accept never sees it, and the viewer learns it is not allowed.
func TestOfferUnknownKeyRefusedInHandshake(t *testing.T) {
	c := ctx(t)
	bob, mallory := helperCert(t), helperCert(t)
	h := startOfferHost(t, bob)
	accepted := make(chan *session.Request, 1)
	actx, cancel := context.WithCancel(c)
	defer cancel()
	go func() {
		if r, err := h.ln.Accept(actx); err == nil {
			accepted <- r
		}
	}()
	_, err := session.Dial(c, h.dialConfig(&mallory))
	if !errors.Is(err, session.ErrNotAllowed) {
		t.Fatalf("Dial = %v, want ErrNotAllowed", err)
	}
	h.mu.Lock()
	refused := h.refused
	h.mu.Unlock()
	if len(refused) != 1 || !bytes.Equal(refused[0], mallory.Leaf.RawSubjectPublicKeyInfo) {
		t.Errorf("VerifyClient refused %d keys, want mallory's", len(refused))
	}
	select {
	case r := <-accepted:
		t.Fatalf("the host was asked about a refused key: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
}

// An invitation's viewer (no client certificate, a password proof) gets
// nowhere with a listener that takes offers, and an offer gets nowhere
// with an invitation's listener.
func TestOfferAndInvitationListenersDoNotMix(t *testing.T) {
	c := ctx(t)
	bob := helperCert(t)
	oh := startOfferHost(t, bob)
	dc := oh.dialConfig(nil)
	dc.InvitationID, dc.Password = testID, testPassword
	if _, err := session.Dial(c, dc); err == nil {
		t.Error("an invitation's viewer got into a listener for offers")
	}

	ih := startHost(t, "127.0.0.1:0")
	actx, cancel := context.WithCancel(c)
	defer cancel()
	accepted := make(chan struct{}, 1)
	go func() {
		if _, err := ih.ln.Accept(actx); err == nil {
			accepted <- struct{}{}
		}
	}()
	dc = ih.dialConfig("")
	dc.ClientCertificate = &bob
	if _, err := session.Dial(c, dc); err == nil {
		t.Error("an offer got into an invitation's listener")
	}
	select {
	case <-accepted:
		t.Error("an offer reached the invitation's host")
	case <-time.After(200 * time.Millisecond):
	}
}

// VerifyHost replaces the pin, and its error is Dial's; the helper's
// certificate is never sent to a host it refused.
func TestOfferVerifyHost(t *testing.T) {
	c := ctx(t)
	bob := helperCert(t)
	h := startOfferHost(t) // nobody allowed: reaching VerifyClient would record bob
	errChanged := errors.New("the key changed")
	dc := h.dialConfig(&bob)
	dc.Pin = [32]byte{}
	var seen [32]byte
	dc.VerifyHost = func(spki []byte) error {
		seen = sha256.Sum256(spki)
		return errChanged
	}
	if _, err := session.Dial(c, dc); !errors.Is(err, errChanged) {
		t.Fatalf("Dial = %v, want VerifyHost's error", err)
	}
	if seen != h.pin {
		t.Error("VerifyHost was not given the host's key")
	}
	time.Sleep(100 * time.Millisecond)
	h.mu.Lock()
	n := len(h.refused)
	h.mu.Unlock()
	if n != 0 {
		t.Error("the helper's certificate reached a host it refused")
	}

	// Accepting in VerifyHost lets the offer through without a pin.
	h.mu.Lock()
	h.allowed = append(h.allowed, bob.Leaf.RawSubjectPublicKeyInfo)
	h.mu.Unlock()
	dc.VerifyHost = func([]byte) error { return nil }
	go func() {
		if r, err := h.ln.Accept(c); err == nil {
			r.Reject(session.RejectBusy, "busy", 0)
		}
	}()
	if _, err := session.Dial(c, dc); !errors.Is(err, session.ErrBusy) {
		t.Fatalf("Dial = %v, want the host's answer (busy)", err)
	}
}

// A host that rejects a viewer and stops at once may close the connection
// before the viewer has read the reject message; the viewer still learns
// the refusal's code from the close.
func TestRejectThenCloseAtOnce(t *testing.T) {
	for i := 0; i < 10; i++ {
		c := ctx(t)
		bob := helperCert(t)
		h := startOfferHost(t, bob)
		go func() {
			if r, err := h.ln.Accept(c); err == nil {
				r.Reject(session.RejectCancelled, "the person stopped gethelp", 0)
				h.ln.Close()
			}
		}()
		_, err := session.Dial(c, h.dialConfig(&bob))
		if !errors.Is(err, session.ErrCancelled) {
			t.Fatalf("try %d: Dial = %v, want ErrCancelled", i, err)
		}
	}
}
