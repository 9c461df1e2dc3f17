package agentlink

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// ClientConfig configures Dial and Keep: the agent's side.
type ClientConfig struct {
	// Addr is the bot's UDP address, host:port.
	Addr string
	// BotPin is the SHA-256 of the bot's SubjectPublicKeyInfo (Pin of
	// its certificate). The zero value is refused: the agent talks only to
	// the bot it was told to trust.
	BotPin [32]byte
	// Certificate is the agent's own key and certificate
	// (LoadOrCreateKey); the bot knows the agent by it.
	Certificate tls.Certificate
	// Name is the computer's name as the person calls it, sent in hello.
	Name string
	// Role is RoleOneShot for a connection that does one thing and leaves
	// (gethelp host invite --email) beside the agent's own; "" for the
	// agent.
	Role string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Errors returned by Dial.
var (
	// ErrPinMismatch: a server answered, but its key is not the pinned
	// bot key. Nothing was sent to it.
	ErrPinMismatch = errors.New("agentlink: the server's key does not match the bot's pin")
	// ErrNoPin: ClientConfig.BotPin is not set.
	ErrNoPin = errors.New("agentlink: no pin for the bot's key is configured")
)

// Dial connects to the bot, checks its key against cfg.BotPin inside the
// TLS handshake, opens the link's stream and sends hello (cfg.Name,
// Version). It returns once the hello is on its way; the bot's welcome is
// the first message Receive returns.
//
// Errors: ErrNoPin, ErrPinMismatch (a server with another key answered;
// nothing was sent to it), an error for a certificate without an Ed25519
// key, a dial or handshake error, or ctx's error.
func Dial(ctx context.Context, cfg ClientConfig) (*Conn, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BotPin == ([32]byte{}) {
		return nil, ErrNoPin
	}
	if len(cfg.Certificate.Certificate) == 0 {
		return nil, errors.New("agentlink: the agent needs its certificate and key")
	}
	if _, ok := cfg.Certificate.PrivateKey.(ed25519.PrivateKey); !ok {
		return nil, fmt.Errorf("agentlink: the agent's key is a %T, not Ed25519", cfg.Certificate.PrivateKey)
	}
	var (
		mu       sync.Mutex
		mismatch bool
	)
	pin := cfg.BotPin
	tlsConf := &tls.Config{
		ServerName:   "gethelp-bot",
		NextProtos:   []string{ALPN},
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cfg.Certificate},
		// No CA system: the bot's key is pinned instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("agentlink: the server sent no certificate")
			}
			got := pinOf(cs.PeerCertificates[0])
			if subtle.ConstantTimeCompare(got[:], pin[:]) != 1 {
				mu.Lock()
				mismatch = true
				mu.Unlock()
				return ErrPinMismatch
			}
			return nil
		},
	}
	qc, err := quic.DialAddr(ctx, cfg.Addr, tlsConf, quicConfig(false))
	mu.Lock()
	bad := mismatch
	mu.Unlock()
	if bad {
		if qc != nil {
			_ = qc.CloseWithError(codeBye, "")
		}
		return nil, fmt.Errorf("%w (at %s)", ErrPinMismatch, cfg.Addr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("agentlink: connecting to the bot at %s: %w", cfg.Addr, err)
	}
	st, err := qc.OpenStreamSync(ctx)
	if err != nil {
		_ = qc.CloseWithError(codeBye, "")
		return nil, fmt.Errorf("agentlink: opening the link's stream: %w", err)
	}
	hello := Message{Type: TypeHello, Name: cfg.Name, Version: Version, Role: cfg.Role, Time: time.Now().UTC()}
	_ = st.SetWriteDeadline(time.Now().Add(sendTimeout))
	if err := WriteMessage(st, hello); err != nil {
		_ = qc.CloseWithError(codeBye, "")
		return nil, fmt.Errorf("agentlink: sending hello: %w", err)
	}
	_ = st.SetWriteDeadline(time.Time{})
	logger = logger.With("component", "agentlink", "bot", cfg.Addr)
	c := newConn(qc, st, AgentKey(cfg.Certificate), hello, logger, nil)
	go c.readLoop()
	return c, nil
}
