package slack_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

// TestRunCommand: /gethelp reaches Handler.Command with the identity
// Slack vouches for and the place, and the reply shows ephemeral.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	run(t, newAdapter(t, fake), h)
	reply := fake.SlashCommand("alice", "general", "@bob the printer & the <scanner>")
	if reply != "ok: <@U0BOB|bob> the printer & the <scanner>" {
		t.Errorf("reply %q", reply)
	}
	cmds := h.Commands()
	if len(cmds) != 1 {
		t.Fatalf("commands %+v", cmds)
	}
	c := cmds[0]
	if c.From != alice {
		t.Errorf("From %+v, want %+v", c.From, alice)
	}
	if want := (bot.Place{Workspace: slackfake.TeamID, Channel: "C0GENERAL", User: "U0ALICE"}); c.At != want {
		t.Errorf("At %+v, want %+v", c.At, want)
	}
	if c.ID == "" {
		t.Error("no Command.ID")
	}
	eph := fake.Ephemerals("alice")
	if len(eph) != 1 || eph[0].Via != "response_url" {
		t.Errorf("ephemerals %+v", eph)
	}

	// In a direct message with the bot; a user without a display name or
	// an address.
	if reply := fake.SlashCommand("carol", "", "status"); reply != "ok: status" {
		t.Errorf("reply %q", reply)
	}
	cmds = h.Commands()
	if c := cmds[1]; c.From != carol || c.At.Channel != fake.IM("carol") || c.ID == cmds[0].ID {
		t.Errorf("command %+v", c)
	}
}

// TestRunSlowHandler: envelopes are acknowledged at once however slow the
// core is (the fake fails the test otherwise), and the reply comes later.
func TestRunSlowHandler(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	fake.AckTimeout = 300 * time.Millisecond
	h := new(bottest.Core)
	h.OnCommand(func(c bot.Command) bot.Reply {
		time.Sleep(time.Second)
		return bot.Reply{Text: "ok: " + c.Text}
	})
	run(t, newAdapter(t, fake), h)
	if reply := fake.SlashCommand("alice", "helpdesk", "help"); reply != "ok: help" {
		t.Errorf("reply %q", reply)
	}
}

// TestRunReplyFallback: where the response_url fails, the reply goes by
// chat.postEphemeral.
func TestRunReplyFallback(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	// A response_url on another host is not used.
	fake.AddChannel(slackfake.Channel{ID: "C0OTHER", Name: "other", Members: []string{"U0ALICE", slackfake.BotUserID}})
	run(t, newAdapter(t, fake), h)
	payload := map[string]any{
		"team_id": slackfake.TeamID, "channel_id": "C0OTHER", "user_id": "U0ALICE", "user_name": "alice",
		"command": "/gethelp", "text": "status", "response_url": "https://evil.example.com/x", "trigger_id": "1.2.3",
	}
	if _, ok := fake.Envelope("slash_commands", payload); !ok {
		t.Fatal("no ack")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.Ephemerals("alice")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	eph := fake.Ephemerals("alice")
	if len(eph) != 1 || eph[0].Via != "chat.postEphemeral" || eph[0].Text != "ok: status" || eph[0].Channel != "C0OTHER" {
		t.Errorf("ephemerals %+v", eph)
	}
}

// TestRunButton: a button the bot posted, pressed, reaches
// Handler.Button, and the reply shows ephemeral.
func TestRunButton(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	a := newAdapter(t, fake)
	run(t, a, h)
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK"}, bot.Message{Text: "Alice asked for help", Buttons: []bot.Button{
		{Label: "Take it", Action: "take", Value: "t1", Style: "primary"},
		{Label: "Take that", Action: "take", Value: "t2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if reply := fake.Press("bob", string(root), "take#2", "t2"); reply != "pressed take t2" {
		t.Errorf("reply %q", reply)
	}
	// A button in a thread.
	inThread, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK", Thread: string(root)}, bot.Message{Text: "Allow?", Buttons: []bot.Button{{Label: "Allow", Action: "allow", Value: "t1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if reply := fake.Press("alice", string(inThread), "allow", "t1"); reply != "pressed allow t1" {
		t.Errorf("reply %q", reply)
	}
	presses := h.Presses()
	if len(presses) != 2 {
		t.Fatalf("presses %+v", presses)
	}
	p := presses[0]
	if p.From != bob || p.Action != "take" || p.Value != "t2" || p.ID == "" {
		t.Errorf("press %+v", p)
	}
	if want := (bot.Place{Workspace: slackfake.TeamID, Channel: "C0HELPDESK", User: "U0BOB"}); p.At != want {
		t.Errorf("At %+v, want %+v", p.At, want)
	}
	if p := presses[1]; p.At.Thread != string(root) || p.From != alice {
		t.Errorf("press in a thread %+v", p)
	}
}

// TestRunPost: a person's message in a thread or a direct message reaches
// Handler.Post; the bot's own messages, top-level channel messages and
// edits do not.
func TestRunPost(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	a := newAdapter(t, fake)
	run(t, a, h)
	if !fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("no connection")
	}
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "Alice asked for help"})
	if err != nil {
		t.Fatal(err)
	}
	// The bot's own reply: an event the adapter must ignore.
	if _, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL", Thread: string(root)}, bot.Message{Text: "Waiting for consent"}); err != nil {
		t.Fatal(err)
	}
	fake.Message("bob", "general", "", "top-level chatter")
	ts := fake.Message("alice", "general", string(root), "it says <error> & stops")
	dm := fake.Message("bob", "", "", "hello bot")
	// Slack retries an event: the same ID, for the core to deduplicate.
	if !fake.RetryLastEvent() {
		t.Fatal("retry not acknowledged")
	}
	// An edit and a message from another bot are ignored too.
	fake.Event(map[string]any{"type": "message", "subtype": "message_changed", "channel": "C0GENERAL", "ts": "1.000001", "thread_ts": string(root), "message": map[string]any{"text": "x"}})
	fake.Event(map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "channel": "C0GENERAL", "ts": "1.000002", "thread_ts": string(root), "text": "x"})
	fake.Event(map[string]any{"type": "message", "user": slackfake.BotUserID, "channel": "C0GENERAL", "ts": "1.000003", "thread_ts": string(root), "text": "x"})
	fake.Event(map[string]any{"type": "reaction_added", "user": "U0ALICE"})
	if !fake.Settle(5 * time.Second) {
		t.Fatal("events not acknowledged")
	}
	h.WaitPosts(t, 3)
	time.Sleep(50 * time.Millisecond) // anything wrongly passed on would show now
	posts := h.Posts()
	if len(posts) != 3 {
		t.Fatalf("posts %+v", posts)
	}
	want := bot.Post{From: alice, At: bot.Place{Workspace: slackfake.TeamID, Channel: "C0GENERAL", Thread: string(root), User: "U0ALICE"}, Text: "it says <error> & stops", ID: bot.MessageRef(ts)}
	if posts[0] != want {
		t.Errorf("post %+v, want %+v", posts[0], want)
	}
	want = bot.Post{From: bob, At: bot.Place{Workspace: slackfake.TeamID, Channel: fake.IM("bob"), User: "U0BOB"}, Text: "hello bot", ID: bot.MessageRef(dm)}
	if posts[1] != want || posts[2] != want {
		t.Errorf("posts %+v, %+v, want %+v twice (the second a retry)", posts[1], posts[2], want)
	}
}

