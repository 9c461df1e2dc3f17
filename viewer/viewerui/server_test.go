package viewerui_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/viewer/viewerui"
)

func TestNewRefusesOtherInterfaces(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "localhost:0", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			s, err := viewerui.New(nil, viewerui.Options{Addr: addr})
			if err == nil {
				s.Close()
				t.Fatalf("New(%q) succeeded", addr)
			}
			if !errors.Is(err, viewerui.ErrNotLoopback) {
				t.Fatalf("New(%q) = %v, want ErrNotLoopback", addr, err)
			}
		})
	}
}

func TestToken(t *testing.T) {
	// No page connects, so no viewer is needed.
	s, err := viewerui.New(nil, viewerui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("URL %s is not on 127.0.0.1", s.URL())
	}
	token := u.Query().Get("t")
	if len(token) != 32 {
		t.Fatalf("token %q is not 128 bits of hex", token)
	}
	base := "http://" + u.Host

	// Opening the page with the token sets the cookie.
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "gethelp") {
		t.Fatalf("GET %s: %s", s.URL(), resp.Status)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
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
		host   string // Host header; "" keeps the URL's
		cookie *http.Cookie
		want   int
	}{
		{name: "page without token", path: "/", want: 403},
		{name: "script without token", path: "/app.js", want: 403},
		{name: "unknown path without token", path: "/nothing", want: 403},
		{name: "websocket without token", path: "/ws", want: 403},
		{name: "wrong token", path: "/?t=" + strings.Repeat("0", 32), want: 403},
		{name: "short token", path: "/?t=" + token[:16], want: 403},
		{name: "wrong cookie", path: "/app.js", cookie: &http.Cookie{Name: cookie.Name, Value: strings.Repeat("1", 32)}, want: 403},
		{name: "foreign host name", path: "/?t=" + token, host: "attacker.example:80", want: 403},
		{name: "token in URL", path: "/style.css?t=" + token, want: 200},
		{name: "cookie", path: "/app.js", cookie: cookie, want: 200},
		{name: "localhost", path: "/?t=" + token, host: "localhost", want: 200},
		{name: "unknown path", path: "/nothing", cookie: cookie, want: 404},
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

	t.Run("websocket handshake without token", func(t *testing.T) {
		c, resp, err := websocket.Dial(context.Background(), "ws://"+u.Host+"/ws", nil)
		if err == nil {
			c.CloseNow()
			t.Fatal("the WebSocket opened without the token")
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("handshake: %v, %+v", err, resp)
		}
	})

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL()); err == nil {
		t.Fatal("the server still answers after Close")
	}
}
