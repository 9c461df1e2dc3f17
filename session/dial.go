package session

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// DefaultAttemptTimeout bounds each candidate address's QUIC handshake.
const DefaultAttemptTimeout = 4 * time.Second

// Candidates are addresses of the host learned while dialing.
type Candidates struct {
	Addresses []netip.AddrPort
	Relays    []netip.AddrPort
	// Again are addresses worth one more attempt now, beside one that
	// may still be waiting: a packet from there just arrived, so the path
	// through the NATs is open (a first attempt's packet may have been
	// dropped before it was, and QUIC resends only after 200 ms).
	Again []netip.AddrPort
}

// maxAttempts bounds the addresses one Dial tries.
const maxAttempts = 32

// DefaultRelayDelay is how long direct addresses are tried alone before
// the relay joins the race. Punching through two NATs takes a few round
// trips after the rendezvous answers: 13-262 ms in the NAT lab.
const DefaultRelayDelay = time.Second

// ipv4Delay is the head start of IPv6 addresses over IPv4 ones (RFC 8305's
// Connection Attempt Delay): a direct IPv6 path needs no NAT mapping, so
// it is preferred when both families work.
const ipv4Delay = 250 * time.Millisecond

// DialConfig configures Dial.
type DialConfig struct {
	// Addresses are the host's candidates, tried in parallel.
	Addresses []netip.AddrPort
	// Pin is the SHA-256 of the host's SubjectPublicKeyInfo.
	Pin [32]byte
	// InvitationID identifies the invitation to the host.
	InvitationID string
	// Password is the invitation's password in canonical form.
	Password string
	// Name is the helper's display name, shown to the person.
	Name string
	// AttemptTimeout bounds each address's handshake; zero means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Resume, when set, is the ResumeToken of a session whose connection
	// was lost: the host then resumes that session instead of refusing a
	// second helper. The password proof is still required.
	Resume []byte
	// Later, when set, brings candidates learned while dialing (from the
	// rendezvous); they join the race as they come. Dial stops waiting for
	// more when it is closed.
	Later <-chan Candidates
	// Relays are the host's relayed addresses (on a TURN relay). They are
	// dialed only after RelayDelay, or as soon as every address in
	// Addresses has failed, so that a direct path wins when there is one.
	Relays []netip.AddrPort
	// RelayDelay is the head start of the direct addresses; zero means
	// DefaultRelayDelay.
	RelayDelay time.Duration
	// Socket, when set, is the socket every attempt dials from, so that
	// the NAT mappings its probes opened carry the handshake. Dial takes
	// it over: it is closed when the session ends, or before Dial
	// returns an error. Nil gives each attempt a socket of its own.
	Socket *Socket

	// ClientCertificate, when set, makes the dial an offer of help: the
	// certificate (its key: the helper's identity) authenticates the
	// helper in the TLS handshake, the hello carries no invitation and no
	// password proof, and InvitationID and Password are ignored.
	ClientCertificate *tls.Certificate
	// VerifyHost, when set, checks the host's key (its DER
	// SubjectPublicKeyInfo) instead of Pin, inside the handshake: an error
	// refuses the server before the helper's certificate or any other byte
	// is sent to it, and Dial returns that error when no address passed.
	VerifyHost func(spki []byte) error
}

// Dial connects to the host of an invitation: it tries every candidate
// address at once, keeps the first whose TLS handshake completes with the
// pinned key, proves the password bound to that connection, and waits for
// the host's answer.
//
// Errors: ErrPinMismatch when a server answered with another key (nothing was
// sent to it), or VerifyHost's error, ErrUnreachable when no address
// answered, a *RejectError when the host refused (unwrapping to
// ErrBadPassword, ErrLocked, ErrBusy, ErrExpired, ErrCancelled,
// ErrUnknownInvitation or ErrPolicy; for an offer, ErrNotAllowed, ErrBusy,
// ErrDeclined or ErrPolicy), or the context's error.
func Dial(ctx context.Context, cfg DialConfig) (*Conn, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var onDone func()
	if cfg.Socket != nil {
		onDone = func() { _ = cfg.Socket.Close() }
	}
	fail := func(err error) (*Conn, error) {
		if onDone != nil {
			onDone()
		}
		return nil, err
	}
	if len(cfg.Addresses) == 0 && len(cfg.Relays) == 0 && cfg.Later == nil {
		return fail(fmt.Errorf("%w: the invitation lists no address", ErrUnreachable))
	}
	if cfg.isOffer() {
		cfg.InvitationID, cfg.Password = "", ""
	}
	var hc hostCheck
	hc.wrap(&cfg)
	qc, err := race(ctx, cfg, logger)
	if err != nil {
		return fail(hc.result(err))
	}
	c, err := hello(ctx, qc, cfg, logger, onDone)
	if err != nil {
		_ = qc.CloseWithError(codeBye, "")
		return fail(err)
	}
	return c, nil
}

