package discord_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/discord"
	"github.com/gethelp/gethelp/bot/discord/discordfake"
)

// TestRun runs one Adapter for the subtests, which run one at a time, each
// with its own replies (discordgo takes a second to close a gateway
// connection, so the tests share one).
func TestRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{fake: discordfake.Options{HeartbeatInterval: 50 * time.Millisecond}})
	for _, tc := range []struct {
		name string
		test func(*testing.T, *harness)
	}{
		{"registers the command", testRegistersGlobalCommand},
		{"deferred while the handler is slow", testCommandDeferredWhileHandlerIsSlow},
		{"command text", testCommandText},
		{"command identity", testCommandIdentity},
		{"command in a thread", testCommandInThread},
		{"answered without the handler", testCommandAnsweredWithoutHandler},
		{"empty reply", testCommandEmptyReply},
		{"long reply", testLongReplyTruncated},
		{"button", testButton},
		{"button with an empty reply", testButtonEmptyReply},
		{"button in a DM", testButtonInDM},
		{"posts", testPosts},
		{"post in an unknown thread", testPostInUnknownThread},
		{"junk dropped", testJunkEventsDropped},
		{"ephemeral follow-up", testEphemeralFollowUp},
		{"ephemeral after the token expired", testEphemeralExpires},
		{"heartbeats", testHeartbeats},
		{"run twice", testRunTwice},
	} {
		h.core.Reset()
		t.Run(tc.name, func(t *testing.T) { tc.test(t, h) })
	}
}

func testRegistersGlobalCommand(t *testing.T, h *harness) {
	checkCommand(t, h, "")
	if cmds := h.fake.Commands(guild); len(cmds) != 0 {
		t.Errorf("guild commands too: %+v", cmds)
	}
	ids := h.fake.Identifies()
	if len(ids) != 1 || ids[0].Intents != int(discord.Intents) {
		t.Errorf("identifies: %+v, want intents %d", ids, discord.Intents)
	}
}

func TestRegistersGuildCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{guilds: []string{guild}})
	checkCommand(t, h, guild)
	if cmds := h.fake.Commands(""); len(cmds) != 0 {
		t.Errorf("global commands too: %+v", cmds)
	}
}

func checkCommand(t *testing.T, h *harness, scope string) {
	t.Helper()
	cmds := h.fake.Commands(scope)
	if len(cmds) != 1 {
		t.Fatalf("commands in %q: %+v", scope, cmds)
	}
	c := cmds[0]
	if c.Name != "gethelp" || c.Type != 1 || c.Description == "" {
		t.Errorf("command: %+v", c)
	}
	want := []discordfake.CommandOption{
		{Type: 3, Name: "text", MaxLength: 1000},
		{Type: 6, Name: "helper"},
	}
	if len(c.Options) != len(want) {
		t.Fatalf("options: %+v", c.Options)
	}
	for i, o := range c.Options {
		if o.Type != want[i].Type || o.Name != want[i].Name || o.Required || o.MaxLength != want[i].MaxLength || o.Description == "" {
			t.Errorf("option %d: %+v, want %+v", i, o, want[i])
		}
	}
	global := scope == ""
	if global != slices.Equal(c.Contexts, []int{0}) || global != slices.Equal(c.IntegrationTypes, []int{0}) {
		t.Errorf("contexts %v, integration types %v", c.Contexts, c.IntegrationTypes)
	}
}

func testHeartbeats(t *testing.T, h *harness) {
	deadline := time.Now().Add(waitTimeout)
	for h.fake.Heartbeats() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := h.fake.Heartbeats(); n < 3 {
		t.Errorf("%d heartbeats", n)
	}
}

func testRunTwice(t *testing.T, h *harness) {
	if err := h.a.Run(context.Background(), h.core); !errors.Is(err, discord.ErrRunning) {
		t.Errorf("a second Run: %v", err)
	}
}

