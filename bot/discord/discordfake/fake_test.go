package discordfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot/discord/discordfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	guild   = "110000000000000001"
	general = "120000000000000001"
	alice   = "130000000000000001"
)

// recorder is a testing.TB that records the failures the fake reports
// instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

// take returns the failures recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.errs
	r.errs = nil
	return e
}

func newFake(t *testing.T, opts discordfake.Options) (*discordfake.Server, *recorder) {
	rec := &recorder{TB: t}
	s := discordfake.New(rec, opts)
	s.AddGuild(guild, "Acme")
	s.AddChannel(guild, general, "general")
	s.AddUser(discordfake.User{ID: alice, Username: "alice"})
	s.AddMember(guild, alice, "Ali")
	return s, rec
}

// do makes a REST request; header "-" removes a default header.
func do(t *testing.T, s *discordfake.Server, method, path, contentType, body string, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+s.Token())
	req.Header.Set("User-Agent", "DiscordBot (https://example.org, 1)")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		if v == "-" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestRESTStrictness(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{})
	const js = "application/json"
	msgs := "/api/v10/channels/" + general + "/messages"
	for _, tc := range []struct {
		name                string
		method, path, ct, b string
		header              map[string]string
		status, code        int
		recorded            bool // the real service rejects it: the test fails
	}{
		{"fine", "GET", "/api/v9/users/@me", "", "", nil, 200, 0, false},
		{"no Authorization", "GET", "/api/v9/users/@me", "", "", map[string]string{"Authorization": "-"}, 401, 0, true},
		{"no Bot prefix", "GET", "/api/v9/users/@me", "", "", map[string]string{"Authorization": s.Token()}, 401, 0, true},
		{"a wrong token", "GET", "/api/v9/users/@me", "", "", map[string]string{"Authorization": "Bot nope"}, 401, 0, true},
		{"no User-Agent", "GET", "/api/v9/users/@me", "", "", map[string]string{"User-Agent": "Go-http-client/1.1"}, 400, 0, true},
		{"an old version", "GET", "/api/v8/users/@me", "", "", nil, 404, 0, true},
		{"no such endpoint", "GET", "/api/v9/nope", "", "", nil, 404, 0, true},
		{"a wrong method", "DELETE", msgs, "", "", nil, 405, 0, true},
		{"text/plain", "POST", msgs, "text/plain", `{"content":"x"}`, nil, 400, 50035, true},
		{"an unknown field", "POST", msgs, js, `{"content":"x","colour":"red"}`, nil, 400, 50035, true},
		{"a wrong type", "POST", msgs, js, `{"content":5}`, nil, 400, 50035, true},
		{"too long", "POST", msgs, js, `{"content":"` + strings.Repeat("x", 2001) + `"}`, nil, 400, 50035, true},
		{"empty", "POST", msgs, js, `{}`, nil, 400, 50006, true},
		{"ephemeral in a channel", "POST", msgs, js, `{"content":"x","flags":64}`, nil, 400, 50035, true},
		{"a long nonce", "POST", msgs, js, `{"content":"x","nonce":"` + strings.Repeat("n", 26) + `"}`, nil, 400, 50035, true},
		{"a button outside a row", "POST", msgs, js, `{"components":[{"type":2,"style":1,"label":"a","custom_id":"a"}]}`, nil, 400, 50035, true},
		{"a button without a custom id", "POST", msgs, js, `{"components":[{"type":1,"components":[{"type":2,"style":1,"label":"a"}]}]}`, nil, 400, 50035, true},
		{"custom ids twice", "POST", msgs, js, `{"components":[{"type":1,"components":[{"type":2,"style":1,"label":"a","custom_id":"a"},{"type":2,"style":2,"label":"b","custom_id":"a"}]}]}`, nil, 400, 50035, true},
		{"a message", "POST", msgs, js, `{"content":"x","tts":false,"embeds":null,"components":[{"type":1,"components":[{"type":2,"style":1,"label":"a","custom_id":"a"}]}],"allowed_mentions":{"parse":[]}}`, nil, 200, 0, false},
		{"no such channel", "POST", "/api/v9/channels/1/messages", js, `{"content":"x"}`, nil, 404, 10003, false},
		{"no such user", "GET", "/api/v9/users/2", "", "", nil, 404, 10013, false},
		{"no such member", "GET", "/api/v9/guilds/" + guild + "/members/2", "", "", nil, 404, 10007, false},
		{"a thread from no message", "POST", "/api/v9/channels/" + general + "/messages/3/threads", js, `{"name":"t"}`, nil, 404, 10008, false},
		{"a thread without a name", "POST", "/api/v9/channels/" + general + "/messages/3/threads", js, `{}`, nil, 400, 50035, true},
		{"a command with a bad name", "POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", js, `{"name":"Get Help","description":"d"}`, nil, 400, 50035, true},
		{"a command without a description", "POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", js, `{"name":"x"}`, nil, 400, 50035, true},
		{"a required option last", "POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", js, `{"name":"x","description":"d","options":[{"type":3,"name":"a","description":"a"},{"type":3,"name":"b","description":"b","required":true}]}`, nil, 400, 50035, true},
		{"contexts on a guild command", "POST", "/api/v9/applications/" + s.ApplicationID() + "/guilds/" + guild + "/commands", js, `{"name":"x","description":"d","contexts":[0]}`, nil, 400, 50035, true},
		{"another application", "POST", "/api/v9/applications/1/commands", js, `{"name":"x","description":"d"}`, nil, 403, 50001, true},
		{"a guild without the bot", "POST", "/api/v9/applications/" + s.ApplicationID() + "/guilds/5/commands", js, `{"name":"x","description":"d"}`, nil, 403, 50001, false},
		{"a command", "POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", js, `{"name":"x","description":"d","options":[{"type":6,"name":"who","description":"w"}]}`, nil, 201, 0, false},
		{"the command again", "POST", "/api/v9/applications/" + s.ApplicationID() + "/commands", js, `{"name":"x","description":"e"}`, nil, 200, 0, false},
		{"an unknown interaction", "POST", "/api/v9/interactions/1/t/callback", js, `{"type":4,"data":{"content":"x"}}`, nil, 404, 10062, true},
		{"an unknown webhook", "POST", "/api/v9/webhooks/" + s.ApplicationID() + "/nope", js, `{"content":"x"}`, nil, 404, 10015, true},
	} {
		status, body := do(t, s, tc.method, tc.path, tc.ct, tc.b, tc.header)
		code, _ := body["code"].(float64)
		if status != tc.status || int(code) != tc.code {
			t.Errorf("%s: HTTP %d code %v, want %d code %d (%v)", tc.name, status, code, tc.status, tc.code, body)
		}
		if status >= 400 {
			if _, ok := body["message"].(string); !ok {
				t.Errorf("%s: an error without a message: %v", tc.name, body)
			}
		}
		if errs := rec.take(); (len(errs) > 0) != tc.recorded {
			t.Errorf("%s: failures recorded: %q; want some: %v", tc.name, errs, tc.recorded)
		}
	}
	if cmds := s.Commands(""); len(cmds) != 1 || cmds[0].Description != "e" {
		t.Errorf("commands %+v", cmds)
	}
}

