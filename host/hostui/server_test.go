package hostui_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/localweb/localwebtest"
)

// The token, the cookie, the 403s and Close are localweb's, and tested
// there; these tests are about what the person's window adds.

// newHost returns a host that is not run: enough to serve its window.
func newHost(t *testing.T) *host.Host {
	t.Helper()
	h, err := host.New(host.Config{ListenAddr: "127.0.0.1:0", TTL: time.Hour, HostName: "Alice", Monitor: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestNewRefuses(t *testing.T) {
	h := newHost(t)
	for _, tc := range []struct {
		name string
		opts hostui.Options
		want error // nil: any error
	}{
		{name: "all interfaces", opts: hostui.Options{Addr: "0.0.0.0:0"}, want: hostui.ErrNotLoopback},
		{name: "unknown level", opts: hostui.Options{Level: "huge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := hostui.New(h, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPassword checks that the password is in the WebSocket's first
// message and not in the HTML.
func TestPassword(t *testing.T) {
	h := newHost(t)
	s, err := hostui.New(h, hostui.Options{Level: "high"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "gethelp") {
		t.Fatalf("GET %s: %s", s.URL(), resp.Status)
	}
	if strings.Contains(string(body), h.Password()) {
		t.Fatal("the password is in the HTML; it belongs in the WebSocket only")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := localwebtest.Dial(t, s.URL())
	_, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type":"hello"`, `"side":"person"`, `"host_name":"Alice"`, `"level":"high"`, h.Password()} {
		if !strings.Contains(string(msg), want) {
			t.Fatalf("first message %s: no %s", msg, want)
		}
	}

	// A command the page cannot have sent is answered with an error.
	if err := c.Write(ctx, websocket.MessageText, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err = c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `"type":"error"`) {
		t.Fatalf("reply to a bad command: %s", msg)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestControlCommandErrors checks the person's words for control commands
// that cannot be carried out (no helper, nothing named, no injector).
func TestControlCommandErrors(t *testing.T) {
	h := newHost(t) // not run: nobody connects
	s, err := hostui.New(h, hostui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := localwebtest.Dial(t, s.URL())
	if _, _, err := c.Read(ctx); err != nil { // hello
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cmd, want string
	}{
		{"grant nothing", `{"type":"grant"}`, `"message":"nothing to allow was named"`},
		{"grant without an injector", `{"type":"grant","capabilities":["control"]}`, `"message":"this computer cannot be controlled remotely`},
		{"grant an unknown capability", `{"type":"grant","capabilities":["root"]}`, `"message":"unknown capability \"root\"`},
		{"deny without a helper", `{"type":"deny"}`, `"message":"no helper is connected"`},
		{"revoke without a helper", `{"type":"revoke"}`, `"message":"no helper is connected"`},
		{"accept an unknown file", `{"type":"accept_file","id":"00"}`, `"message":"that file is no longer waiting for an answer"`},
		{"decline an unknown file", `{"type":"decline_file","id":"00"}`, `"message":"that file is no longer waiting for an answer"`},
		{"send an unknown upload", `{"type":"send_file","upload":"00"}`, `"message":"the file is no longer here: choose it again"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.Write(ctx, websocket.MessageText, []byte(tc.cmd)); err != nil {
				t.Fatal(err)
			}
			_, msg, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(msg), `"type":"error"`) || !strings.Contains(string(msg), tc.want) {
				t.Fatalf("reply %s, want %s", msg, tc.want)
			}
		})
	}
}