// TestRunJunk: payloads that cannot be parsed are acknowledged, logged
// and dropped; Run goes on.
func TestRunJunk(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	run(t, newAdapter(t, fake), h)
	fake.SendRaw([]byte("not json"))
	fake.SendRaw([]byte(`{"type":"mystery","envelope_id":"x1"}`))
	for _, env := range []struct {
		typ     string
		payload map[string]any
	}{
		{"events_api", map[string]any{"type": "event_callback", "event": "not an object"}},
		{"events_api", map[string]any{"type": "event_callback", "event": map[string]any{"type": "message", "text": 5}}},
		{"events_api", map[string]any{"type": "event_callback", "event": map[string]any{"type": "message", "user": "U0ALICE"}}},
		{"slash_commands", map[string]any{"text": 5}},
		{"slash_commands", map[string]any{"text": "no user"}},
		{"interactive", map[string]any{"type": "block_actions", "actions": "none"}},
		{"interactive", map[string]any{"type": "block_actions", "user": map[string]any{"id": "U0ALICE"}, "actions": []any{}}},
		{"interactive", map[string]any{"type": "view_submission", "user": map[string]any{"id": "U0ALICE"}}},
	} {
		if _, ok := fake.Envelope(env.typ, env.payload); !ok {
			t.Errorf("%s %v: no ack", env.typ, env.payload)
		}
	}
	if reply := fake.SlashCommand("alice", "general", "still there?"); reply != "ok: still there?" {
		t.Errorf("reply %q", reply)
	}
	cmds, presses, posts := h.Commands(), h.Presses(), h.Posts()
	if len(cmds) != 1 || len(presses) != 0 || len(posts) != 0 {
		t.Errorf("handled %+v %+v %+v", cmds, presses, posts)
	}
}

// TestRunReconnect: after Slack's "disconnect" the adapter connects again
// and goes on.
func TestRunReconnect(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	h := new(bottest.Core)
	run(t, newAdapter(t, fake), h)
	if !fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("no connection")
	}
	fake.Disconnect()
	if !fake.WaitConnections(2, 5*time.Second) {
		t.Fatal("no second connection")
	}
	if reply := fake.SlashCommand("bob", "helpdesk", "again"); reply != "ok: again" {
		t.Errorf("reply %q", reply)
	}
	if n := fake.CallCount("apps.connections.open"); n != 2 {
		t.Errorf("apps.connections.open called %d times", n)
	}
}

// TestRunBadTokens: a token Slack refuses ends Run with a permanent error.
func TestRunBadTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*slack.Options)
		code string
	}{
		{"bot token", func(o *slack.Options) { o.BotToken = "xoxb-revoked" }, "invalid_auth"},
		{"app token", func(o *slack.Options) { o.AppToken = "xapp-revoked" }, "invalid_auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := slackfake.New(t)
			fake.Expect(tt.code)
			a := newAdapter(t, fake, tt.mod)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := a.Run(ctx, new(bottest.Core))
			if !errors.Is(err, bot.ErrPermanent) || slackCode(err) != tt.code {
				t.Errorf("Run = %v, want a permanent %s", err, tt.code)
			}
		})
	}
}

func TestRunTwice(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	run(t, a, new(bottest.Core))
	if !fake.WaitConnections(1, 5*time.Second) {
		t.Fatal("no connection")
	}
	if err := a.Run(context.Background(), new(bottest.Core)); !errors.Is(err, slack.ErrRunning) {
		t.Errorf("second Run = %v", err)
	}
}
