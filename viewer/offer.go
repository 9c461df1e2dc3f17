package viewer

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"

	"github.com/gethelp/gethelp/session"
)

// Offer is what offering help to a computer takes (gethelp viewer offer):
// there is no invitation, so the helper's key gets it in (the computer's
// policy must list it, and the person must accept), and the helper checks
// the computer's key itself.
type Offer struct {
	// Host names the computer as the helper gave it (HOST:PORT), for the
	// log.
	Host string
	// Addresses are the computer's addresses, tried at once.
	Addresses []netip.AddrPort
	// Certificate carries the helper's key (helperkey.PrivateKey.Certificate).
	Certificate tls.Certificate
	// VerifyHost checks the computer's key (its DER SubjectPublicKeyInfo)
	// inside the handshake, before anything of the helper's is sent; its
	// error is Open's. Never nil.
	VerifyHost func(spki []byte) error
}

// openOffer is Open for Config.Offer. The answer may take as long as the
// person takes to decide (the host gives up after a while), or until ctx
// ends. Errors are those of session.Dial for an offer: VerifyHost's,
// session.ErrUnreachable, or a *session.RejectError unwrapping to
// session.ErrNotAllowed, ErrDeclined, ErrBusy or ErrPolicy.
func openOffer(ctx context.Context, cfg Config, logger *slog.Logger) (*Viewer, error) {
	o := cfg.Offer
	if o.VerifyHost == nil {
		return nil, errors.New("viewer: Offer.VerifyHost is nil")
	}
	logger = logger.With("component", "viewer", "offer", o.Host)
	cert := o.Certificate
	conn, err := session.Dial(ctx, session.DialConfig{
		Addresses:         o.Addresses,
		Name:              cfg.Name,
		ClientCertificate: &cert,
		VerifyHost:        o.VerifyHost,
		AttemptTimeout:    cfg.AttemptTimeout,
		Logger:            logger,
	})
	if err != nil {
		return nil, err
	}
	path := session.PathDirect
	if ua, ok := conn.RemoteAddr().(*net.UDPAddr); ok {
		path = session.ClassifyPath(ua.AddrPort(), session.InterfacePrefixes(), nil)
	}
	return start(cfg, conn, path, "offer-"+o.Host, logger)
}