func TestNonceDedupes(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{})
	msgs := "/api/v9/channels/" + general + "/messages"
	_, a := do(t, s, "POST", msgs, "application/json", `{"content":"x","nonce":"n1","enforce_nonce":true}`, nil)
	_, b := do(t, s, "POST", msgs, "application/json", `{"content":"x","nonce":"n1","enforce_nonce":true}`, nil)
	_, c := do(t, s, "POST", msgs, "application/json", `{"content":"x","nonce":"n1"}`, nil)
	if a["id"] != b["id"] || a["id"] == c["id"] || len(s.Messages(general)) != 2 {
		t.Errorf("ids %v %v %v; %d messages", a["id"], b["id"], c["id"], len(s.Messages(general)))
	}
	if errs := rec.take(); len(errs) > 0 {
		t.Error(errs)
	}
}

// gateway is a hand-made gateway client.
type gateway struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, s *discordfake.Server) *gateway {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"/?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	g := &gateway{t: t, ws: ws}
	if hello := g.read(); hello["op"] != 10.0 {
		t.Fatalf("first frame %v", hello)
	}
	return g
}

func (g *gateway) send(v any) {
	g.t.Helper()
	if err := g.ws.WriteJSON(v); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gateway) read() map[string]any {
	g.t.Helper()
	g.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f map[string]any
	if err := g.ws.ReadJSON(&f); err != nil {
		g.t.Fatalf("reading: %v", err)
	}
	return f
}

// closed reads until the server closes and returns the close code.
func (g *gateway) closed() int {
	g.t.Helper()
	g.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := g.ws.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code
		}
		if err != nil {
			g.t.Fatalf("reading: %v", err)
		}
	}
}