type attempt struct {
	addr     netip.AddrPort
	relayed  bool
	qc       *quic.Conn
	err      error
	mismatch bool
}

// race dials all candidates in parallel and returns the first connection
// whose handshake completed with the pinned key.
func race(ctx context.Context, cfg DialConfig, logger *slog.Logger) (*quic.Conn, error) {
	timeout := cfg.AttemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	relayDelay := cfg.RelayDelay
	if relayDelay <= 0 {
		relayDelay = DefaultRelayDelay
	}
	start := time.Now()
	results := make(chan attempt, 2*maxAttempts)
	var (
		wg, direct sync.WaitGroup
		mu         sync.Mutex
		spawned    = map[netip.AddrPort]int{} // attempts per address
		v6         sync.WaitGroup             // the IPv6 addresses known at the start
	)
	// Happy Eyeballs (RFC 8305): IPv6 addresses get a head start of
	// ipv4Delay, which ends early once every IPv6 attempt known at the
	// start has ended (a success cancels the rest anyway).
	v6Ended := make(chan struct{})
	directFailed := make(chan struct{}) // every direct attempt failed (and no more will come)
	// wait holds an attempt back until notBefore (measured from the start)
	// or until early is closed; false when ctx ended first.
	wait := func(notBefore time.Duration, early <-chan struct{}) bool {
		t := time.NewTimer(time.Until(start.Add(notBefore)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-early:
		case <-ctx.Done():
			return false
		}
		return true
	}
	// spawn starts an attempt at addr: once per address (twice when
	// again), at most maxAttempts addresses.
	spawn := func(addr netip.AddrPort, relayed, initial, again bool) {
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		mu.Lock()
		n := spawned[addr]
		if (n > 0 && !again) || n > 1 || (n == 0 && len(spawned) >= maxAttempts) {
			mu.Unlock()
			return
		}
		spawned[addr]++
		mu.Unlock()
		is6 := addr.Addr().Is6()
		wg.Add(1)
		if !relayed {
			direct.Add(1)
		}
		if initial && is6 && !relayed {
			v6.Add(1) // before v6.Wait starts: initial attempts are spawned first
		}
		go func() {
			defer wg.Done()
			if !relayed {
				defer direct.Done()
			}
			if initial && is6 && !relayed {
				defer v6.Done()
			}
			var ok bool
			switch {
			case relayed:
				ok = wait(relayDelay, directFailed)
			case is6:
				ok = true
			default:
				ok = wait(ipv4Delay, v6Ended)
			}
			if !ok {
				results <- attempt{addr: addr, relayed: relayed, err: ctx.Err()}
				return
			}
			a := dialOne(ctx, cfg.Socket, addr, cfg, timeout)
			a.relayed = relayed
			results <- a
		}()
	}
	for _, addr := range cfg.Addresses {
		spawn(addr, false, true, false)
	}
	for _, addr := range cfg.Relays {
		spawn(addr, true, true, false)
	}
	go func() { v6.Wait(); close(v6Ended) }()
	if cfg.Later != nil {
		// Candidates learned while dialing (the rendezvous's answer).
		wg.Add(1)
		direct.Add(1)
		go func() {
			defer wg.Done()
			defer direct.Done()
			for {
				select {
				case c, ok := <-cfg.Later:
					if !ok {
						return
					}
					for _, addr := range c.Addresses {
						spawn(addr, false, false, false)
					}
					for _, addr := range c.Relays {
						spawn(addr, true, false, false)
					}
					for _, addr := range c.Again {
						spawn(addr, false, false, true)
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { direct.Wait(); close(directFailed) }()
	go func() { wg.Wait(); close(results) }()

	var winner *quic.Conn
	var failures []string
	mismatch := false
	for a := range results {
		switch {
		case a.err == nil && winner == nil:
			winner = a.qc
			logger.Info("connected", "addr", a.addr.String(), "relayed", a.relayed)
			cancel() // stop the others
		case a.err == nil:
			_ = a.qc.CloseWithError(codeBye, "another path won")
		default:
			mismatch = mismatch || a.mismatch
			if ctx.Err() == nil || winner == nil {
				what := a.addr.String()
				if a.relayed {
					what = "relay " + what
				}
				failures = append(failures, fmt.Sprintf("%s: %v", what, shortDialError(a.err)))
			}
		}
	}
	if winner != nil {
		return winner, nil
	}
	if err := ctx.Err(); err != nil && !mismatch {
		// The caller's context ended (ours is only cancelled after a win).
		return nil, err
	}
	if mismatch {
		return nil, ErrPinMismatch
	}
	return nil, fmt.Errorf("%w at any of %d addresses (%s): is the person's gethelp still waiting, and is UDP allowed between you?",
		ErrUnreachable, len(failures), strings.Join(failures, "; "))
}

func dialOne(ctx context.Context, sock *Socket, addr netip.AddrPort, cfg DialConfig, timeout time.Duration) attempt {
	a := attempt{addr: addr}
	var mu sync.Mutex
	tlsConf := &tls.Config{
		ServerName: "gethelp",
		NextProtos: []string{ALPN},
		MinVersion: tls.VersionTLS13,
		// The CA system is not used: the invitation pins the key instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no host certificate")
			}
			spki := cs.PeerCertificates[0].RawSubjectPublicKeyInfo
			var err error
			if cfg.VerifyHost != nil {
				err = cfg.VerifyHost(spki)
			} else if got := sha256.Sum256(spki); subtle.ConstantTimeCompare(got[:], cfg.Pin[:]) != 1 {
				err = ErrPinMismatch
			}
			if err != nil {
				mu.Lock()
				a.mismatch = true
				mu.Unlock()
			}
			return err
		},
	}
	if cert := cfg.ClientCertificate; cert != nil {
		tlsConf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	conf := quicConfig()
	conf.HandshakeIdleTimeout = timeout
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if sock != nil {
		a.qc, a.err = sock.tr.Dial(dctx, net.UDPAddrFromAddrPort(addr), tlsConf, conf)
	} else {
		a.qc, a.err = quic.DialAddr(dctx, addr.String(), tlsConf, conf)
	}
	mu.Lock()
	defer mu.Unlock()
	return a
}

func shortDialError(err error) string {
	var idle *quic.IdleTimeoutError
	var hs *quic.HandshakeTimeoutError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &idle), errors.As(err, &hs):
		return "no answer"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return err.Error()
}

// hello sends the password proof and reads the host's answer.
func hello(ctx context.Context, qc *quic.Conn, cfg DialConfig, logger *slog.Logger, onDone func()) (*Conn, error) {
	var proof []byte
	var err error
	if !cfg.isOffer() {
		if proof, err = passwordProof(qc.ConnectionState().TLS, cfg.InvitationID, cfg.Password); err != nil {
			return nil, err
		}
	}
	st, err := qc.OpenStreamSync(ctx)
	if err != nil {
		return nil, offerError(cfg, fmt.Errorf("session: opening control stream: %w", err))
	}
	stop := context.AfterFunc(ctx, func() { st.CancelRead(0); st.CancelWrite(0) })
	defer stop()
	if _, err := st.Write(preface(ChannelControl)); err != nil {
		return nil, offerError(cfg, fmt.Errorf("session: sending hello: %w", err))
	}
	var wmu sync.Mutex
	err = writeMessage(&wmu, st, Message{
		Type: TypeHello, Version: Version, Invitation: cfg.InvitationID,
		Name: cfg.Name, Proof: proof, Offer: cfg.isOffer(), Resume: cfg.Resume, Time: time.Now().UTC(),
	})
	if err != nil {
		return nil, offerError(cfg, err)
	}
	f, err := ReadFrame(st, MaxControlFrame)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if cfg.isOffer() && refusedKey(err) {
			return nil, offerError(cfg, err)
		}
		if re := rejectedByClose(err); re != nil {
			return nil, re
		}
		return nil, fmt.Errorf("session: waiting for the host's answer: %s", closedFrom(err).Reason)
	}
	m, err := decodeMessage(f.Payload)
	if err != nil {
		return nil, err
	}
	switch m.Type {
	case TypeWelcome:
		if !stop() {
			return nil, ctx.Err()
		}
		c := newConn(qc, st, m.Name, logger.With("remote", qc.RemoteAddr().String()), onDone)
		if len(m.Resume) <= 64 {
			c.resume = m.Resume
		}
		return c, nil
	case TypeReject:
		return nil, &RejectError{Code: m.Code, Reason: m.Text, AttemptsLeft: m.AttemptsLeft}
	default:
		return nil, fmt.Errorf("%w: host answered %q to hello", ErrBadFrame, m.Type)
	}
}
