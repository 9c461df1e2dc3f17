package rendezvous

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v4"
)

// PacketConn is the socket a client speaks from: the one its QUIC traffic
// uses (session.Socket is one). ReadFrom returns ctx's error when ctx ends.
type PacketConn interface {
	WriteTo(b []byte, addr netip.AddrPort) error
	ReadFrom(ctx context.Context, b []byte) (int, netip.AddrPort, error)
}

// Errors returned by Seek.
var (
	ErrNotFound = errors.New("rendezvous: the host is not registered (or the invitation does not match)")
	ErrNoAnswer = errors.New("rendezvous: no answer from the rendezvous")
)

// Defaults of the clients.
const (
	DefaultRefresh  = 20 * time.Second
	DefaultProbeFor = 6 * time.Second
	probeEvery      = 100 * time.Millisecond
)

// Peer is a viewer that asked for the host, as the rendezvous saw it.
type Peer struct {
	Candidates []netip.AddrPort // the viewer's own addresses
	Reflexive  netip.AddrPort   // where the rendezvous saw it: its NAT mapping
}

// Relay is a TURN relay the rendezvous offers a host, with credentials
// valid for a while (see RelayConfig).
type Relay struct {
	Server   string // "host:port"
	Username string
	Password string
}

// HostConfig configures RunHost.
type HostConfig struct {
	Server       netip.AddrPort // the rendezvous
	Conn         PacketConn     // the host's QUIC socket; RunHost is its only reader
	InvitationID string
	Key          ed25519.PrivateKey // the host certificate's key; the invitation pins its public half
	Candidates   []netip.AddrPort   // the host's own addresses
	// Refresh is the time between registrations; zero means DefaultRefresh.
	Refresh time.Duration
	// ProbeFor is how long the host probes a viewer after each Peer
	// indication; zero means DefaultProbeFor.
	ProbeFor time.Duration
	// OnRegistered, when set, is called with the host's reflexive address
	// after each accepted registration.
	OnRegistered func(reflexive netip.AddrPort)
	// OnPeer, when set, is called for each Peer indication, before probing.
	OnPeer func(Peer)
	// OnRelay, when set, is called with the relay each registration
	// answer offers (the same relay again on every refresh).
	OnRelay func(Relay)
	// Relayed, when set, returns the host's relayed address on the relay
	// (the zero value while it has none); it is announced with the
	// candidates.
	Relayed func() netip.AddrPort
	// Reregister, when set, makes RunHost register again at once (e.g.
	// when the relayed address is ready).
	Reregister <-chan struct{}
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// RunHost registers the host's candidates with the rendezvous, refreshes
// the registration, and probes every viewer the rendezvous announces,
// until ctx ends; then it returns ctx's error. It returns another error
// only when the socket fails or the configuration is unusable.
func RunHost(ctx context.Context, cfg HostConfig) error {
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.ProbeFor <= 0 {
		cfg.ProbeFor = DefaultProbeFor
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	spki, err := x509.MarshalPKIXPublicKey(cfg.Key.Public())
	if err != nil {
		return fmt.Errorf("rendezvous: host key: %w", err)
	}
	server := unmap(cfg.Server)
	var (
		counter      uint64
		nextRegister time.Time // zero: now
		retry        = 250 * time.Millisecond
		registered   bool
		targets      []netip.AddrPort
		probeUntil   time.Time
		nextProbe    time.Time
		buf          = make([]byte, 2048)
	)
	probe, _, err := encode(typeProbe, stun.NewTransactionID(), &body{ID: cfg.InvitationID}, nil, netip.AddrPort{}, 0)
	if err != nil {
		return err
	}
	// Reregister wakes the loop (cancelling its read) and makes it
	// register at once.
	var (
		again    atomic.Bool
		wakeMu   sync.Mutex
		wakeRead context.CancelFunc = func() {}
	)
	if cfg.Reregister != nil {
		go func() {
			for {
				select {
				case <-cfg.Reregister:
					again.Store(true)
					wakeMu.Lock()
					wakeRead()
					wakeMu.Unlock()
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for {
		now := time.Now()
		if again.Swap(false) {
			nextRegister = time.Time{}
		}
		if !now.Before(nextRegister) {
			counter = max(counter+1, uint64(now.UnixNano()))
			b := &body{ID: cfg.InvitationID, SPKI: spki, Counter: counter, Candidates: formatCandidates(cfg.Candidates)}
			if cfg.Relayed != nil {
				if r := cfg.Relayed(); r.IsValid() {
					b.Relayed = unmap(r).String()
				}
			}
			raw, err := marshalBody(b)
			if err != nil {
				return err
			}
			sig := ed25519.Sign(cfg.Key, append([]byte(signContext), raw...))
			p, _, err := encode(typeRegister, stun.NewTransactionID(), b, sig, netip.AddrPort{}, 0)
			if err != nil {
				return err
			}
			if err := cfg.Conn.WriteTo(p, server); err != nil {
				logger.Warn("registering", "err", err)
			}
			if registered {
				nextRegister = now.Add(cfg.Refresh)
			} else {
				nextRegister = now.Add(retry)
				retry = min(2*retry, cfg.Refresh)
			}
		}
		if len(targets) > 0 && !now.Before(nextProbe) {
			if now.After(probeUntil) {
				targets = nil
			}
			for _, t := range targets {
				_ = cfg.Conn.WriteTo(probe, t)
			}
			nextProbe = now.Add(probeEvery)
		}
		wake := nextRegister
		if len(targets) > 0 && nextProbe.Before(wake) {
			wake = nextProbe
		}
		rctx, cancel := context.WithDeadline(ctx, wake)
		wakeMu.Lock()
		wakeRead = cancel
		wakeMu.Unlock()
		if again.Load() {
			cancel()
		}
		n, from, err := cfg.Conn.ReadFrom(rctx, buf)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			continue
		}
		if err != nil {
			return err
		}
		if from != server {
			continue // a viewer's probe, or noise
		}
		d, err := decode(buf[:n])
		if err != nil {
			continue
		}
		switch d.msg.Type {
		case typeRegisterSuccess:
			if !registered {
				logger.Info("registered with the rendezvous", "reflexive", d.mapped)
				nextRegister = time.Now().Add(cfg.Refresh)
			}
			registered = true
			if cfg.OnRegistered != nil {
				cfg.OnRegistered(d.mapped)
			}
			if cfg.OnRelay != nil && d.body.Relay != "" && d.body.RelayUser != "" {
				cfg.OnRelay(Relay{Server: d.body.Relay, Username: d.body.RelayUser, Password: d.body.RelayPass})
			}
		case typeRegisterError:
			logger.Warn("the rendezvous refused the registration", "code", d.code)
			registered = false
		case typePeer:
			if d.body.ID != cfg.InvitationID {
				continue
			}
			peer := Peer{Candidates: parseCandidates(d.body.Candidates)}
			if ap, err := netip.ParseAddrPort(d.body.Reflexive); err == nil {
				peer.Reflexive = unmap(ap)
			}
			logger.Info("a viewer is looking for us", "reflexive", peer.Reflexive, "candidates", peer.Candidates)
			if cfg.OnPeer != nil {
				cfg.OnPeer(peer)
			}
			for _, t := range append(slices.Clone(peer.Candidates), peer.Reflexive) {
				if t.IsValid() && !slices.Contains(targets, t) && len(targets) < 2*MaxCandidates {
					targets = append(targets, t)
				}
			}
			probeUntil = time.Now().Add(cfg.ProbeFor)
			nextProbe = time.Time{}
		}
	}
}

func marshalBody(b *body) ([]byte, error) {
	// encode marshals the same way; sign exactly those bytes.
	_, raw, err := encode(typeRegister, [stun.TransactionIDSize]byte{}, b, make([]byte, ed25519.SignatureSize), netip.AddrPort{}, 0)
	return raw, err
}

// SeekConfig configures Seek.
type SeekConfig struct {
	Server       netip.AddrPort // the rendezvous
	Conn         PacketConn     // the socket the viewer will dial QUIC from; the Seeker is its only reader
	InvitationID string
	Pin          [32]byte         // the invitation's pin
	Candidates   []netip.AddrPort // the viewer's own addresses
	// ProbeFor bounds how long the Seeker probes and announces; zero
	// means DefaultProbeFor.
	ProbeFor time.Duration
	// OnProbe, when set, is called (from the Seeker's goroutine; it must
	// not block) the first time a probe arrives from each address: that
	// path through the host's NAT is open now.
	OnProbe func(from netip.AddrPort)
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Seeker asks the rendezvous for a host, announces the viewer to it, and
// probes the host's candidates from the viewer's socket while the viewer
// dials.
type Seeker struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu            sync.Mutex
	host          []netip.AddrPort // guarded by mu
	hostReflexive netip.AddrPort   // guarded by mu
	hostRelayed   netip.AddrPort   // guarded by mu
	reflexive     netip.AddrPort   // guarded by mu
}

// Seek asks the rendezvous for the host's candidates and returns once it
// has them; the Seeker then goes on announcing and probing in the
// background until Close (or ProbeFor). Errors: ErrNotFound when the
// rendezvous does not know the host (by the time ctx ends), ErrNoAnswer when
// it never answered; both also wrap ctx's error.
func Seek(ctx context.Context, cfg SeekConfig) (*Seeker, error) {
	if cfg.ProbeFor <= 0 {
		cfg.ProbeFor = DefaultProbeFor
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rctx, cancel := context.WithTimeout(context.Background(), cfg.ProbeFor)
	s := &Seeker{cancel: cancel, done: make(chan struct{})}
	answered := make(chan error, 1)
	go func() {
		defer close(s.done)
		s.run(rctx, cfg, logger, answered)
	}()
	select {
	case err := <-answered:
		if err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		s.Close()
		if err := <-answered; err != nil {
			return nil, fmt.Errorf("%w: %w", err, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %w", ErrNoAnswer, ctx.Err())
	}
}

// run answers on answered exactly once: nil after the first answer, or
// the reason it stopped before one.
func (s *Seeker) run(ctx context.Context, cfg SeekConfig, logger *slog.Logger, answered chan<- error) {
	server := unmap(cfg.Server)
	lookup, _, err := encode(typeLookup, stun.NewTransactionID(), &body{
		ID: cfg.InvitationID, Pin: cfg.Pin[:], Candidates: formatCandidates(cfg.Candidates),
	}, nil, netip.AddrPort{}, 0)
	if err != nil {
		answered <- err
		return
	}
	probe, _, err := encode(typeProbe, stun.NewTransactionID(), &body{ID: cfg.InvitationID}, nil, netip.AddrPort{}, 0)
	if err != nil {
		answered <- err
		return
	}
	var (
		gotAnswer  bool
		notFound   bool
		nextLookup time.Time
		nextProbe  time.Time
		targets    []netip.AddrPort
		probed     []netip.AddrPort // where the host's probes came from
		buf        = make([]byte, 2048)
	)
	defer func() {
		if !gotAnswer {
			if notFound {
				answered <- ErrNotFound
			} else {
				answered <- ErrNoAnswer
			}
		}
	}()
	for {
		now := time.Now()
		if !now.Before(nextLookup) {
			if err := cfg.Conn.WriteTo(lookup, server); err != nil {
				logger.Warn("looking up the host", "err", err)
			}
			if gotAnswer {
				nextLookup = now.Add(time.Second)
			} else {
				nextLookup = now.Add(250 * time.Millisecond)
			}
		}
		wake := nextLookup
		if len(targets) > 0 {
			if !now.Before(nextProbe) {
				for _, t := range targets {
					_ = cfg.Conn.WriteTo(probe, t)
				}
				nextProbe = now.Add(probeEvery)
			}
			wake = nextProbe
		}
		rctx, cancel := context.WithDeadline(ctx, wake)
		n, from, err := cfg.Conn.ReadFrom(rctx, buf)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		if err != nil {
			logger.Warn("reading the socket", "err", err)
			return
		}
		if from != server {
			// The host's probe, or noise.
			if cfg.OnProbe != nil && !slices.Contains(probed, from) && len(probed) < 2*MaxCandidates {
				if d, err := decode(buf[:n]); err == nil && d.msg.Type == typeProbe && d.body.ID == cfg.InvitationID {
					probed = append(probed, from)
					cfg.OnProbe(from)
				}
			}
			continue
		}
		d, err := decode(buf[:n])
		if err != nil {
			continue
		}
		switch d.msg.Type {
		case typeLookupError:
			notFound = d.code == int(codeNotFound)
		case typeLookupSuccess:
			if gotAnswer {
				continue
			}
			host := parseCandidates(d.body.Candidates)
			hr, _ := netip.ParseAddrPort(d.body.Reflexive)
			hr = unmap(hr)
			var relayed netip.AddrPort
			if rs := parseCandidates([]string{d.body.Relayed}); len(rs) == 1 {
				relayed = rs[0]
			}
			s.mu.Lock()
			s.host, s.hostReflexive, s.hostRelayed, s.reflexive = host, hr, relayed, d.mapped
			s.mu.Unlock()
			logger.Info("the rendezvous knows the host", "host_reflexive", hr, "host", host, "our_reflexive", d.mapped)
			targets = append(slices.Clone(host), hr)
			targets = slices.DeleteFunc(targets, func(a netip.AddrPort) bool { return !a.IsValid() })
			gotAnswer = true
			nextLookup = time.Now().Add(time.Second)
			nextProbe = time.Time{}
			answered <- nil
		}
	}
}

// Host returns the host's own candidate addresses, as it registered them.
func (s *Seeker) Host() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.host)
}

// HostReflexive returns the host's address as the rendezvous saw it (its
// NAT mapping).
func (s *Seeker) HostReflexive() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostReflexive
}

// HostRelayed returns the host's relayed address on a TURN relay, or the
// zero value when it has none.
func (s *Seeker) HostRelayed() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostRelayed
}

// Reflexive returns the viewer's own address as the rendezvous saw it.
func (s *Seeker) Reflexive() netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reflexive
}

// Close stops announcing and probing and waits until the Seeker no longer
// reads the socket. It may be called more than once.
func (s *Seeker) Close() {
	s.cancel()
	<-s.done
}
