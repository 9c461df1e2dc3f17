package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		opts slack.Options
		ok   bool
	}{
		{"socket", slack.Options{BotToken: "xoxb-1", AppToken: "xapp-1"}, true},
		{"http", slack.Options{BotToken: "xoxb-1", Mode: slack.ModeHTTP, SigningSecret: "s"}, true},
		{"no bot token", slack.Options{AppToken: "xapp-1"}, false},
		{"user token", slack.Options{BotToken: "xoxp-1", AppToken: "xapp-1"}, false},
		{"socket without app token", slack.Options{BotToken: "xoxb-1"}, false},
		{"app token in the bot's place", slack.Options{BotToken: "xoxb-1", AppToken: "xoxb-1"}, false},
		{"http without secret", slack.Options{BotToken: "xoxb-1", Mode: slack.ModeHTTP}, false},
		{"unknown mode", slack.Options{BotToken: "xoxb-1", AppToken: "xapp-1", Mode: "rtm"}, false},
		{"bad api url", slack.Options{BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: "slack.com/api"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := slack.New(tt.opts)
			if tt.ok && (err != nil || a.Name() != "slack") {
				t.Fatalf("New: %v", err)
			}
			if !tt.ok && !errors.Is(err, slack.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}

func TestSendChannel(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	ref, err := a.Send(ctx, bot.Place{Workspace: slackfake.TeamID, Channel: "C0GENERAL", User: "U0ALICE"}, bot.Message{Text: "Alice asked for help: a <b> & c", Key: "ticket/1/root"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages("general", "")
	if len(msgs) != 1 || msgs[0].TS != string(ref) {
		t.Fatalf("messages %+v, ref %s", msgs, ref)
	}
	m := msgs[0]
	if m.Text != "Alice asked for help: a &lt;b&gt; &amp; c" || m.BotID != slackfake.BotID {
		t.Errorf("message %+v", m)
	}
	if m.Metadata == nil || m.Metadata.EventType != "gethelp_delivery" || m.Metadata.EventPayload["key"] != "ticket/1/root" {
		t.Errorf("metadata %+v", m.Metadata)
	}
	// A second message has a later, different ts.
	ref2, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if !(string(ref2) > string(ref)) {
		t.Errorf("ts %s then %s", ref, ref2)
	}
}

func TestSendThread(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK"}, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"one", "two"} {
		ref, err := a.Send(ctx, bot.Place{Channel: "C0HELPDESK", Thread: string(root), User: "U0ALICE"}, bot.Message{Text: text, Key: "ticket/1/" + text})
		if err != nil {
			t.Fatal(err)
		}
		replies := fake.Messages("helpdesk", string(root))
		if len(replies) != i+1 || replies[i].TS != string(ref) || replies[i].Text != text {
			t.Fatalf("replies %+v", replies)
		}
	}
	if n := len(fake.Messages("helpdesk", "")); n != 1 {
		t.Errorf("%d messages outside the thread", n)
	}
	// The private channel works the same, with groups:history.
	if _, err := a.Send(ctx, bot.Place{Channel: "G0PRIVATE"}, bot.Message{Text: "private", Key: "k"}); err != nil {
		t.Fatal(err)
	}
}

func TestSendDM(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	for _, text := range []string{"Password: x", "and again"} {
		if _, err := a.Send(ctx, bot.Place{Workspace: slackfake.TeamID, User: "U0BOB"}, bot.Message{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	dms := fake.DMs("bob")
	if len(dms) != 2 || dms[0].Text != "Password: x" {
		t.Fatalf("DMs %+v", dms)
	}
	if n := fake.CallCount("conversations.open"); n != 1 {
		t.Errorf("conversations.open called %d times, want once", n)
	}
	// Ephemeral without a channel is a direct message too.
	if _, err := a.Send(ctx, bot.Place{User: "U0BOB"}, bot.Message{Text: "just you", Ephemeral: true}); err != nil {
		t.Fatal(err)
	}
	if dms := fake.DMs("bob"); len(dms) != 3 {
		t.Errorf("DMs %+v", dms)
	}
}

func TestSendEphemeral(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL", Thread: string(root), User: "U0ALICE"}, bot.Message{
		Text: "only Alice", Ephemeral: true, Buttons: []bot.Button{{Label: "Cancel", Action: "cancel", Value: "t1", Style: "danger"}},
	}); err != nil {
		t.Fatal(err)
	}
	eph := fake.Ephemerals("alice")
	if len(eph) != 1 || eph[0].Text != "only Alice" || eph[0].ThreadTS != string(root) || len(eph[0].Buttons) != 1 {
		t.Fatalf("ephemerals %+v", eph)
	}
	if n := len(fake.Messages("general", string(root))); n != 0 {
		t.Errorf("%d replies visible to everyone", n)
	}
}

func TestSendButtons(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	long := strings.Repeat("line of text & more\n", 400) // over one section's 3000 characters
	_, err := a.Send(context.Background(), bot.Place{Channel: "C0HELPDESK"}, bot.Message{Text: long, Buttons: []bot.Button{
		{Label: "Take it", Action: "take", Value: "ticket-1", Style: "primary"},
		{Label: "Take the other", Action: "take", Value: "ticket-2"},
		{Label: "Deny", Action: "deny", Value: "ticket-1", Style: "danger"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages("helpdesk", "")
	if len(msgs) != 1 {
		t.Fatalf("messages %+v", msgs)
	}
	var got []string
	for _, b := range msgs[0].Buttons {
		got = append(got, b.ActionID+"="+b.Value+"/"+b.Text+"/"+b.Style)
	}
	want := []string{"take=ticket-1/Take it/primary", "take#2=ticket-2/Take the other/", "deny=ticket-1/Deny/danger"}
	if !slices.Equal(got, want) {
		t.Errorf("buttons %q, want %q", got, want)
	}
}

func TestSendFile(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	data := bytes.Repeat([]byte("invitation "), 100)
	msg := bot.Message{
		Text: "Alice asked you for help.", Key: "ticket/1/invitation/1",
		File: &bot.File{Name: "gethelp-abc.gethelp", ContentType: "application/x-gethelp-invitation", Data: data},
	}
	ref, err := a.Send(ctx, bot.Place{User: "U0BOB"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	files := fake.Files()
	if len(files) != 1 {
		t.Fatalf("files %+v", files)
	}
	f := files[0]
	if f.Name != "gethelp-abc.gethelp" || !bytes.Equal(f.Data, data) || f.Channel != fake.IM("bob") || f.MessageTS != string(ref) {
		t.Errorf("file %s %q in %s at %s, ref %s", f.ID, f.Name, f.Channel, f.MessageTS, ref)
	}
	dms := fake.DMs("bob")
	if len(dms) != 1 || len(dms[0].Files) != 1 || !strings.Contains(string(dms[0].Blocks), "Alice asked you for help.") {
		t.Fatalf("DMs %+v", dms)
	}
	var flow []string
	for _, c := range fake.Calls() {
		switch c.Method {
		case "files.getUploadURLExternal", "upload", "files.completeUploadExternal":
			flow = append(flow, c.Method)
		}
	}
	if want := []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal"}; !slices.Equal(flow, want) {
		t.Errorf("flow %q, want %q", flow, want)
	}
	// Sent again with the key (a retry after a crash): found, not posted.
	again, err := newAdapter(t, fake).Send(ctx, bot.Place{User: "U0BOB"}, msg)
	if err != nil || again != ref {
		t.Errorf("again: %s, %v; want %s", again, err, ref)
	}
	if n := len(fake.Files()); n != 1 {
		t.Errorf("%d files after a retry", n)
	}
	// In a thread of a channel.
	root, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL", Thread: string(root)}, bot.Message{File: &bot.File{Name: "log.txt", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if r := fake.Messages("general", string(root)); len(r) != 1 || len(r[0].Files) != 1 {
		t.Errorf("thread %+v", r)
	}
}

// TestSendRetried: a Send retried with the same key, by the same Adapter
// or by a new one after a crash, returns the first message and posts
// nothing; in a channel, a thread and a direct message.
func TestSendRetried(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	root, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "root", Key: "root"})
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]bot.Place{
		"channel": {Channel: "C0GENERAL"},
		"thread":  {Channel: "C0GENERAL", Thread: string(root)},
		"dm":      {User: "U0ALICE"},
	}
	for name, to := range places {
		t.Run(name, func(t *testing.T) {
			m := bot.Message{Text: "status: " + name, Key: "ticket/1/" + name}
			first, err := a.Send(ctx, to, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range []*slack.Adapter{a, newAdapter(t, fake)} {
				again, err := b.Send(ctx, to, m)
				if err != nil || again != first {
					t.Errorf("again: %s, %v; want %s", again, err, first)
				}
			}
		})
	}
	count := 0
	for _, msgs := range [][]slackfake.Message{fake.Messages("general", ""), fake.Messages("general", string(root)), fake.DMs("alice")} {
		count += len(msgs)
	}
	if count != 4 {
		t.Errorf("%d messages, want 4 (root and one per place)", count)
	}
}

func TestSendRateLimited(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	ctx := context.Background()
	fake.RateLimit("chat.postMessage", 1, time.Second)
	start := time.Now()
	if _, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "after the wait"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("sent after %v, before Retry-After", d)
	}
	if n := fake.CallCount("chat.postMessage"); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}

	// Too long to wait: an error the outbox retries.
	fake.RateLimit("chat.postMessage", 1, 30*time.Second)
	start = time.Now()
	_, err := a.Send(ctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "later"})
	if slackCode(err) != "ratelimited" || errors.Is(err, bot.ErrPermanent) {
		t.Errorf("err %v, want a retryable ratelimited", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}

	// A context that ends stops the wait.
	fake.RateLimit("chat.postMessage", 1, 3*time.Second)
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := a.Send(cctx, bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: "never"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the context's", err)
	}
	if n := len(fake.Messages("general", "")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestSendPermanent(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []string
		token    string
		to       bot.Place
		m        bot.Message
		code     string // Slack's error, expected by the fake; "refused" for Send's own
		noSuchUs bool
	}{
		{name: "no such channel", to: bot.Place{Channel: "C0NOPE"}, m: bot.Message{Text: "x"}, code: "channel_not_found"},
		{name: "bot not in channel", to: bot.Place{Channel: "C0RANDOM"}, m: bot.Message{Text: "x"}, code: "not_in_channel"},
		{name: "no such user", to: bot.Place{User: "U0NOPE"}, m: bot.Message{Text: "x"}, code: "user_not_found", noSuchUs: true},
		{name: "ephemeral for a user not in the channel", to: bot.Place{Channel: "G0PRIVATE", User: "U0CAROL"}, m: bot.Message{Text: "x", Ephemeral: true}, code: "user_not_in_channel"},
		{name: "bad token", token: "xoxb-wrong", to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: "x"}, code: "invalid_auth"},
		{name: "missing scope", scopes: []string{"commands", "users:read"}, to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: "x"}, code: "missing_scope"},
		{name: "history scope for a keyed send", scopes: []string{"chat:write"}, to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: "x", Key: "k"}, code: "missing_scope"},
		{name: "empty", to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: " "}, code: "refused"},
		{name: "nowhere", m: bot.Message{Text: "x"}, code: "refused"},
		{name: "ephemeral for nobody", to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: "x", Ephemeral: true}, code: "refused"},
		{name: "bad style", to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{Text: "x", Buttons: []bot.Button{{Label: "a", Action: "b", Style: "green"}}}, code: "refused"},
		{name: "empty file", to: bot.Place{Channel: "C0GENERAL"}, m: bot.Message{File: &bot.File{Name: "a"}}, code: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := slackfake.New(t)
			fake.Scopes = tt.scopes
			if tt.code != "refused" {
				fake.Expect(tt.code)
			}
			a := newAdapter(t, fake, func(o *slack.Options) {
				if tt.token != "" {
					o.BotToken = tt.token
				}
			})
			_, err := a.Send(context.Background(), tt.to, tt.m)
			if !errors.Is(err, bot.ErrPermanent) || slackCode(err) != tt.code {
				t.Errorf("err %v (code %q), want permanent %s", err, slackCode(err), tt.code)
			}
			if errors.Is(err, bot.ErrNoSuchUser) != tt.noSuchUs {
				t.Errorf("err %v: ErrNoSuchUser %v, want %v", err, !tt.noSuchUs, tt.noSuchUs)
			}
		})
	}
}