func testCommandDeferredWhileHandlerIsSlow(t *testing.T, h *harness) {
	release := make(chan struct{})
	core := h.core
	core.OnCommand(func(c bot.Command) bot.Reply {
		<-release
		return bot.Reply{Text: "Asking your computer for consent."}
	})
	it := h.fake.Invoke(alice, guild, general,
		discordfake.Option{Name: "text", Value: "  the printer is broken "},
		discordfake.Option{Name: "helper", Value: bob})

	// The handler holds the reply, but Discord got its answer in time.
	ack := it.WaitAck()
	if ack.Type != 5 || !ack.Ephemeral || ack.After > 3*time.Second {
		t.Errorf("first answer: %+v; want type 5 (deferred), ephemeral, within 3 s", ack)
	}
	calls := core.WaitCalls(t, "the command", func(c []any) bool { return len(c) == 1 })
	if r := it.Response(); r.Edited {
		t.Errorf("answered before the handler returned: %+v", r)
	}
	close(release)
	if got := it.Wait(); got != "Asking your computer for consent." {
		t.Errorf("reply %q", got)
	}
	cmd := calls[0].(bot.Command)
	want := bot.Command{
		From: bot.Identity{Network: "discord", Workspace: guild, UserID: alice, DisplayName: "Ali"},
		At:   bot.Place{Workspace: guild, Channel: general},
		Text: "<@" + bob + "> the printer is broken",
		ID:   it.ID,
	}
	if cmd != want {
		t.Errorf("command:\n got %+v\nwant %+v", cmd, want)
	}
	// The core's mention goes back through LookupUser.
	id, err := h.a.LookupUser(context.Background(), cmd.At.Workspace, strings.Fields(cmd.Text)[0])
	if err != nil || id.UserID != bob || id.DisplayName != "Bob B" {
		t.Errorf("LookupUser(%q) = %+v, %v", strings.Fields(cmd.Text)[0], id, err)
	}
}

