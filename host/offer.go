package host

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/sessionlog"
)

// DefaultAnswerTimeout is how long the person has to answer an offer of
// help before it is declined for them.
const DefaultAnswerTimeout = 2 * time.Minute

// ErrNoOffer is returned by AnswerOffer when no offer waits for an answer.
var ErrNoOffer = errors.New("host: nobody is offering help right now")

// Offer events. A helper whose key the policy lists offers help (EventOffer:
// the person answers with AnswerOffer); it is then admitted (EventConnected
// follows) or declined (EventOfferDeclined). EventOfferRefused is an offer
// turned away without asking the person: By is "not_allowed" (the key is
// not on the list; refused in the TLS handshake) or "policy" (offering help
// is turned off). A helper turned away because another is being helped, or
// asks, gives EventBusy.
const (
	EventOffer         = "offer"          // Helper (the policy's name for the key), Fingerprint, Addr, ID
	EventOfferDeclined = "offer_declined" // Helper, Fingerprint, ID, By: deny (the person), timeout, helper (gave up), policy; Reason
	EventOfferRefused  = "offer_refused"  // Helper when known, Fingerprint, Addr, By: not_allowed or policy; Reason
)

// OfferConfig makes a Host one that helpers offer help to (gethelp host
// serve) rather than one waiting on an invitation: it listens with a
// long-lived key, lets in only helpers whose keys the policy lists, asks
// the person about each offer, and after a session waits for the next
// offer until Run's context ends. Config.TTL, Password, ID, Store and
// Rendezvous do not apply.
type OfferConfig struct {
	// Certificate is the computer's long-lived certificate, an Ed25519
	// key: helpers remember its key on first contact.
	Certificate tls.Certificate
	// Policy returns the administrator's rules for offers as they are now.
	// It is called for every offer, so a change applies to the next offer
	// without a restart. An error refuses offers as if they were turned
	// off (and is logged). Never nil.
	Policy func() (OfferPolicy, error)
	// AnswerTimeout is how long the person has to answer; zero means
	// DefaultAnswerTimeout. No answer declines the offer.
	AnswerTimeout time.Duration
}

// OfferPolicy is what the administrator allows.
type OfferPolicy struct {
	Enabled bool                // offering help is on
	Helpers helperkey.Allowlist // the helpers who may offer it
}

// pendingOffer is an offer the person has been asked about.
type pendingOffer struct {
	r      *session.Request
	id     string
	key    helperkey.PublicKey // as the policy lists it
	fp     string
	answer chan bool // buffered: the person's answer
}

// offers is the state of a Host that takes offers.
type offers struct {
	accepted chan *session.Request // offers the person accepted, for Run to admit
	wg       sync.WaitGroup        // the goroutines waiting for answers

	pending *pendingOffer // guarded by Host.mu; nil when nobody is asked
}

// newOffering is New for a Host with Config.Offers.
func newOffering(cfg Config) (*Host, error) {
	oc := *cfg.Offers // a copy: defaults are filled in
	cfg.Offers = &oc
	if cfg.HostName == "" {
		return nil, errors.New("host: display name is empty")
	}
	if oc.Policy == nil {
		return nil, errors.New("host: OfferConfig.Policy is nil")
	}
	leaf := oc.Certificate.Leaf
	if leaf == nil && len(oc.Certificate.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(oc.Certificate.Certificate[0])
	}
	key, ok := oc.Certificate.PrivateKey.(ed25519.PrivateKey)
	if leaf == nil || !ok {
		return nil, errors.New("host: OfferConfig.Certificate is not an Ed25519 certificate")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if oc.AnswerTimeout < 0 {
		return nil, errors.New("host: OfferConfig.AnswerTimeout is negative")
	}
	if oc.AnswerTimeout == 0 {
		oc.AnswerTimeout = DefaultAnswerTimeout
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":0"
	}
	cfg.StorePoll = time.Hour // no store to poll
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	id := invitations.NewID()
	h := &Host{
		cfg:    cfg,
		offers: &offers{accepted: make(chan *session.Request)},
		logger: logger.With("component", "host", "serve", id),
	}
	ln, err := session.Listen(session.ListenConfig{Addr: cfg.ListenAddr, Certificate: oc.Certificate, Logger: logger, VerifyClient: h.verifyHelper})
	if err != nil {
		return nil, err
	}
	h.ln = ln
	// Not an invitation: what the pages show of this computer. It never
	// expires; Run ends when its context does.
	h.inv = &invitations.Invitation{
		ID: id, HostName: cfg.HostName, Created: now, Expires: now.AddDate(100, 0, 0),
		Pin: sha256.Sum256(leaf.RawSubjectPublicKeyInfo), Addresses: Candidates(ln.Addr(), InterfaceAddrs()),
	}
	h.paths = &paths{key: key, sock: ln.Socket(), own: h.inv.Addresses, prefixes: session.InterfacePrefixes(), logger: h.logger}
	h.input.wake = make(chan struct{}, 1)
	if cfg.LogDir != "" {
		l, err := sessionlog.Open(filepath.Join(cfg.LogDir, sessionlog.FileName(now, id, "serve")), cfg.Now)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("host: opening the session log: %w", err)
		}
		h.log = l
	}
	addrs := make([]string, len(h.inv.Addresses))
	for i, a := range h.inv.Addresses {
		addrs[i] = a.String()
	}
	h.record("serving", map[string]any{"host_name": cfg.HostName, "addresses": addrs, "fingerprint": h.KeyFingerprint()})
	return h, nil
}

