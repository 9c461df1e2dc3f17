package webchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/webchat"
)

func TestCommand(t *testing.T) {
	h := start(t, webchat.Options{})
	root := h.send(bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Ticket 7: printer"})

	tests := []struct {
		name                  string
		user, channel, thread string
		text                  string
		wantAt                bot.Place
		wantArgs              string
		from                  bot.Identity
	}{
		{"in a channel", "alice", "general", "", "/gethelp @bob printer broken",
			bot.Place{Workspace: "demo", Channel: "general"}, "@bob printer broken", alice},
		{"by name, any case", "BOB", "general", "", "/gethelp",
			bot.Place{Workspace: "demo", Channel: "general"}, "", bob},
		{"in a thread", "alice", "helpdesk", root, "/gethelp status",
			bot.Place{Workspace: "demo", Channel: "helpdesk", Thread: root}, "status", alice},
		{"to the bot", "alice", "", "", "  /gethelp   link 123-456 ",
			bot.Place{Workspace: "demo", User: "alice"}, "link 123-456", alice},
		{"args on a second line", "alice", "general", "", "/gethelp\nmy screen is black",
			bot.Place{Workspace: "demo", Channel: "general"}, "my screen is black", alice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := h.command(tt.user, tt.channel, tt.thread, tt.text)
			if reply != "ok: "+tt.wantArgs {
				t.Errorf("reply %q", reply)
			}
			c := bottest.Wait(t, h.core, "the command", func(c bot.Command) bool { return c.Text == tt.wantArgs && c.At == tt.wantAt })
			if c.From != tt.from {
				t.Errorf("from %+v, want %+v", c.From, tt.from)
			}
			if c.ID == "" {
				t.Error("the command has no ID")
			}

			// The reply is there for the user alone, with the command.
			who := tt.from.UserID
			msgs := h.messages(who, tt.channel, tt.thread)
			last := msgs[len(msgs)-1]
			if last.Text != reply || last.Author != "bot" || last.VisibleTo != who || last.Command != strings.TrimSpace(tt.text) {
				t.Errorf("the last message %s sees is %+v", who, last)
			}
			if tt.thread != "" && last.Thread != tt.thread {
				t.Errorf("the reply is not in the thread: %+v", last)
			}
			if tt.channel != "" {
				other := "bob"
				if who == "bob" {
					other = "alice"
				}
				for _, m := range h.messages(other, tt.channel, tt.thread) {
					if m.ID == last.ID {
						t.Errorf("%s sees the reply to %s", other, who)
					}
				}
			}
		})
	}

	// An empty reply posts nothing.
	h.core.OnCommand(func(bot.Command) bot.Reply { return bot.Reply{} })
	before := len(h.messages("alice", "general", ""))
	if r := h.command("alice", "general", "", "/gethelp quiet"); r != "" {
		t.Errorf("reply %q", r)
	}
	if n := len(h.messages("alice", "general", "")); n != before {
		t.Errorf("an empty reply posted %d messages", n-before)
	}
}

