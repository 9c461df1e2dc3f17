package localweb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/localweb/localwebtest"
)

// net/http lingers half a second on a connection whose request body it
// would not read (an upload refused as too large) before it closes it;
// the goroutine then ends by itself.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("net/http.(*conn).closeWriteAndWait"))
}

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

var assets = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>gethelp test</title>")},
	"app.js":     {Data: []byte("// app")},
	"style.css":  {Data: []byte("/* style */")},
	"secret.txt": {Data: []byte("not to be served")},
}

// start serves assets with opts and closes the server at cleanup.
func start(t *testing.T, opts localweb.Options) *localweb.Server {
	t.Helper()
	if opts.Assets == nil {
		opts.Assets = assets
	}
	s, err := localweb.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// read returns the next message of c.
func read(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading from the page's WebSocket: %v", err)
	}
	return typ, string(b)
}

// readTexts reads n messages of c and fails unless they are text.
func readTexts(t *testing.T, c *websocket.Conn, n int) []string {
	t.Helper()
	var got []string
	for range n {
		typ, m := read(t, c)
		if typ != websocket.MessageText {
			t.Fatalf("a %v message %q, want text", typ, m)
		}
		got = append(got, m)
	}
	return got
}

// waitClosed fails unless the server closes c.
func waitClosed(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if ctx.Err() != nil {
			t.Fatal("the page is still open")
		}
		if err != nil {
			return
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts localweb.Options
		want error // nil: any error
	}{
		{name: "all interfaces", opts: localweb.Options{Addr: "0.0.0.0:0", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "empty host", opts: localweb.Options{Addr: ":0", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "IPv6 any", opts: localweb.Options{Addr: "[::]:0", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "other address", opts: localweb.Options{Addr: "192.0.2.1:0", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "name", opts: localweb.Options{Addr: "localhost:0", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "nonsense", opts: localweb.Options{Addr: "nonsense", Assets: assets}, want: localweb.ErrNotLoopback},
		{name: "no assets", opts: localweb.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := localweb.New(tc.opts)
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

func TestLoopbackAddresses(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1:0", "127.0.0.2:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			s, err := localweb.New(localweb.Options{Addr: addr, Assets: assets})
			if err != nil {
				if addr == "[::1]:0" {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			defer s.Close()
			resp, err := http.Get(s.URL())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %s", s.URL(), resp.Status)
			}
		})
	}
}

func TestToken(t *testing.T) {
	s, err := localweb.New(localweb.Options{Assets: assets, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("t")
	if u.Hostname() != "127.0.0.1" || len(token) != 32 || u.Path != "/" {
		t.Fatalf("URL %s: want http://127.0.0.1:PORT/?t= and a 128-bit hex token", s.URL())
	}
	if s.Addr().String() != u.Host {
		t.Fatalf("Addr %s, URL %s", s.Addr(), s.URL())
	}
	base := "http://" + u.Host

	// Opening the page with the token sets the cookie.
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(assets["index.html"].Data) {
		t.Fatalf("GET %s: %s %q", s.URL(), resp.Status, body)
	}
	for name, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Value == token {
			cookie = c
		}
	}
	wantName := fmt.Sprintf("gethelp_test_%s", u.Port())
	if cookie == nil || cookie.Name != wantName || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("cookie %+v, want %s, HttpOnly, SameSite=Strict, Path=/", cookie, wantName)
	}

	for _, tc := range []struct {
		name   string
		method string // "" means GET
		path   string
		host   string // Host header; "" keeps the URL's
		cookie *http.Cookie
		want   int
		ctype  string // the Content-Type wanted with 200
	}{
		{name: "page without token", path: "/", want: 403},
		{name: "script without token", path: "/app.js", want: 403},
		{name: "unknown path without token", path: "/nothing", want: 403},
		{name: "websocket without token", path: "/ws", want: 403},
		{name: "empty token", path: "/?t=", want: 403},
		{name: "wrong token", path: "/?t=" + strings.Repeat("0", 32), want: 403},
		{name: "short token", path: "/?t=" + token[:16], want: 403},
		{name: "wrong token with good cookie", path: "/?t=" + strings.Repeat("a", 32), cookie: cookie, want: 403},
		{name: "wrong cookie", path: "/app.js", cookie: &http.Cookie{Name: cookie.Name, Value: strings.Repeat("1", 32)}, want: 403},
		{name: "cookie of another port", path: "/app.js", cookie: &http.Cookie{Name: "gethelp_test_1", Value: token}, want: 403},
		{name: "foreign host name", path: "/?t=" + token, host: "attacker.example", want: 403},
		{name: "foreign host name and port", path: "/?t=" + token, host: "attacker.example:80", want: 403},
		{name: "foreign host name with cookie", path: "/", host: "attacker.example", cookie: cookie, want: 403},
		{name: "token in URL", path: "/style.css?t=" + token, want: 200, ctype: "text/css; charset=utf-8"},
		{name: "cookie", path: "/app.js", cookie: cookie, want: 200, ctype: "text/javascript; charset=utf-8"},
		{name: "localweb's script", path: "/localweb.js", cookie: cookie, want: 200, ctype: "text/javascript; charset=utf-8"},
		{name: "localweb's script without token", path: "/localweb.js", want: 403},
		{name: "POST to localweb's script", method: "POST", path: "/localweb.js", cookie: cookie, want: 405},
		{name: "localhost", path: "/?t=" + token, host: "localhost", want: 200, ctype: "text/html; charset=utf-8"},
		{name: "other loopback", path: "/?t=" + token, host: "127.1.2.3:99", want: 200, ctype: "text/html; charset=utf-8"},
		{name: "HEAD", method: "HEAD", path: "/", cookie: cookie, want: 200, ctype: "text/html; charset=utf-8"},
		{name: "POST", method: "POST", path: "/", cookie: cookie, want: 405},
		{name: "unknown path", path: "/nothing", cookie: cookie, want: 404},
		{name: "other asset", path: "/secret.txt", cookie: cookie, want: 404},
		{name: "index by name", path: "/index.html", cookie: cookie, want: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req, err := http.NewRequest(method, base+tc.path, nil)
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
				t.Fatalf("%s %s: %s, want %d", method, tc.path, resp.Status, tc.want)
			}
			if tc.want == 200 && resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none';") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		want   int // the handshake's status
	}{
		{name: "no token", want: http.StatusForbidden},
		{name: "wrong token", query: "?t=" + strings.Repeat("0", 32), want: http.StatusForbidden},
		{name: "foreign origin", query: "?t=" + token, header: http.Header{"Origin": {"http://attacker.example"}}, want: http.StatusForbidden},
		{name: "own origin", query: "?t=" + token, header: http.Header{"Origin": {base}}, want: http.StatusSwitchingProtocols},
		{name: "cookie", header: http.Header{"Cookie": {cookie.String()}}, want: http.StatusSwitchingProtocols},
	} {
		t.Run("websocket "+tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws://"+u.Host+"/ws"+tc.query, &websocket.DialOptions{HTTPHeader: tc.header})
			if err == nil {
				c.CloseNow()
			}
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("handshake: %v, %+v; want %d", err, resp, tc.want)
			}
		})
	}

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

// TestScript checks that every page gets localweb's own script, whatever
// its assets hold.
func TestScript(t *testing.T) {
	s := start(t, localweb.Options{})
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + u.Host + "/localweb.js?" + u.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "window.localweb = ") {
		t.Fatalf("GET /localweb.js: %s, %d bytes", resp.Status, len(body))
	}
}

// TestAuthorize checks the check that other servers share (bot/webchat).
func TestAuthorize(t *testing.T) {
	const token, cookie = "0123456789abcdef0123456789abcdef", "gethelp_x_1"
	for _, tc := range []struct {
		name       string
		host, path string
		cookie     string // the cookie's value; "" sends none
		token      string // Authorize's token; "" means token
		want       bool
		wantCookie bool // the cookie is set
	}{
		{name: "token in URL", host: "127.0.0.1:8080", path: "/?t=" + token, want: true, wantCookie: true},
		{name: "cookie", host: "127.0.0.1:8080", path: "/", cookie: token, want: true},
		{name: "localhost", host: "localhost", path: "/?t=" + token, want: true, wantCookie: true},
		{name: "IPv6 loopback", host: "[::1]:8080", path: "/", cookie: token, want: true},
		{name: "nothing", host: "127.0.0.1:8080", path: "/"},
		{name: "wrong token", host: "127.0.0.1:8080", path: "/?t=" + strings.Repeat("0", 32)},
		{name: "wrong token with good cookie", host: "127.0.0.1:8080", path: "/?t=" + strings.Repeat("0", 32), cookie: token},
		{name: "wrong cookie", host: "127.0.0.1:8080", path: "/", cookie: strings.Repeat("0", 32)},
		{name: "empty token in URL, good cookie", host: "127.0.0.1:8080", path: "/?t=", cookie: token, want: true},
		{name: "foreign host", host: "attacker.example", path: "/?t=" + token},
		{name: "foreign host with cookie", host: "attacker.example:80", path: "/", cookie: token},
		{name: "no token at all", host: "127.0.0.1:8080", path: "/?t=", cookie: "", token: "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			r.Host = tc.host
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: cookie, Value: tc.cookie})
			}
			want := token
			if tc.token == "-" {
				want = ""
				r.AddCookie(&http.Cookie{Name: cookie, Value: ""})
			}
			w := httptest.NewRecorder()
			if got := localweb.Authorize(w, r, want, cookie); got != tc.want {
				t.Fatalf("Authorize = %v, want %v", got, tc.want)
			}
			set := w.Result().Cookies()
			if !tc.wantCookie {
				if len(set) != 0 {
					t.Fatalf("cookies set: %v", set)
				}
				return
			}
			if len(set) != 1 || set[0].Name != cookie || set[0].Value != token || !set[0].HttpOnly ||
				set[0].SameSite != http.SameSiteStrictMode || set[0].Path != "/" {
				t.Fatalf("cookies set: %+v, want %s, HttpOnly, SameSite=Strict, Path=/", set, cookie)
			}
		})
	}
}