func identify(token string, intents int) map[string]any {
	return map[string]any{"op": 2, "d": map[string]any{
		"token": token, "intents": intents, "properties": map[string]string{"os": "linux", "browser": "test", "device": "test"},
	}}
}

func TestGatewayStrictness(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{DisabledIntents: discordfake.IntentGuildMembers})
	for _, tc := range []struct {
		name     string
		send     any
		code     int
		recorded bool
	}{
		{"a wrong token", identify("Bot nope", 1), 4004, false},
		{"a disallowed intent", identify(s.Token(), discordfake.IntentGuildMembers), 4014, false},
		{"invalid intents", identify(s.Token(), 1<<40), 4013, true},
		{"not JSON", "garbage", 4002, true},
		{"an op before IDENTIFY", map[string]any{"op": 3, "d": map[string]any{}}, 4003, true},
		{"an unknown op", map[string]any{"op": 99, "d": nil}, 4003, true},
		{"IDENTIFY without intents", map[string]any{"op": 2, "d": map[string]any{"token": s.Token(), "properties": map[string]string{"os": "x"}}}, 4002, true},
	} {
		g := dial(t, s)
		if str, ok := tc.send.(string); ok {
			g.ws.WriteMessage(websocket.TextMessage, []byte(str))
		} else {
			g.send(tc.send)
		}
		if code := g.closed(); code != tc.code {
			t.Errorf("%s: closed with %d, want %d", tc.name, code, tc.code)
		}
		if errs := rec.take(); (len(errs) > 0) != tc.recorded {
			t.Errorf("%s: failures recorded: %q; want some: %v", tc.name, errs, tc.recorded)
		}
	}

	// A good session: READY, GUILD_CREATE, heartbeats acknowledged, then
	// a second IDENTIFY is refused.
	g := dial(t, s)
	g.send(identify("Bot "+s.Token(), discordfake.IntentGuilds|discordfake.IntentGuildMessages))
	ready := g.read()
	d, _ := ready["d"].(map[string]any)
	if ready["t"] != "READY" || ready["s"] != 1.0 || d["session_id"] == "" {
		t.Fatalf("READY %v", ready)
	}
	if gc := g.read(); gc["t"] != "GUILD_CREATE" || gc["s"] != 2.0 {
		t.Errorf("GUILD_CREATE %v", gc)
	}
	g.send(map[string]any{"op": 1, "d": 2})
	if ack := g.read(); ack["op"] != 11.0 {
		t.Errorf("ack %v", ack)
	}
	g.send(map[string]any{"op": 1, "d": 7})
	g.read()
	if errs := rec.take(); len(errs) != 1 || !strings.Contains(errs[0], "beyond") {
		t.Errorf("a heartbeat with a sequence never sent: %q", errs)
	}
	g.send(identify(s.Token(), 1))
	if code := g.closed(); code != 4005 {
		t.Errorf("IDENTIFY twice: %d", code)
	}
	rec.take()
}

func TestInteractionDeadline(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{InteractionDeadline: 50 * time.Millisecond})
	do(t, s, "POST", "/api/v9/applications/"+s.ApplicationID()+"/commands", "application/json", `{"name":"gethelp","description":"d"}`, nil)
	g := dial(t, s)
	g.send(identify(s.Token(), discordfake.IntentGuilds))
	g.read() // READY
	g.read() // GUILD_CREATE
	it := s.Invoke(alice, guild, general)
	f := g.read()
	d := f["d"].(map[string]any)
	if f["t"] != "INTERACTION_CREATE" || d["token"] != it.Token || d["channel_id"] != general {
		t.Fatalf("dispatch %v", f)
	}
	time.Sleep(80 * time.Millisecond)
	cb := "/api/v9/interactions/" + it.ID + "/" + it.Token + "/callback"
	if status, body := do(t, s, "POST", cb, "application/json", `{"type":5}`, nil); status != 404 || body["code"] != 10062.0 {
		t.Errorf("a late answer: %d %v", status, body)
	}
	if errs := rec.take(); len(errs) != 1 || !strings.Contains(errs[0], "after") {
		t.Errorf("a late answer: %q", errs)
	}

	// In time, once; then edited; answering twice fails.
	it = s.Invoke(alice, guild, general)
	g.read()
	cb = "/api/v9/interactions/" + it.ID + "/" + it.Token + "/callback"
	edit := "/api/v9/webhooks/" + s.ApplicationID() + "/" + it.Token + "/messages/@original"
	if status, _ := do(t, s, "PATCH", edit, "application/json", `{"content":"early"}`, nil); status != 404 {
		t.Errorf("an edit before the answer: %d", status)
	}
	if errs := rec.take(); len(errs) != 1 {
		t.Errorf("an edit before the answer: %q", errs)
	}
	if status, _ := do(t, s, "POST", cb, "application/json", `{"type":5,"data":{"flags":64}}`, nil); status != 204 {
		t.Errorf("answer: %d", status)
	}
	if status, _ := do(t, s, "POST", cb, "application/json", `{"type":5}`, nil); status != 400 {
		t.Errorf("a second answer: %d", status)
	}
	if errs := rec.take(); len(errs) != 1 {
		t.Errorf("a second answer: %q", errs)
	}
	if status, _ := do(t, s, "PATCH", edit, "application/json", `{"content":"done"}`, nil); status != 200 {
		t.Errorf("edit: %d", status)
	}
	if got := it.Wait(); got != "done" {
		t.Errorf("answer %q", got)
	}
	if r := it.Response(); r.Type != 5 || !r.Ephemeral || !r.Edited {
		t.Errorf("response %+v", r)
	}
	if errs := rec.take(); len(errs) > 0 {
		t.Error(errs)
	}
}