// Offering reports whether this Host takes offers of help (Config.Offers).
func (h *Host) Offering() bool { return h.offers != nil }

// KeyFingerprint returns the fingerprint of this computer's key, as
// helpers see it (helperkey.Fingerprint): what the person reads to a
// helper who wants to be sure they reached the right computer.
func (h *Host) KeyFingerprint() string {
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(h.inv.Pin[:])
}

// AnswerOffer gives the person's answer to the offer of help they are
// being asked about: accept lets the helper in, exactly as an invited one
// (control and the rest still need their own yes). It returns ErrNoOffer
// when no offer waits.
func (h *Host) AnswerOffer(accept bool) error {
	h.mu.Lock()
	var p *pendingOffer
	if h.offers != nil {
		p = h.offers.pending
	}
	h.mu.Unlock()
	if p == nil {
		return ErrNoOffer
	}
	select {
	case p.answer <- accept:
	default: // answered already
	}
	return nil
}

// errNotListed refuses a key in the TLS handshake.
var errNotListed = errors.New("host: this helper's key is not on the computer's list of helpers")

// verifyHelper is the listener's VerifyClient: it refuses, in the TLS
// handshake, a key the policy does not list. While offering help is off it
// lets every key through, so that the helper learns why it is refused
// (offer answers with RejectPolicy); nothing is shown to the person then.
// A success proves nothing yet (the helper has not shown it holds the
// key): offer looks the proven key up again.
func (h *Host) verifyHelper(spki []byte, remote net.Addr) error {
	pol, err := h.cfg.Offers.Policy()
	if err != nil || !pol.Enabled {
		return nil
	}
	if _, ok := pol.Helpers.Lookup(spki); ok {
		return nil
	}
	fp := helperkey.Fingerprint(spki)
	addr := ""
	if remote != nil {
		addr = remote.String()
	}
	h.record("offer_refused", map[string]any{"reason": "not_allowed", "fingerprint": fp, "addr": addr})
	h.emit(Event{Type: EventOfferRefused, By: "not_allowed", Fingerprint: fp, Addr: addr, Reason: "the helper's key is not on this computer's list of helpers"})
	return errNotListed
}