func TestErrorReply(t *testing.T) {
	for _, tc := range []struct {
		command, upload, message, want string
	}{
		{"grant", "", "no helper is connected", `{"type":"error","command":"grant","message":"no helper is connected"}`},
		{"send_file", "00ff", "the file is \"gone\"", `{"type":"error","command":"send_file","message":"the file is \"gone\"","upload":"00ff"}`},
		{"", "", "the page sent something that is not JSON", `{"type":"error","command":"","message":"the page sent something that is not JSON"}`},
	} {
		if got := string(localweb.ErrorReply(tc.command, tc.upload, tc.message)); got != tc.want {
			t.Errorf("ErrorReply(%q, %q, %q) = %s, want %s", tc.command, tc.upload, tc.message, got, tc.want)
		}
	}
}

func TestMessages(t *testing.T) {
	texts := make(chan string, 10)
	var hellos atomic.Int32
	s := start(t, localweb.Options{
		Hello: func() []byte { return fmt.Appendf(nil, "hello %d", hellos.Add(1)) },
		OnText: func(p *localweb.Page, msg []byte) {
			texts <- string(msg)
			p.SendText([]byte("echo " + string(msg)))
		},
		OnPage: func(ctx context.Context, p *localweb.Page) error {
			if err := p.SendBinary(ctx, []byte{1, 2, 3}); err != nil {
				return err
			}
			<-ctx.Done()
			return ctx.Err()
		},
	})
	s.Broadcast([]byte("event 1"))
	s.BroadcastLatest([]byte("stats 1"))
	s.Broadcast([]byte("event 2"))
	s.BroadcastLatest([]byte("stats 2"))

	// A page gets its hello, the backlog and the latest stats, in order,
	// then what OnPage sends.
	c := localwebtest.Dial(t, s.URL())
	want := []string{"hello 1", "event 1", "event 2", "stats 2"}
	if got := readTexts(t, c, len(want)); !slices.Equal(got, want) {
		t.Fatalf("first messages %q, want %q", got, want)
	}
	if typ, m := read(t, c); typ != websocket.MessageBinary || m != "\x01\x02\x03" {
		t.Fatalf("a %v message %q, want OnPage's binary", typ, m)
	}

	// Messages from the page reach OnText; binary ones are ignored.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageBinary, []byte("ignored")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("chat")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-texts:
		if m != "chat" {
			t.Fatalf("OnText got %q", m)
		}
	case <-ctx.Done():
		t.Fatal("OnText was not called")
	}
	if got := readTexts(t, c, 1); got[0] != "echo chat" {
		t.Fatalf("reply %q", got[0])
	}

	// Broadcasts reach open pages; a later page gets them too.
	s.Broadcast([]byte("event 3"))
	s.BroadcastLatest([]byte("stats 3"))
	want = []string{"event 3", "stats 3"}
	if got := readTexts(t, c, len(want)); !slices.Equal(got, want) {
		t.Fatalf("live messages %q, want %q", got, want)
	}
	c2 := localwebtest.Dial(t, s.URL())
	want = []string{"hello 2", "event 1", "event 2", "event 3", "stats 3"}
	if got := readTexts(t, c2, len(want)); !slices.Equal(got, want) {
		t.Fatalf("a later page's first messages %q, want %q", got, want)
	}
}