func TestRateLimitMustBeHonoured(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{})
	s.RateLimit("/users/", 1, time.Minute, false)
	status, body := do(t, s, "GET", "/api/v9/users/@me", "", "", nil)
	if status != 429 || body["retry_after"] != 60.0 {
		t.Errorf("429: %d %v", status, body)
	}
	if errs := rec.take(); len(errs) != 0 {
		t.Errorf("a 429 is no failure: %q", errs)
	}
	if status, _ := do(t, s, "GET", "/api/v9/users/@me", "", "", nil); status != 429 {
		t.Errorf("too early: %d", status)
	}
	if errs := rec.take(); len(errs) != 1 {
		t.Errorf("a request before retry_after: %q", errs)
	}
}

// TestDiscordgo drives the fake with discordgo itself, pointed at it the
// way the package's doc says: Client's transport and the gateway's URL.
func TestDiscordgo(t *testing.T) {
	t.Parallel()
	s, rec := newFake(t, discordfake.Options{HeartbeatInterval: 100 * time.Millisecond})
	dg, err := discordgo.New("Bot " + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	dg.Client = s.Client()
	dg.LogLevel = -1
	dg.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentGuildMessages | discordgo.IntentMessageContent
	dg.ShouldReconnectOnError = false
	if _, err := dg.ApplicationCommandCreate(s.ApplicationID(), "", &discordgo.ApplicationCommand{
		Name: "ping", Description: "Ping",
		Options: []*discordgo.ApplicationCommandOption{{Type: discordgo.ApplicationCommandOptionString, Name: "what", Description: "What"}},
	}); err != nil {
		t.Fatal(err)
	}
	said := make(chan string, 1)
	dg.AddHandler(func(dg *discordgo.Session, i *discordgo.InteractionCreate) {
		what := i.ApplicationCommandData().Options[0].StringValue()
		dg.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "pong " + what, Flags: discordgo.MessageFlagsEphemeral},
		})
	})
	dg.AddHandler(func(dg *discordgo.Session, m *discordgo.MessageCreate) {
		if m.Author.ID != dg.State.User.ID {
			said <- m.Content
		}
	})
	if err := dg.Open(); err != nil {
		t.Fatal(err)
	}
	defer dg.Close()
	if dg.State.User == nil || dg.State.User.ID != s.BotID() {
		t.Errorf("READY: %+v", dg.State.User)
	}
	if got := s.Interact(alice, guild, general, discordfake.Option{Name: "what", Value: "x"}); got != "pong x" {
		t.Errorf("interaction: %q", got)
	}
	if _, err := dg.ChannelMessageSendComplex(general, &discordgo.MessageSend{
		Content: "hello",
		Files:   []*discordgo.File{{Name: "a.txt", Reader: bytes.NewReader([]byte("a"))}},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Go", CustomID: "go", Style: discordgo.PrimaryButton},
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	if msgs := s.Messages(general); len(msgs) != 1 || len(msgs[0].Files) != 1 || len(msgs[0].Buttons) != 1 {
		t.Errorf("messages %+v", msgs)
	}
	s.Say(alice, general, "hi bot")
	select {
	case got := <-said:
		if got != "hi bot" {
			t.Errorf("MESSAGE_CREATE %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("no MESSAGE_CREATE")
	}
	if errs := rec.take(); len(errs) > 0 {
		t.Error(errs)
	}
}
