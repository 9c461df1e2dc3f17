package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

func httpMode(o *slack.Options) {
	o.Mode, o.SigningSecret, o.AppToken = slack.ModeHTTP, slackfake.SigningSecret, ""
}

// waitRunning waits until Run has started (it calls auth.test first).
func waitRunning(t *testing.T, fake *slackfake.Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for fake.CallCount("auth.test") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
}

// TestHTTP: the Events API over HTTP, signed by the fake: a command, a
// button, thread messages (the bot's own ignored), a retried event.
func TestHTTP(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	a := newAdapter(t, fake, httpMode)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	fake.SetRequestURL(srv.URL + "/slack")
	run(t, a, h)
	waitRunning(t, fake)

	if reply := fake.SlashCommand("alice", "general", "@bob my screen"); reply != "ok: <@U0BOB|bob> my screen" {
		t.Errorf("reply %q", reply)
	}
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK"}, bot.Message{Text: "Alice asked for help", Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "t1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if reply := fake.Press("bob", string(root), "take", "t1"); reply != "pressed take t1" {
		t.Errorf("reply %q", reply)
	}
	if _, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK", Thread: string(root)}, bot.Message{Text: "the bot's own"}); err != nil {
		t.Fatal(err)
	}
	ts := fake.Message("alice", "helpdesk", string(root), "thanks")
	if !fake.RetryLastEvent() {
		t.Error("retry refused")
	}
	if !fake.Settle(5 * time.Second) {
		t.Fatal("not settled")
	}
	posts := h.WaitPosts(t, 2)
	time.Sleep(50 * time.Millisecond)
	cmds, presses, posts := h.Commands(), h.Presses(), h.Posts()
	if len(cmds) != 1 || cmds[0].From != alice || len(presses) != 1 || presses[0].From != bob {
		t.Errorf("commands %+v presses %+v", cmds, presses)
	}
	if len(posts) != 2 || posts[0].ID != bot.MessageRef(ts) || posts[1].ID != posts[0].ID || posts[0].At.Thread != string(root) || posts[0].Text != "thanks" {
		t.Errorf("posts %+v", posts)
	}
}