func TestBacklogBound(t *testing.T) {
	s := start(t, localweb.Options{})
	const n = 5000 + 7
	for i := range n {
		s.Broadcast(fmt.Appendf(nil, "%d", i))
	}
	c := localwebtest.Dial(t, s.URL())
	got := readTexts(t, c, 5000)
	if got[0] != "7" || got[len(got)-1] != fmt.Sprint(n-1) {
		t.Fatalf("backlog from %s to %s, want the latest 5000", got[0], got[len(got)-1])
	}
}

func TestSlowPageDropped(t *testing.T) {
	s := start(t, localweb.Options{})
	c := localwebtest.Dial(t, s.URL())
	c.SetReadLimit(2 << 20)
	// The page reads nothing: a few big messages fill the connection,
	// and the queue behind them overflows.
	big := bytes.Repeat([]byte("x"), 1<<20)
	for range 300 {
		s.Broadcast(big)
	}
	waitClosed(t, c)
}

func TestOnPageEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{name: "nil"},
		{name: "error", err: errors.New("no more")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, localweb.Options{
				OnPage: func(ctx context.Context, p *localweb.Page) error { return tc.err },
			})
			waitClosed(t, localwebtest.Dial(t, s.URL()))
		})
	}
}

func TestCloseEndsPages(t *testing.T) {
	started := make(chan struct{})
	var ended atomic.Bool
	s, err := localweb.New(localweb.Options{
		Assets: assets,
		OnPage: func(ctx context.Context, p *localweb.Page) error {
			close(started)
			<-ctx.Done()
			ended.Store(true)
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := localwebtest.Dial(t, s.URL())
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !ended.Load() {
		t.Fatal("Close returned before OnPage")
	}
	waitClosed(t, c)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s.Broadcast([]byte("after Close")) // must not block or panic
}
