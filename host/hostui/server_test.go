package hostui_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
)

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
		{name: "empty host", opts: hostui.Options{Addr: ":0"}, want: hostui.ErrNotLoopback},
		{name: "IPv6 any", opts: hostui.Options{Addr: "[::]:0"}, want: hostui.ErrNotLoopback},
		{name: "other address", opts: hostui.Options{Addr: "192.0.2.1:0"}, want: hostui.ErrNotLoopback},
		{name: "name", opts: hostui.Options{Addr: "localhost:0"}, want: hostui.ErrNotLoopback},
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

func TestToken(t *testing.T) {
	h := newHost(t)
	s, err := hostui.New(h, hostui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("t")
	if u.Hostname() != "127.0.0.1" || len(token) != 32 {
		t.Fatalf("URL %s: want 127.0.0.1 and a 128-bit hex token", s.URL())
	}
	base := "http://" + u.Host

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
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value == token {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}

	for _, tc := range []struct {
		name   string
		path   string
		host   string
		cookie *http.Cookie
		want   int
	}{
		{name: "page without token", path: "/", want: 403},
		{name: "script without token", path: "/app.js", want: 403},
		{name: "websocket without token", path: "/ws", want: 403},
		{name: "wrong token", path: "/?t=" + strings.Repeat("a", 32), want: 403},
		{name: "wrong cookie", path: "/", cookie: &http.Cookie{Name: cookie.Name, Value: "x"}, want: 403},
		{name: "foreign host name", path: "/?t=" + token, host: "attacker.example", want: 403},
		{name: "token in URL", path: "/app.js?t=" + token, want: 200},
		{name: "cookie", path: "/style.css", cookie: cookie, want: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.cookie != nil {
				req.AddCookie(tc.cookie)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s: %s, want %d", tc.path, resp.Status, tc.want)
			}
		})
	}

	t.Run("websocket", func(t *testing.T) {
		c, resp, err := websocket.Dial(context.Background(), "ws://"+u.Host+"/ws", nil)
		if err == nil {
			c.CloseNow()
			t.Fatal("the WebSocket opened without the token")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("handshake without token: %v", err)
		}
		// With the token, the first message is the hello with the password.
		c, _, err = websocket.Dial(context.Background(), "ws://"+u.Host+"/ws?t="+token, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg), `"type":"hello"`) || !strings.Contains(string(msg), h.Password()) {
			t.Fatalf("first message %s", msg)
		}
	})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