func TestPost(t *testing.T) {
	h := start(t, webchat.Options{})
	root := h.send(bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Ticket 7: Alice needs help with: printer"})

	tests := []struct {
		name                  string
		user, channel, thread string
		wantAt                bot.Place
	}{
		{"in a thread", "alice", "helpdesk", root, bot.Place{Workspace: "demo", Channel: "helpdesk", Thread: root}},
		{"in a channel", "bob", "general", "", bot.Place{Workspace: "demo", Channel: "general"}},
		{"to the bot", "bob", "", "", bot.Place{Workspace: "demo", User: "bob"}},
		{"channel with #", "alice", "#general", "", bot.Place{Workspace: "demo", Channel: "general"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "hello from " + tt.name
			id := h.post(tt.user, tt.channel, tt.thread, text)
			p := bottest.Wait(t, h.core, "the post", func(p bot.Post) bool { return p.Text == text })
			if p.At != tt.wantAt || string(p.ID) != id || p.From.UserID != tt.user {
				t.Errorf("Post %+v, want at %+v, id %s", p, tt.wantAt, id)
			}
			// Everyone there sees it.
			for _, u := range []string{"alice", "bob"} {
				if tt.channel == "" && u != tt.user {
					continue
				}
				if !slices.Contains(texts(h.messages(u, tt.channel, tt.thread)), text) {
					t.Errorf("%s does not see %q", u, text)
				}
			}
		})
	}

	// The thread's root counts its reply, and the channel does not show it.
	msgs := h.messages("bob", "helpdesk", "")
	if len(msgs) != 1 || msgs[0].ID != root || msgs[0].Replies != 1 {
		t.Errorf("#helpdesk for bob: %+v", msgs)
	}
	thread := h.messages("bob", "helpdesk", root)
	if got := texts(thread); !slices.Equal(got, []string{"Ticket 7: Alice needs help with: printer", "hello from in a thread"}) {
		t.Errorf("the thread: %q", got)
	}
}

func TestPress(t *testing.T) {
	h := start(t, webchat.Options{})
	buttons := []bot.Button{
		{Label: "Take it", Action: "take", Value: "T7", Style: "primary"},
		{Label: "Not me", Action: "decline", Value: "T7"},
	}
	dm := h.send(bot.Place{User: "bob"}, bot.Message{Text: "Alice asks for help", Buttons: buttons})
	inChannel := h.send(bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Ticket 7", Buttons: buttons[:1]})

	var r struct{ Reply string }
	h.call("POST", "/api/press", webchat.Pressed{User: "bob", Message: dm, Action: "take", Value: "T7"}, &r)
	if r.Reply != "pressed take T7" {
		t.Errorf("reply %q", r.Reply)
	}
	p := bottest.Wait(t, h.core, "the press", func(p bot.Press) bool { return p.Action == "take" })
	if p.From != bob || p.At != (bot.Place{Workspace: "demo", User: "bob"}) || p.Value != "T7" || p.ID == "" {
		t.Errorf("Press %+v", p)
	}
	msgs := h.messages("bob", "", "")
	if last := msgs[len(msgs)-1]; last.Text != r.Reply || last.VisibleTo != "bob" {
		t.Errorf("the reply in the DM: %+v", last)
	}
	if got := msgs[0].Buttons; len(got) != 2 || got[0] != (webchat.Button{Label: "Take it", Action: "take", Value: "T7", Style: "primary"}) {
		t.Errorf("buttons %+v", got)
	}

	// In a channel: the reply is ephemeral there, for the one who pressed.
	h.call("POST", "/api/press", webchat.Pressed{User: "alice", Message: inChannel, Action: "take", Value: "T7"}, &r)
	p = bottest.Wait(t, h.core, "the press in the channel", func(p bot.Press) bool { return p.From.UserID == "alice" })
	if p.At != (bot.Place{Workspace: "demo", Channel: "helpdesk"}) {
		t.Errorf("At %+v", p.At)
	}
	for _, m := range h.messages("bob", "helpdesk", "") {
		if m.VisibleTo != "" {
			t.Errorf("bob sees alice's reply: %+v", m)
		}
	}
	if n := len(h.messages("alice", "helpdesk", "")); n != 2 {
		t.Errorf("alice sees %d messages in #helpdesk, want the ticket and her reply", n)
	}

	// Buttons that are not there, or not for this user.
	for _, p := range []webchat.Pressed{
		{User: "alice", Message: dm, Action: "take", Value: "T7"},    // bob's DM
		{User: "bob", Message: dm, Action: "take", Value: "T8"},      // no such value
		{User: "bob", Message: dm, Action: "cancel", Value: "T7"},    // no such action
		{User: "bob", Message: "m999999", Action: "take", Value: ""}, // no such message
	} {
		if code, b := h.do("POST", "/api/press", p); code != http.StatusNotFound || !strings.Contains(string(b), `"error"`) {
			t.Errorf("press %+v: %d %s", p, code, b)
		}
	}
}

func TestBadRequests(t *testing.T) {
	h := start(t, webchat.Options{})
	reply := h.send(bot.Place{Channel: "general"}, bot.Message{Text: "root"})
	reply = h.send(bot.Place{Channel: "general", Thread: reply}, bot.Message{Text: "a reply"})
	eph := h.send(bot.Place{Channel: "general", User: "alice"}, bot.Message{Text: "psst", Ephemeral: true})

	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		code        int
		errContains string
	}{
		{"unknown user", "POST", "/api/command", webchat.Typed{User: "mallory", Channel: "general", Text: "/gethelp"}, 404, `no such user \"mallory\"`},
		{"unknown channel", "POST", "/api/command", webchat.Typed{User: "alice", Channel: "random", Text: "/gethelp"}, 404, "no channel #random"},
		{"unknown thread", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "general", Thread: "m424242", Text: "hi"}, 404, "no message m424242"},
		{"thread in another channel", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "helpdesk", Thread: reply, Text: "hi"}, 404, "no message"},
		{"reply to a reply", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "general", Thread: reply, Text: "hi"}, 400, "is a reply"},
		{"reply to an ephemeral", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "general", Thread: eph, Text: "hi"}, 400, "ephemeral"},
		{"another command", "POST", "/api/command", webchat.Typed{User: "alice", Channel: "general", Text: "/giphy cats"}, 400, "/giphy is not a command here"},
		{"not a command", "POST", "/api/command", webchat.Typed{User: "alice", Channel: "general", Text: "gethelp me"}, 400, "starts with /gethelp"},
		{"a longer command", "POST", "/api/command", webchat.Typed{User: "alice", Channel: "general", Text: "/gethelpme"}, 400, "not a command"},
		{"empty post", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "general", Text: "  \n"}, 400, "empty"},
		{"long post", "POST", "/api/post", webchat.Typed{User: "alice", Channel: "general", Text: strings.Repeat("x", webchat.MaxText+1)}, 400, "over"},
		{"junk JSON", "POST", "/api/post", `{"user": "alice",`, 400, "bad JSON"},
		{"not JSON", "POST", "/api/command", `user=alice&text=/gethelp`, 400, "bad JSON"},
		{"unknown field", "POST", "/api/post", `{"user":"alice","channel":"general","txt":"hi"}`, 400, "unknown field"},
		{"two values", "POST", "/api/post", `{"user":"alice","channel":"general","text":"hi"} {}`, 400, "more than one"},
		{"wrong type", "POST", "/api/press", `{"user":"alice","message":7}`, 400, "bad JSON"},
		{"too large", "POST", "/api/post", `{"user":"alice","text":"` + strings.Repeat("x", 300<<10) + `"}`, 413, "over"},
		{"wrong method", "GET", "/api/command", nil, 405, "use POST"},
		{"no such endpoint", "GET", "/api/nothing", nil, 404, "no such page"},
		{"messages without a user", "GET", "/api/messages?channel=general", nil, 400, "?user="},
		{"messages of nobody", "GET", "/api/messages?user=mallory&channel=general", nil, 404, "no such user"},
		{"no file", "GET", "/api/file?message=" + reply, nil, 404, "no file"},
		{"no mail", "GET", "/api/mail/file?mail=nope&n=0", nil, 404, "no attachment"},
		{"no mail HTML", "GET", "/api/mail/html?mail=nope", nil, 404, "no HTML mail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := h.do(tt.method, tt.path, tt.body)
			var e struct{ Error string }
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("%d, not JSON: %s", code, b)
			}
			if code != tt.code || !strings.Contains(e.Error, strings.ReplaceAll(tt.errContains, `\"`, `"`)) {
				t.Errorf("%d %q, want %d and %q", code, e.Error, tt.code, tt.errContains)
			}
		})
	}

	// Without Content-Type: application/json.
	req, _ := http.NewRequest("POST", h.base+"/api/post?t="+h.token, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", resp.StatusCode)
	}
}

