package agentlink_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newCert(t testing.TB) tls.Certificate {
	t.Helper()
	c, err := agentlink.NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type bot struct {
	srv  *agentlink.Server
	cert tls.Certificate
}

func startBot(t *testing.T) *bot {
	t.Helper()
	cert := newCert(t)
	srv, err := agentlink.Listen(agentlink.ServerConfig{Addr: "127.0.0.1:0", Certificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &bot{srv: srv, cert: cert}
}

func (b *bot) clientConfig(t testing.TB, name string) agentlink.ClientConfig {
	return agentlink.ClientConfig{
		Addr:        b.srv.Addr().String(),
		BotPin:      agentlink.Pin(b.cert),
		Certificate: newCert(t),
		Name:        name,
	}
}

// pair dials the bot and accepts the connection on its side.
func (b *bot) pair(t *testing.T, name string) (agent, server *agentlink.Conn) {
	t.Helper()
	ctx := testCtx(t)
	a, err := agentlink.Dial(ctx, b.clientConfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close("test over") })
	s, err := b.srv.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close("test over") })
	return a, s
}

func receive(t *testing.T, c *agentlink.Conn) agentlink.Message {
	t.Helper()
	m, err := c.Receive(testCtx(t))
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}