func testCommandText(t *testing.T, h *harness) {
	for _, tc := range []struct {
		name string
		opts []discordfake.Option
		want string
	}{
		{"no options", nil, "ok: "},
		{"a word", []discordfake.Option{{Name: "text", Value: "link K7PM-W3XQ"}}, "ok: link K7PM-W3XQ"},
		{"a helper alone", []discordfake.Option{{Name: "helper", Value: bob}}, "ok: <@" + bob + ">"},
		{"a mention typed", []discordfake.Option{{Name: "text", Value: "<@" + bob + "> help"}}, "ok: <@" + bob + "> help"},
	} {
		if got := h.fake.Interact(alice, guild, general, tc.opts...); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func testCommandIdentity(t *testing.T, h *harness) {
	h.fake.AddUser(discordfake.User{ID: "130000000000000009", Username: "erin"})
	h.fake.AddMember(guild, "130000000000000009", "")
	for i, tc := range []struct {
		user, name string
	}{
		{alice, "Ali"},                 // the nickname in the guild
		{bob, "Bob B"},                 // the global display name
		{"130000000000000009", "erin"}, // the username
	} {
		h.fake.Interact(tc.user, guild, helpdesk)
		calls := h.core.WaitCalls(t, "a command", func(c []any) bool { return len(c) > i })
		cmd := calls[len(calls)-1].(bot.Command)
		want := bot.Identity{Network: "discord", Workspace: guild, UserID: tc.user, DisplayName: tc.name}
		if cmd.From != want || cmd.At != (bot.Place{Workspace: guild, Channel: helpdesk}) {
			t.Errorf("command from %s: %+v at %+v, want %+v", tc.user, cmd.From, cmd.At, want)
		}
	}
}

func testCommandInThread(t *testing.T, h *harness) {
	root := h.send(bot.Place{Workspace: guild, Channel: general}, bot.Message{Text: "Alice asked for help"})
	h.send(bot.Place{Workspace: guild, Channel: general, Thread: string(root)}, bot.Message{Text: "in the thread"})
	h.fake.Interact(alice, guild, string(root), discordfake.Option{Name: "text", Value: "status"})
	calls := h.core.WaitCalls(t, "a command", func(c []any) bool { return len(c) > 0 })
	cmd := calls[len(calls)-1].(bot.Command)
	if want := (bot.Place{Workspace: guild, Channel: general, Thread: string(root)}); cmd.At != want {
		t.Errorf("at %+v, want %+v", cmd.At, want)
	}
}

func testCommandAnsweredWithoutHandler(t *testing.T, h *harness) {
	// In a DM: links belong to a guild.
	it := h.fake.Invoke(alice, "", "")
	if got := it.Wait(); !strings.Contains(got, "channel of your server") {
		t.Errorf("in a DM: %q", got)
	}
	if r := it.Response(); r.Type != 4 || !r.Ephemeral {
		t.Errorf("in a DM: %+v, want an ephemeral message at once", r)
	}
	// Options of an older registration: usage.
	if got := h.fake.InvokeCommand("gethelp", alice, guild, general, discordfake.Option{Name: "what", Value: "x", Type: 3}).Wait(); got != discord.Usage {
		t.Errorf("an unknown option: %q", got)
	}
	if got := h.fake.InvokeCommand("gethelp", alice, guild, general, discordfake.Option{Name: "helper", Value: "bob", Type: 3}).Wait(); got != discord.Usage {
		t.Errorf("a helper that is text: %q", got)
	}
	if got := h.fake.InvokeCommand("other", alice, guild, general).Wait(); got != discord.Usage {
		t.Errorf("another command: %q", got)
	}
	if calls := h.core.Posts(); len(calls) != 0 {
		t.Errorf("the handler saw %+v", calls)
	}
	if n := len(h.core.Calls()); n != 0 {
		t.Errorf("the handler got %d calls", n)
	}
}

func testCommandEmptyReply(t *testing.T, h *harness) {
	h.core.OnCommand(func(bot.Command) bot.Reply { return bot.Reply{} })
	if got := h.fake.Interact(alice, guild, general); got != "Done." {
		t.Errorf("reply %q", got)
	}
}

func testLongReplyTruncated(t *testing.T, h *harness) {
	h.core.OnCommand(func(bot.Command) bot.Reply { return bot.Reply{Text: strings.Repeat("é", 2500)} })
	got := h.fake.Interact(alice, guild, general)
	if n := len([]rune(got)); n != 2000 || !strings.HasSuffix(got, "…") {
		t.Errorf("a reply of %d characters", n)
	}
}

func testButton(t *testing.T, h *harness) {
	desk := h.newChannel("desk")
	ref := h.send(bot.Place{Workspace: guild, Channel: desk}, bot.Message{
		Text:    "Alice asked for help",
		Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "T1", Style: "primary"}},
	})
	it := h.fake.Press(bob, string(ref), "take:T1")
	if got := it.Wait(); got != "pressed take T1" {
		t.Errorf("reply %q", got)
	}
	r := it.Response()
	if r.Type != 6 || len(r.Followups) != 1 || !r.Followups[0].Ephemeral {
		t.Errorf("answer %+v; want a deferred update and an ephemeral follow-up", r)
	}
	calls := h.core.WaitCalls(t, "the press", func(c []any) bool { return len(c) == 1 })
	want := bot.Press{
		From: bot.Identity{Network: "discord", Workspace: guild, UserID: bob, DisplayName: "Bob B"},
		At:   bot.Place{Workspace: guild, Channel: desk}, Action: "take", Value: "T1", ID: it.ID,
	}
	if p := calls[0].(bot.Press); p != want {
		t.Errorf("press:\n got %+v\nwant %+v", p, want)
	}
	if msgs := h.fake.Messages(desk); len(msgs) != 1 {
		t.Errorf("the follow-up is in the channel: %v", msgs)
	}
}

func testButtonInDM(t *testing.T, h *harness) {
	ref := h.send(bot.Place{User: bob}, bot.Message{Text: "Yours?", Buttons: []bot.Button{{Label: "Yes", Action: "allow", Value: "T2"}}})
	if got := h.fake.PressButton(bob, string(ref), "allow:T2"); got != "pressed allow T2" {
		t.Errorf("reply %q", got)
	}
	calls := h.core.WaitCalls(t, "the press", func(c []any) bool { return len(c) == 1 })
	want := bot.Press{From: bot.Identity{Network: "discord", UserID: bob, DisplayName: "Bob B"}, At: bot.Place{User: bob}, Action: "allow", Value: "T2"}
	p := calls[0].(bot.Press)
	p.ID = ""
	if p != want {
		t.Errorf("press:\n got %+v\nwant %+v", p, want)
	}
}

