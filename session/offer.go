package session

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"

	"github.com/quic-go/quic-go"
)

// Offers of help: a listener with ListenConfig.VerifyClient takes only
// offers, from viewers that dial with DialConfig.ClientCertificate. See
// "Offers of help" in the package doc.

// offerTLS makes conf require a client certificate and pass its key, with
// the client's address, to verify inside the handshake. It must be called
// before conf is handed to QUIC.
func offerTLS(conf *tls.Config, verify func(spki []byte, remote net.Addr) error) {
	conf.ClientAuth = tls.RequireAnyClientCert
	conf.GetConfigForClient = func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
		var remote net.Addr
		if hi.Conn != nil {
			remote = hi.Conn.RemoteAddr()
		}
		c := conf.Clone()
		c.GetConfigForClient = nil
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("session: the helper presented no key")
			}
			return verify(cs.PeerCertificates[0].RawSubjectPublicKeyInfo, remote)
		}
		return c, nil
	}
}

// validHello reports whether m is the hello this listener takes: an offer
// on a listener with VerifyClient, an invitation's hello on any other.
func (l *Listener) validHello(m Message) bool {
	if m.Type != TypeHello || m.Version != Version {
		return false
	}
	if l.offers {
		return m.Offer && m.Invitation == "" && len(m.Proof) == 0
	}
	return !m.Offer && m.Invitation != "" && len(m.Proof) == 32
}

// Offer reports whether the viewer offers help (it came to a listener with
// ListenConfig.VerifyClient, and ClientKey is its key) rather than
// answering an invitation.
func (r *Request) Offer() bool { return r.l.offers }

// ClientKey returns the DER SubjectPublicKeyInfo of the key the viewer
// authenticated with in the TLS handshake (an offer: it passed
// ListenConfig.VerifyClient and proved it holds the private key), or nil.
func (r *Request) ClientKey() []byte {
	certs := r.qc.ConnectionState().TLS.PeerCertificates
	if len(certs) == 0 {
		return nil
	}
	return certs[0].RawSubjectPublicKeyInfo
}

// Done returns a channel that is closed when the viewer's connection ends
// before an answer: it gave up waiting, or vanished. A host that asks the
// person before answering an offer withdraws the question then.
func (r *Request) Done() <-chan struct{} { return r.qc.Context().Done() }

// isOffer reports whether cfg dials an offer of help.
func (cfg DialConfig) isOffer() bool { return cfg.ClientCertificate != nil }

// offerError turns the host's refusal of our key in the handshake into a
// *RejectError with RejectNotAllowed; other errors are returned as they
// are.
func offerError(cfg DialConfig, err error) error {
	if cfg.isOffer() && refusedKey(err) {
		return &RejectError{Code: RejectNotAllowed}
	}
	return err
}

// refusedKey reports whether err is the peer closing the connection with
// the TLS alert that a refused client certificate gives: bad_certificate
// (42), or certificate_required (116) when none was sent.
func refusedKey(err error) bool {
	var te *quic.TransportError
	if !errors.As(err, &te) || !te.Remote || !te.ErrorCode.IsCryptoError() {
		return false
	}
	alert := uint8(te.ErrorCode - 0x100)
	return alert == 42 || alert == 116
}

// hostCheck wraps cfg.VerifyHost so that Dial can return its error, rather
// than ErrPinMismatch, when every address failed it.
type hostCheck struct {
	mu  sync.Mutex
	err error // the first error VerifyHost returned
}

func (h *hostCheck) wrap(cfg *DialConfig) {
	verify := cfg.VerifyHost
	if verify == nil {
		return
	}
	cfg.VerifyHost = func(spki []byte) error {
		err := verify(spki)
		if err != nil {
			h.mu.Lock()
			if h.err == nil {
				h.err = err
			}
			h.mu.Unlock()
		}
		return err
	}
}

// result returns VerifyHost's error in place of ErrPinMismatch.
func (h *hostCheck) result(err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil && errors.Is(err, ErrPinMismatch) {
		return h.err
	}
	return err
}
