package webchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/webchat"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// harness is a Server with the fake core running, and an HTTP client for
// its API.
type harness struct {
	t      *testing.T
	s      *webchat.Server
	core   *bottest.Core
	base   string // http://127.0.0.1:PORT
	token  string
	client *http.Client
}

// start starts a Server with opts and runs the fake core on it until the
// test ends. opts.Now, if nil, is a fixed clock.
func start(t *testing.T, opts webchat.Options) *harness {
	t.Helper()
	return startWith(t, opts, new(bottest.Core))
}

func startWith(t *testing.T, opts webchat.Options, core *bottest.Core) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC) }
	}
	s, err := webchat.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t: t, s: s, core: core,
		base:   "http://" + u.Host,
		token:  u.Query().Get("t"),
		client: &http.Client{Transport: &http.Transport{}, Timeout: waitTimeout},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, core) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		h.client.CloseIdleConnections()
	})
	return h
}

// do sends a request with the token and returns the status and the body.
// body, if not nil, is sent as JSON; a string is sent as it is.
func (h *harness) do(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(method, h.base+path+sep+"t="+h.token, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// call does a request that must succeed and decodes its answer into out.
func (h *harness) call(method, path string, body, out any) {
	h.t.Helper()
	code, b := h.do(method, path, body)
	if code != http.StatusOK {
		h.t.Fatalf("%s %s %v: %d %s", method, path, body, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func (h *harness) command(user, channel, thread, text string) string {
	h.t.Helper()
	var r struct{ Reply string }
	h.call("POST", "/api/command", webchat.Typed{User: user, Channel: channel, Thread: thread, Text: text}, &r)
	return r.Reply
}

func (h *harness) post(user, channel, thread, text string) string {
	h.t.Helper()
	var r struct{ ID string }
	h.call("POST", "/api/post", webchat.Typed{User: user, Channel: channel, Thread: thread, Text: text}, &r)
	return r.ID
}

func (h *harness) messages(user, channel, thread string) []webchat.Message {
	h.t.Helper()
	var msgs []webchat.Message
	h.call("GET", "/api/messages?"+url.Values{"user": {user}, "channel": {channel}, "thread": {thread}}.Encode(), nil, &msgs)
	return msgs
}

// send sends m to the place as the core would.
func (h *harness) send(to bot.Place, m bot.Message) string {
	h.t.Helper()
	ref, err := h.s.Send(context.Background(), to, m)
	if err != nil {
		h.t.Fatalf("Send(%+v, %q): %v", to, m.Text, err)
	}
	return string(ref)
}

// texts returns the texts of msgs.
func texts(msgs []webchat.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

var (
	alice = bot.Identity{Network: "webchat", Workspace: "demo", UserID: "alice", DisplayName: "Alice", Email: "alice@example.com"}
	bob   = bot.Identity{Network: "webchat", Workspace: "demo", UserID: "bob", DisplayName: "Bob", Email: "bob@example.com"}
)