func testButtonEmptyReply(t *testing.T, h *harness) {
	h.core.OnButton(func(bot.Press) bot.Reply { return bot.Reply{} })
	ref := h.send(bot.Place{Workspace: guild, Channel: helpdesk}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "Go", Action: "go"}}})
	it := h.fake.Press(bob, string(ref), "go:")
	if r := it.WaitAck(); r.Type != 6 {
		t.Errorf("answer %+v", r)
	}
	calls := h.core.WaitCalls(t, "the press", func(c []any) bool { return len(c) == 1 })
	if p := calls[0].(bot.Press); p.Action != "go" || p.Value != "" {
		t.Errorf("press %+v", p)
	}
	// Another event after it: by then the press was answered, with nothing.
	h.fake.Interact(alice, guild, general)
	if r := it.Response(); len(r.Followups) != 0 {
		t.Errorf("follow-ups for an empty reply: %+v", r.Followups)
	}
}

func testPosts(t *testing.T, h *harness) {
	root := h.send(bot.Place{Workspace: guild, Channel: general}, bot.Message{Text: "Alice asked for help"})
	// The bot's own message in the thread comes back as MESSAGE_CREATE:
	// it is not passed on.
	h.send(bot.Place{Workspace: guild, Channel: general, Thread: string(root)}, bot.Message{Text: "Waiting for consent"})
	h.fake.Say(alice, general, "not in a thread: not for the bot")
	h.fake.Say(robot, string(root), "another bot")
	id := h.fake.Say(bob, string(root), "I can help")
	dm := h.fake.SayDM(alice, "hello bot")
	posts := h.core.WaitPosts(t, 2)
	want := []bot.Post{
		{From: bot.Identity{Network: "discord", Workspace: guild, UserID: bob, DisplayName: "Bob B"},
			At: bot.Place{Workspace: guild, Channel: general, Thread: string(root)}, Text: "I can help", ID: bot.MessageRef(id)},
		{From: bot.Identity{Network: "discord", UserID: alice, DisplayName: "Alice A"},
			At: bot.Place{User: alice}, Text: "hello bot", ID: bot.MessageRef(dm)},
	}
	if !slices.Equal(posts, want) {
		t.Errorf("posts:\n got %+v\nwant %+v", posts, want)
	}
}

func testPostInUnknownThread(t *testing.T, h *harness) {
	msg := h.fake.Say(alice, general, "root by a person")
	thread := startThread(t, h, general, msg)
	// The adapter forgets the thread (as after a restart): it asks
	// Discord what the channel is.
	h.fake.Dispatch("THREAD_DELETE", map[string]any{"id": thread, "guild_id": guild, "parent_id": general, "type": 11})
	id := h.fake.Say(alice, thread, "in a thread")
	posts := h.core.WaitPosts(t, 1)
	if len(posts) != 1 || posts[0].At != (bot.Place{Workspace: guild, Channel: general, Thread: thread}) || posts[0].ID != bot.MessageRef(id) {
		t.Errorf("posts %+v", posts)
	}
	if n := h.requests("GET", "/channels/"+thread); n != 1 {
		t.Errorf("%d lookups of the thread", n)
	}
}

// startThread starts a thread from a message through the adapter.
func startThread(t *testing.T, h *harness, channel, msg string) string {
	t.Helper()
	h.send(bot.Place{Workspace: guild, Channel: channel, Thread: msg}, bot.Message{Text: "first in thread"})
	c, ok := h.fake.Channel(msg)
	if !ok || c.Type != 11 || c.ParentID != channel {
		t.Fatalf("thread %s: %+v, %v", msg, c, ok)
	}
	return msg
}