// offer handles a helper who offers help: it refuses it when offering is
// off or the person is busy, or asks the person and returns at once; the
// answer comes to Run on offers.accepted, or refuses the helper.
func (h *Host) offer(ctx context.Context, r *session.Request) {
	addr := r.RemoteAddr.String()
	fp := helperkey.Fingerprint(r.ClientKey())
	pol, err := h.cfg.Offers.Policy()
	if err != nil {
		h.logger.Error("reading the policy for an offer of help", "err", err)
	}
	if err != nil || !pol.Enabled {
		h.record("offer_refused", map[string]any{"reason": "policy", "fingerprint": fp, "addr": addr, "claims": r.ViewerName})
		h.emit(Event{Type: EventOfferRefused, By: session.ByPolicy, Fingerprint: fp, Addr: addr, Reason: "offering help is turned off on this computer"})
		r.Reject(session.RejectPolicy, "offering help is turned off on this computer by its administrator's policy", 0)
		return
	}
	key, ok := pol.Helpers.Lookup(r.ClientKey())
	if !ok { // the policy changed since the handshake
		h.record("offer_refused", map[string]any{"reason": "not_allowed", "fingerprint": fp, "addr": addr})
		h.emit(Event{Type: EventOfferRefused, By: "not_allowed", Fingerprint: fp, Addr: addr, Reason: "the helper's key is not on this computer's list of helpers"})
		r.Reject(session.RejectNotAllowed, "this helper's key is not on the computer's list of helpers", 0)
		return
	}
	who := map[string]any{"helper": key.Label(), "claims": r.ViewerName, "fingerprint": fp, "addr": addr}
	p := &pendingOffer{r: r, id: invitations.NewID(), key: key, fp: fp, answer: make(chan bool, 1)}
	h.mu.Lock()
	busy := h.sess != nil || h.offers.pending != nil
	if !busy {
		h.offers.pending = p
	}
	h.mu.Unlock()
	if busy {
		h.record("offer_refused", merge(who, "reason", "busy"))
		h.emit(Event{Type: EventBusy, Helper: key.Label(), Addr: addr})
		r.Reject(session.RejectBusy, "the person is already being helped by someone else", 0)
		return
	}
	r.ViewerName = key.Label() // the person sees the administrator's name for the key
	h.record("offer", merge(who, "id", p.id))
	h.emit(Event{Type: EventOffer, ID: p.id, Helper: key.Label(), Fingerprint: fp, Addr: addr})
	h.offers.wg.Add(1)
	go h.awaitAnswer(ctx, p)
}

// awaitAnswer waits for the person's answer to p and carries it out.
func (h *Host) awaitAnswer(ctx context.Context, p *pendingOffer) {
	defer h.offers.wg.Done()
	t := time.NewTimer(h.cfg.Offers.AnswerTimeout)
	defer t.Stop()
	who := map[string]any{"helper": p.key.Label(), "fingerprint": p.fp, "id": p.id}
	decline := func(by, reason string, code session.RejectCode, toHelper string) {
		h.mu.Lock()
		h.offers.pending = nil
		h.mu.Unlock()
		h.record("offer_declined", merge(who, "by", by, "reason", reason))
		h.emit(Event{Type: EventOfferDeclined, ID: p.id, Helper: p.key.Label(), Fingerprint: p.fp, By: by, Reason: reason})
		p.r.Reject(code, toHelper, 0)
	}
	select {
	case yes := <-p.answer:
		if !yes {
			decline(session.ByDeny, "you declined", session.RejectDeclined, h.cfg.HostName+" declined your offer of help")
			return
		}
	case <-t.C:
		decline("timeout", "nobody answered", session.RejectDeclined, h.cfg.HostName+" did not answer your offer of help")
		return
	case <-p.r.Done():
		decline(session.ByHelper, "the helper gave up waiting", session.RejectCancelled, "you withdrew the offer")
		return
	case <-ctx.Done():
		decline("stopped", "gethelp stopped", session.RejectCancelled, "the person stopped gethelp")
		return
	}
	// Accepted. The policy may have changed while the person thought.
	if pol, err := h.cfg.Offers.Policy(); err != nil || !pol.Enabled {
		decline(session.ByPolicy, "offering help was turned off", session.RejectPolicy, "offering help is turned off on this computer by its administrator's policy")
		return
	} else if _, ok := pol.Helpers.Lookup(p.r.ClientKey()); !ok {
		decline(session.ByPolicy, "the helper's key was taken off the list", session.RejectNotAllowed, "this helper's key is not on the computer's list of helpers")
		return
	}
	h.record("offer_accepted", who)
	select {
	case h.offers.accepted <- p.r:
	case <-ctx.Done():
		h.mu.Lock()
		h.offers.pending = nil
		h.mu.Unlock()
		p.r.Reject(session.RejectCancelled, "the person stopped gethelp", 0)
	}
}

// acceptedOffers returns the channel of offers the person accepted, nil
// (never ready) on a Host that takes no offers.
func (h *Host) acceptedOffers() <-chan *session.Request {
	if h.offers == nil {
		return nil
	}
	return h.offers.accepted
}

// admitOffer starts the session of an offer the person accepted.
func (h *Host) admitOffer(r *session.Request) *session.Conn {
	s := h.handle(r)
	h.mu.Lock()
	h.offers.pending = nil
	h.mu.Unlock()
	return s
}