func TestLookupUser(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	tests := []struct {
		mention string
		want    bot.Identity
		expect  string // an error the fake answers on purpose
	}{
		{mention: "<@U0BOB|bob>", want: bob},
		{mention: "<@U0BOB>", want: bob},
		{mention: "@bob", want: bob},
		{mention: "@Bob", want: bob},
		{mention: "bob@example.com", want: bob},
		{mention: "@bob@example.com", want: bob},
		{mention: "<mailto:alice@example.com|alice@example.com>", want: alice},
		{mention: "@U0CAROL", want: carol},
		{mention: "@carol smith", want: carol},
		{mention: "@nobody"},
		{mention: "<@U0NOPE|nope>", expect: "user_not_found"},
		{mention: "nobody@example.com", expect: "users_not_found"},
		{mention: "@gethelp"},
		{mention: "<@U0BOT>"},
		{mention: "@"},
	}
	for _, tt := range tests {
		t.Run(tt.mention, func(t *testing.T) {
			if tt.expect != "" {
				fake.Expect(tt.expect)
			}
			got, err := a.LookupUser(context.Background(), slackfake.TeamID, tt.mention)
			if tt.want.UserID == "" {
				if !errors.Is(err, bot.ErrNoSuchUser) {
					t.Errorf("LookupUser = %+v, %v; want ErrNoSuchUser", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("LookupUser = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestLookupUserWithoutEmailScope: without users:read.email the identity
// has no address, and an address cannot be looked up.
func TestLookupUserWithoutEmailScope(t *testing.T) {
	fake := slackfake.New(t)
	fake.Scopes = []string{"commands", "chat:write", "users:read"}
	a := newAdapter(t, fake)
	got, err := a.LookupUser(context.Background(), "", "<@U0BOB|bob>")
	if want := (bot.Identity{Network: "slack", Workspace: slackfake.TeamID, UserID: "U0BOB", DisplayName: "Bob"}); err != nil || got != want {
		t.Errorf("LookupUser = %+v, %v; want %+v", got, err, want)
	}
	fake.Expect("missing_scope")
	if _, err := a.LookupUser(context.Background(), "", "bob@example.com"); slackCode(err) != "missing_scope" || !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("by address: %v", err)
	}
}

// TestSendEscapes: text is escaped for Slack (& < >), except mentions of
// users and channels, which show as mentions; special mentions
// (<!channel>) are escaped, so that relayed words never notify a channel.
func TestSendEscapes(t *testing.T) {
	fake := slackfake.New(t)
	a := newAdapter(t, fake)
	tests := []struct{ text, want string }{
		{"a & b < c > d", "a &amp; b &lt; c &gt; d"},
		{"ask <@U0BOB|bob> or <@U0ALICE> in <#C0HELPDESK|helpdesk>", "ask <@U0BOB|bob> or <@U0ALICE> in <#C0HELPDESK|helpdesk>"},
		{"hey <!channel> <!here>", "hey &lt;!channel&gt; &lt;!here&gt;"},
		{"<@U0BOB|<b>>", "&lt;@U0BOB|&lt;b&gt;&gt;"},
		{"already &amp; escaped", "already &amp;amp; escaped"},
	}
	for _, tt := range tests {
		for _, buttons := range [][]bot.Button{nil, {{Label: "x", Action: "x"}}} {
			ref, err := a.Send(context.Background(), bot.Place{Channel: "C0GENERAL"}, bot.Message{Text: tt.text, Buttons: buttons})
			if err != nil {
				t.Fatal(err)
			}
			msgs := fake.Messages("general", "")
			m := msgs[len(msgs)-1]
			if m.TS != string(ref) || m.Text != tt.want {
				t.Errorf("%q: text %q, want %q", tt.text, m.Text, tt.want)
			}
			if buttons != nil && !strings.Contains(string(m.Blocks), jsonString(tt.want)) {
				t.Errorf("%q: blocks %s, want the text %q", tt.text, m.Blocks, tt.want)
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func TestOptionsLogValue(t *testing.T) {
	var b strings.Builder
	logger := slog.New(slog.NewTextHandler(&b, nil))
	logger.Info("config", "slack", slack.Options{BotToken: "xoxb-secret", AppToken: "xapp-secret", SigningSecret: "shh", APIURL: "https://slack.com/api/"})
	if s := b.String(); strings.Contains(s, "xoxb-") || strings.Contains(s, "xapp-") || strings.Contains(s, "shh") || !strings.Contains(s, "slack.bot_token=(set)") {
		t.Errorf("logged %s", s)
	}
}