// signed returns a request signed at ts with the fake's secret.
func signed(t *testing.T, path, contentType string, ts time.Time, body string) *http.Request {
	t.Helper()
	req, err := slackfake.SignedRequest("http://bot.example"+path, contentType, slackfake.SigningSecret, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestHTTPSignature: requests without Slack's valid signature, or with a
// timestamp more than five minutes off, get 401 and reach nobody.
func TestHTTPSignature(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	now := time.Unix(1_800_000_000, 0)
	a := newAdapter(t, fake, httpMode, func(o *slack.Options) { o.Now = func() time.Time { return now } })
	h := new(bottest.Core)
	run(t, a, h)
	waitRunning(t, fake)
	handler := a.Handler()

	event := `{"type":"event_callback","team_id":"T0GETHELP","event_id":"Ev1","event":{"type":"message","channel":"D0ALICE","channel_type":"im","user":"U0ALICE","text":"hi","ts":"1800000000.000100"}}`
	const js = "application/json"
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		body   string // a part of the answer's body
	}{
		{"good", func() *http.Request { return signed(t, "/slack/events", js, now, event) }, 200, ""},
		{"four minutes old", func() *http.Request { return signed(t, "/slack/events", js, now.Add(-4*time.Minute), event) }, 200, ""},
		{"six minutes old", func() *http.Request { return signed(t, "/slack/events", js, now.Add(-6*time.Minute), event) }, 401, ""},
		{"six minutes ahead", func() *http.Request { return signed(t, "/slack/events", js, now.Add(6*time.Minute), event) }, 401, ""},
		{"bad signature", func() *http.Request {
			r := signed(t, "/slack/events", js, now, event)
			r.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0", 64))
			return r
		}, 401, ""},
		{"another body", func() *http.Request {
			r := signed(t, "/slack/events", js, now, event)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(event, "hi", "ho", 1)))
			return r
		}, 401, ""},
		{"another timestamp", func() *http.Request {
			r := signed(t, "/slack/events", js, now, event)
			r.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()+1))
			return r
		}, 401, ""},
		{"no signature", func() *http.Request {
			r := signed(t, "/slack/events", js, now, event)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401, ""},
		{"no timestamp", func() *http.Request {
			r := signed(t, "/slack/events", js, now, event)
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, 401, ""},
		{"signed with another secret", func() *http.Request {
			r, _ := slackfake.SignedRequest("http://bot.example/slack/commands", "application/x-www-form-urlencoded", "not-the-secret", now, []byte("team_id=T0GETHELP&channel_id=C0GENERAL&user_id=U0ALICE&text=x"))
			return r
		}, 401, ""},
		{"url_verification", func() *http.Request {
			return signed(t, "/slack/events", js, now, `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
		}, 200, `"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"`},
		{"url_verification unsigned", func() *http.Request {
			r := signed(t, "/slack/events", js, now, `{"challenge":"c","type":"url_verification"}`)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401, ""},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/slack/events", nil) }, 405, ""},
		{"too large", func() *http.Request {
			return signed(t, "/slack/events", js, now, `{"type":"event_callback","x":"`+strings.Repeat("a", 2<<20)+`"}`)
		}, 413, ""},
		{"another path", func() *http.Request { return signed(t, "/slack/other", js, now, event) }, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, tt.req())
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("status %d %q, want %d with %q", rec.Code, rec.Body, tt.status, tt.body)
			}
		})
	}
	// The two good events (the same retried, as Slack would) reached the
	// core, nothing else did.
	posts := h.WaitPosts(t, 2)
	time.Sleep(50 * time.Millisecond)
	posts = h.Posts()
	if len(posts) != 2 || posts[0].From != alice || posts[0].Text != "hi" {
		t.Errorf("posts %+v", posts)
	}
}

// TestHTTPJunk: signed payloads that cannot be parsed get 200 (so that
// Slack does not send them again) and reach nobody.
func TestHTTPJunk(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	a := newAdapter(t, fake, httpMode)
	h := new(bottest.Core)
	run(t, a, h)
	waitRunning(t, fake)
	handler := a.Handler()
	form := "application/x-www-form-urlencoded"
	for _, tt := range []struct{ path, ct, body string }{
		{"/slack/events", "application/json", "not json"},
		{"/slack/events", "application/json", `{"type":"event_callback","event":[]}`},
		{"/slack/events", "application/json", `{"type":"event_callback","event":{"type":"message","ts":5}}`},
		{"/slack/events", "application/json", `{"type":"something_new"}`},
		{"/slack/events", "application/json", `{"type":"app_rate_limited","minute_rate_limited":1518467820}`},
		{"/slack/events", "application/json", `{"type":"event_callback","event":{"type":"app_mention","user":"U0ALICE"}}`},
		{"/slack/commands", form, "%zz"},
		{"/slack/commands", form, "text=no+user"},
		{"/slack/interactive", form, "payload=not+json"},
		{"/slack/interactive", form, "payload=" + url.QueryEscape(`{"type":"block_actions","user":{"id":"U0ALICE"},"actions":[]}`)},
		{"/slack/interactive", form, "payload=" + url.QueryEscape(`{"type":"view_submission","user":{"id":"U0ALICE"}}`)},
		{"/slack/interactive", form, ""},
	} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, signed(t, tt.path, tt.ct, time.Now(), tt.body))
		if rec.Code != http.StatusOK {
			t.Errorf("%s %q: status %d", tt.path, tt.body, rec.Code)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if calls := h.Calls(); len(calls) != 0 {
		t.Errorf("handled %+v", calls)
	}
}

// TestHTTPNotRunning: while no Run receives, events get 503 (Slack
// retries them), but url_verification is answered.
func TestHTTPNotRunning(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	a := newAdapter(t, fake, httpMode)
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, signed(t, "/slack/commands", "application/x-www-form-urlencoded", time.Now(), "team_id=T0GETHELP&channel_id=C0GENERAL&user_id=U0ALICE&text=x"))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, signed(t, "/slack/events", "application/json", time.Now(), `{"type":"url_verification","challenge":"c"}`))
	var got struct{ Challenge string }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Challenge != "c" {
		t.Errorf("url_verification: %d %q", rec.Code, rec.Body)
	}
}

// TestHTTPListen: with HTTPAddr, Run serves the Events API itself.
func TestHTTPListen(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fake := slackfake.New(t)
	a := newAdapter(t, fake, httpMode, func(o *slack.Options) { o.HTTPAddr = addr })
	run(t, a, new(bottest.Core))
	body := []byte(`{"type":"url_verification","challenge":"hello"}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := slackfake.SignedRequest("http://"+addr+"/slack/events", "application/json", slackfake.SigningSecret, time.Now(), body)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Contains(b, []byte(`"hello"`)) {
				t.Errorf("answer %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	http.DefaultClient.CloseIdleConnections()
}