func testJunkEventsDropped(t *testing.T, h *harness) {
	h.fake.SendRaw([]byte("not json at all"))
	h.fake.SendRaw([]byte(`{"op": 42}`))
	for _, e := range []struct {
		t string
		d any
	}{
		{"MESSAGE_CREATE", "a string"},
		{"MESSAGE_CREATE", nil},
		{"MESSAGE_CREATE", map[string]any{"id": "1", "channel_id": "../../users/@me", "author": map[string]any{"id": alice}, "content": "x"}},
		{"MESSAGE_CREATE", map[string]any{"id": 5, "channel_id": []int{1}}},
		{"INTERACTION_CREATE", map[string]any{"id": "1", "type": 2}},
		{"INTERACTION_CREATE", map[string]any{"id": "1", "application_id": "2", "token": "a/b", "type": 2, "channel_id": general, "member": map[string]any{"user": map[string]any{"id": alice}}}},
		{"INTERACTION_CREATE", map[string]any{"id": "1", "application_id": "2", "token": "t", "type": 2, "channel_id": general, "guild_id": guild, "member": map[string]any{"user": map[string]any{"id": alice}}, "data": map[string]any{"name": "gethelp", "options": []any{map[string]any{"name": "text", "type": 3, "value": 7}}}}},
		{"INTERACTION_CREATE", map[string]any{"id": "1", "application_id": "2", "token": "t", "type": 3, "channel_id": general, "guild_id": guild, "member": map[string]any{"user": map[string]any{"id": alice}}, "data": map[string]any{"custom_id": "take:1"}}},
		{"THREAD_CREATE", json.RawMessage(`[1,2,3]`)},
		{"GUILD_CREATE", map[string]any{"id": guild, "threads": "no"}},
		{"SOMETHING_NEW", map[string]any{"x": 1}},
	} {
		h.fake.Dispatch(e.t, e.d)
	}
	// Still alive: a command is answered, a thread message passed on.
	if got := h.fake.Interact(alice, guild, general, discordfake.Option{Name: "text", Value: "status"}); got != "ok: status" {
		t.Errorf("after junk: %q", got)
	}
	calls := h.core.WaitCalls(t, "one call", func(c []any) bool { return len(c) >= 1 })
	if len(calls) != 1 {
		t.Errorf("calls from junk: %+v", calls)
	}
}

func TestReconnectResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	root := h.send(bot.Place{Workspace: guild, Channel: general}, bot.Message{Text: "root"})
	h.send(bot.Place{Workspace: guild, Channel: general, Thread: string(root)}, bot.Message{Text: "thread"})
	h.fake.DropConnection()
	deadline := time.Now().Add(waitTimeout)
	for h.fake.Connected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Said while the bot is away: RESUME replays it.
	id := h.fake.Say(alice, string(root), "are you there?")
	posts := h.core.WaitPosts(t, 1)
	if posts[0].ID != bot.MessageRef(id) {
		t.Errorf("posts %+v", posts)
	}
	if n := len(h.fake.Identifies()); n != 1 {
		t.Errorf("%d IDENTIFYs; want the session resumed", n)
	}
	if got := h.fake.Interact(bob, guild, general); got != "ok: " {
		t.Errorf("after the reconnection: %q", got)
	}
}

func TestRunFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		setup  setup
		token  string
		substr string
	}{
		{"a bad token", setup{noRun: true}, "wrong-token", "4004"},
		{"message content not enabled", setup{noRun: true, fake: discordfake.Options{DisabledIntents: discordfake.IntentMessageContent}}, "", "4014"},
		{"a guild without applications.commands", setup{noRun: true, guilds: []string{"119999999999999999"}}, "", "Missing Access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.setup)
			a := h.a
			if tc.token != "" {
				var err error
				a, err = discord.New(discord.Options{APIURL: h.fake.URL(), Token: tc.token, Logger: testLogger(t)})
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			err := a.Run(ctx, h.core)
			if err == nil || !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("Run: %v; want an error with %q", err, tc.substr)
			}
		})
	}
}

func TestRunStopsWhileConnecting(t *testing.T) {
	t.Parallel()
	// A gateway that takes the connection and says nothing: Open waits
	// for HELLO, and Run's context must break it.
	hold := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v9/gateway" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"url": "ws://%s"}`, r.Host)
			return
		}
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-hold
	}))
	defer srv.Close()
	defer close(hold)
	a, err := discord.New(discord.Options{APIURL: srv.URL, Token: "t", ApplicationID: "1", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := a.Run(ctx, new(bottest.Core)); err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run returned %v after its context ended", d)
	}
}

func TestInstallURL(t *testing.T) {
	got := discord.InstallURL("900000000000000001")
	want := "https://discord.com/oauth2/authorize?client_id=900000000000000001&permissions=311385230336&integration_type=0&scope=bot+applications.commands"
	if got != want {
		t.Errorf("InstallURL:\n got %s\nwant %s", got, want)
	}
	if discord.Intents != 1<<0|1<<9|1<<12|1<<15 {
		t.Errorf("intents %d", discord.Intents)
	}
}