func TestToken(t *testing.T) {
	h := start(t, webchat.Options{})
	get := func(path string, mod func(*http.Request)) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", h.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mod != nil {
			mod(req)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp, b.String()
	}
	for _, tt := range []struct {
		name string
		path string
		mod  func(*http.Request)
	}{
		{"API without a token", "/api/messages?user=alice&channel=general", nil},
		{"API with a wrong token", "/api/messages?user=alice&channel=general&t=00112233445566778899aabbccddeeff", nil},
		{"page without a token", "/", nil},
		{"WebSocket without a token", "/ws", nil},
		{"a file without a token", "/api/file?message=m000001", nil},
		{"a foreign Host (DNS rebinding)", "/api/workspace?t=" + h.token, func(r *http.Request) { r.Host = "evil.example:80" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.path, tt.mod)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%d, want 403", resp.StatusCode)
			}
			if strings.HasPrefix(tt.path, "/api/") && !strings.Contains(body, `"error":"forbidden`) {
				t.Errorf("body %q", body)
			}
		})
	}

	// The page with the token sets the cookie, which then stands for it.
	resp, body := get("/?t="+h.token, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "webchat") {
		t.Fatalf("the page: %d", resp.StatusCode)
	}
	for _, k := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(k) == "" {
			t.Errorf("no %s", k)
		}
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		cookie = c
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if resp, body := get("/api/workspace", func(r *http.Request) { r.AddCookie(cookie) }); resp.StatusCode != 200 ||
		!strings.Contains(body, `"channels":["general","helpdesk"]`) {
		t.Errorf("with the cookie: %d %s", resp.StatusCode, body)
	}
	for _, asset := range []string{"/app.js", "/style.css"} {
		if resp, _ := get(asset, func(r *http.Request) { r.AddCookie(cookie) }); resp.StatusCode != 200 {
			t.Errorf("%s: %d", asset, resp.StatusCode)
		}
	}
}

func TestFilesAndMail(t *testing.T) {
	h := start(t, webchat.Options{})
	inv := []byte(`{"version":1,"id":"inv-7"}`)
	id := h.send(bot.Place{User: "bob"}, bot.Message{Text: "Your invitation", File: &bot.File{
		Name: "Alice’s invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: inv,
	}})
	msgs := h.messages("bob", "", "")
	f := msgs[len(msgs)-1].File
	if msgs[len(msgs)-1].ID != id || f == nil || f.Name != "Alice’s invitation.gethelp" || f.Size != len(inv) {
		t.Fatalf("the message: %+v", msgs[len(msgs)-1])
	}
	req, _ := http.NewRequest("GET", h.base+f.URL+"&t="+h.token, nil)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got [256]byte
	n, _ := resp.Body.Read(got[:])
	resp.Body.Close()
	if string(got[:n]) != string(inv) {
		t.Errorf("downloaded %q", got[:n])
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=utf-8''Alice%E2%80%99s") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-gethelp-invitation" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Errorf("a download's CSP %q", csp)
	}

	h.s.AddMail(webchat.Mail{
		ID: "<abc@gethelp.example>", From: "gethelp <bot@gethelp.example>", To: "bob@example.com",
		Subject: "Alice asks for your help", Text: "Open the attached invitation.",
		HTML:        `<p style="color:red">Open the <b>attached</b> invitation.</p><script>alert(1)</script>`,
		Attachments: []webchat.Attachment{{Name: "invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: inv}},
	})
	h.s.AddMail(webchat.Mail{ID: "<abc@gethelp.example>", Subject: "same id", Text: "x"})
	var mail []struct {
		ID, From, To, Subject, Text string
		HTMLURL                     string `json:"html_url"`
		Date                        time.Time
		Attachments                 []webchat.FileInfo
	}
	h.call("GET", "/api/mail", nil, &mail)
	if len(mail) != 2 || mail[0].ID != "<abc@gethelp.example>" || mail[1].ID == mail[0].ID || mail[0].Subject != "Alice asks for your help" {
		t.Fatalf("mail %+v", mail)
	}
	if mail[0].Date.IsZero() || len(mail[0].Attachments) != 1 || mail[0].HTMLURL == "" || mail[1].HTMLURL != "" {
		t.Errorf("mail %+v", mail[0])
	}
	code, b := h.do("GET", mail[0].Attachments[0].URL, nil)
	if code != 200 || string(b) != string(inv) {
		t.Errorf("attachment: %d %q", code, b)
	}
	req, _ = http.NewRequest("GET", h.base+mail[0].HTMLURL+"&t="+h.token, nil)
	resp, err = h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") ||
		resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("the HTML's headers: %v", resp.Header)
	}
	if got := h.s.Mail(); len(got) != 2 || got[0].Attachments[0].Name != "invitation.gethelp" {
		t.Errorf("Mail() %+v", got)
	}
}

func TestDeadline(t *testing.T) {
	release := make(chan struct{})
	core := new(bottest.Core)
	core.OnCommand(func(c bot.Command) bot.Reply {
		<-release
		return bot.Reply{Text: "late"}
	})
	h := startWith(t, webchat.Options{Deadline: 50 * time.Millisecond}, core)
	code, b := h.do("POST", "/api/command", webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp slow"})
	close(release)
	if code != http.StatusGatewayTimeout || !strings.Contains(string(b), "did not answer in time") {
		t.Errorf("%d %s", code, b)
	}
	// The late reply still reaches the user, as an ephemeral message.
	deadline := time.Now().Add(waitTimeout)
	for !slices.Contains(texts(h.messages("alice", "general", "")), "late") {
		if time.Now().After(deadline) {
			t.Fatal("the late reply never came")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNobodyRuns(t *testing.T) {
	s, err := webchat.New(webchat.Options{Deadline: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Command(context.Background(), webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp"}); !errors.Is(err, webchat.ErrTimeout) {
		t.Errorf("Command without Run: %v", err)
	}
	// Posts wait for Run.
	if _, err := s.Post(context.Background(), webchat.Typed{User: "bob", Text: "hello?"}); err != nil {
		t.Fatal(err)
	}
	core := new(bottest.Core)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, core) }()
	bottest.Wait(t, core, "the post made before Run", func(p bot.Post) bool { return p.Text == "hello?" })
	if err := s.Run(ctx, core); !errors.Is(err, webchat.ErrRunning) {
		t.Errorf("a second Run: %v", err)
	}
	s.Close()
	if err := <-done; !errors.Is(err, webchat.ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	cancel()
	if _, err := s.Post(context.Background(), webchat.Typed{User: "bob", Text: "hello?"}); !errors.Is(err, webchat.ErrClosed) {
		t.Errorf("Post after Close: %v", err)
	}
}

// TestOneAtATime: calls reach the core one at a time and in order, however
// many people act at once.
func TestOneAtATime(t *testing.T) {
	core := new(bottest.Core)
	core.OnCommand(func(c bot.Command) bot.Reply { time.Sleep(time.Millisecond); return bot.Reply{Text: "ok"} })
	h := startWith(t, webchat.Options{}, core)
	const n = 20
	errs := make(chan error, 2*n)
	for i := range n {
		go func() {
			_, err := h.s.Command(context.Background(), webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp x"})
			errs <- err
		}()
		go func() {
			_, err := h.s.Post(context.Background(), webchat.Typed{User: "bob", Channel: "general", Text: strings.Repeat("p", i+1)})
			errs <- err
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	bottest.Wait(t, core, "the last post", func(p bot.Post) bool { return len(p.Text) == n })
	if n := core.Overlaps(); n != 0 {
		t.Errorf("%d calls overlapped", n)
	}
	var last string
	for _, p := range core.Posts() {
		if string(p.ID) <= last {
			t.Errorf("post %s after %s", p.ID, last)
		}
		last = string(p.ID)
	}
}

func TestWebSocket(t *testing.T) {
	h := start(t, webchat.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	origin := h.base
	if _, _, err := websocket.Dial(ctx, h.base+"/ws?t="+h.token, &websocket.DialOptions{
		HTTPClient: h.client, HTTPHeader: http.Header{"Origin": {"http://evil.example"}},
	}); err == nil {
		t.Error("a foreign Origin opened the WebSocket")
	}
	c, _, err := websocket.Dial(ctx, h.base+"/ws?t="+h.token, &websocket.DialOptions{
		HTTPClient: h.client, HTTPHeader: http.Header{"Origin": {origin}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	next := func() map[string]any {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := next(); m["type"] != "hello" || m["workspace"] != "demo" {
		t.Fatalf("first %v", m)
	}
	id := h.send(bot.Place{Channel: "general", User: "alice"}, bot.Message{Text: "only you", Ephemeral: true})
	if m := next(); m["type"] != "message" || m["id"] != id || m["visible_to"] != "alice" || m["text"] != "only you" || m["channel"] != "general" {
		t.Errorf("message event %v", m)
	}
	h.post("bob", "", "", "hi bot")
	if m := next(); m["type"] != "message" || m["dm"] != "bob" || m["author"] != "bob" || m["author_name"] != "Bob" {
		t.Errorf("DM event %v", m)
	}
	h.s.AddMail(webchat.Mail{Subject: "hello", Text: "body"})
	if m := next(); m["type"] != "mail" || m["subject"] != "hello" || m["id"] != "mail-1" {
		t.Errorf("mail event %v", m)
	}
	c.Close(websocket.StatusNormalClosure, "")
}
