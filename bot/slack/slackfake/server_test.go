package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/slack-go/slack"
	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recTB records Errorf instead of failing, to test the fake's strictness.
type recTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recTB) Helper() {}

func (r *recTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, strings.TrimSpace(strings.ReplaceAll(format, "%s", ""))+" "+strings.TrimSpace(strings.Join(strs(args), " ")))
}

func (r *recTB) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func strs(args []any) []string {
	var out []string
	for _, a := range args {
		if s, ok := a.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// strict returns a fake that reports to a recorder, closed with the test.
func strict(t *testing.T) (*slackfake.Server, *recTB) {
	rec := &recTB{TB: t}
	fake := &slackfake.Server{T: rec}
	t.Cleanup(fake.Close)
	return fake, rec
}

// post calls a method with form values and returns the decoded answer.
func post(t *testing.T, fake *slackfake.Server, method string, v url.Values, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fake.URL()+method, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestStrict: requests Slack would refuse get Slack's error and are
// failures of the test.
func TestStrict(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		method string
		values url.Values
		bearer string
		code   string
		needed string
	}{
		{name: "no token", method: "chat.postMessage", values: url.Values{"channel": {"C0GENERAL"}, "text": {"x"}}, code: "not_authed"},
		{name: "unknown token", method: "chat.postMessage", values: url.Values{"token": {"xoxb-nope"}, "channel": {"C0GENERAL"}, "text": {"x"}}, code: "invalid_auth"},
		{name: "app token for a bot method", method: "chat.postMessage", values: url.Values{"token": {slackfake.AppToken}, "channel": {"C0GENERAL"}, "text": {"x"}}, code: "not_allowed_token_type"},
		{name: "bot token for Socket Mode", method: "apps.connections.open", bearer: slackfake.BotToken, code: "not_allowed_token_type"},
		{name: "missing scope", scopes: []string{"users:read"}, method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}, "text": {"x"}}, code: "missing_scope", needed: "chat:write"},
		{name: "history scope by channel kind", scopes: []string{"channels:history"}, method: "conversations.history", values: url.Values{"token": {slackfake.BotToken}, "channel": {"G0PRIVATE"}}, code: "missing_scope", needed: "groups:history"},
		{name: "no text", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}}, code: "no_text"},
		{name: "unknown channel", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0NOPE"}, "text": {"x"}}, code: "channel_not_found"},
		{name: "bot not in channel", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0RANDOM"}, "text": {"x"}}, code: "not_in_channel"},
		{name: "unknown thread", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}, "text": {"x"}, "thread_ts": {"1.000001"}}, code: "thread_not_found"},
		{name: "duplicate action ids", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}, "blocks": {`[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"a"},"action_id":"x"},{"type":"button","text":{"type":"plain_text","text":"b"},"action_id":"x"}]}]`}}, code: "invalid_blocks"},
		{name: "section too long", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}, "blocks": {`[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 3001) + `"}}]`}}, code: "invalid_blocks"},
		{name: "bad metadata", method: "chat.postMessage", values: url.Values{"token": {slackfake.BotToken}, "channel": {"C0GENERAL"}, "text": {"x"}, "metadata": {`{"event_payload":{}}`}}, code: "invalid_metadata_format"},
		{name: "ephemeral for a non-member", method: "chat.postEphemeral", values: url.Values{"token": {slackfake.BotToken}, "channel": {"G0PRIVATE"}, "user": {"U0CAROL"}, "text": {"x"}}, code: "user_not_in_channel"},
		{name: "unknown user", method: "users.info", values: url.Values{"token": {slackfake.BotToken}, "user": {"U0NOPE"}}, code: "user_not_found"},
		{name: "unknown address", method: "users.lookupByEmail", values: url.Values{"token": {slackfake.BotToken}, "email": {"x@example.com"}}, code: "users_not_found"},
		{name: "DM without users", method: "conversations.open", values: url.Values{"token": {slackfake.BotToken}}, code: "users_list_not_supplied"},
		{name: "upload of no length", method: "files.getUploadURLExternal", values: url.Values{"token": {slackfake.BotToken}, "filename": {"a"}, "length": {"0"}}, code: "invalid_arguments"},
		{name: "complete an unknown file", method: "files.completeUploadExternal", values: url.Values{"token": {slackfake.BotToken}, "files": {`[{"id":"F0NOPE"}]`}, "channel_id": {"C0GENERAL"}}, code: "file_not_found"},
		{name: "unknown method", method: "chat.postMessages", values: url.Values{"token": {slackfake.BotToken}}, code: "unknown_method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, rec := strict(t)
			fake.Scopes = tt.scopes
			status, out := post(t, fake, tt.method, tt.values, tt.bearer)
			if status != 200 || out["ok"] != false || out["error"] != tt.code {
				t.Errorf("answer %d %v, want error %s", status, out, tt.code)
			}
			if tt.needed != "" && out["needed"] != tt.needed {
				t.Errorf("needed %v, want %s", out["needed"], tt.needed)
			}
			if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], tt.code) {
				t.Errorf("failures %q", f)
			}
		})
	}
}

// TestExpect: an expected error is no failure; an expectation never met
// is one.
func TestExpect(t *testing.T) {
	fake, rec := strict(t)
	fake.Expect("channel_not_found")
	fake.Expect("user_not_found")
	api := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.URL()))
	_, _, err := api.PostMessage("C0NOPE", slack.MsgOptionText("x", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "channel_not_found" {
		t.Errorf("err %v", err)
	}
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("failures %q", f)
	}
	fake.Close()
	if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], "user_not_found") {
		t.Errorf("failures %q", f)
	}
}

// TestTimestamps: messages posted within one microsecond of the clock
// still get unique, increasing ts; history pages and shows metadata only
// when asked.
func TestTimestamps(t *testing.T) {
	fake, rec := strict(t)
	fake.Now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	api := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.URL()))
	var last string
	for i := range 5 {
		_, ts, err := api.PostMessage("C0GENERAL", slack.MsgOptionText("x", false),
			slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "t", EventPayload: map[string]any{"i": i}}))
		if err != nil {
			t.Fatal(err)
		}
		if ts <= last || !strings.HasPrefix(ts, "1800000000.") || len(ts) != len("1800000000.000001") {
			t.Errorf("ts %s after %s", ts, last)
		}
		last = ts
	}
	r, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0GENERAL", Limit: 2})
	if err != nil || len(r.Messages) != 2 || !r.HasMore || r.Messages[0].Timestamp != last || r.Messages[0].Metadata.EventType != "" {
		t.Fatalf("history %+v, %v", r, err)
	}
	r, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0GENERAL", Limit: 2, Cursor: r.ResponseMetaData.NextCursor, IncludeAllMetadata: true})
	if err != nil || len(r.Messages) != 2 || r.Messages[0].Metadata.EventPayload["i"] != float64(2) {
		t.Fatalf("history %+v, %v", r, err)
	}
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("failures %q", f)
	}
}

// TestRateLimit: 429 with Retry-After, then the call goes through.
func TestRateLimit(t *testing.T) {
	fake, _ := strict(t)
	fake.RateLimit("users.info", 1, 2*time.Second)
	api := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.URL()))
	_, err := api.GetUserInfo("U0ALICE")
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("err %v", err)
	}
	if u, err := api.GetUserInfo("U0ALICE"); err != nil || u.Profile.Email != "alice@example.com" {
		t.Fatalf("user %+v, %v", u, err)
	}
}

// TestSocketModeUnacked: an envelope not acknowledged in time is a
// failure; hello and pings come as Slack sends them.
func TestSocketModeUnacked(t *testing.T) {
	fake, rec := strict(t)
	fake.AckTimeout = 200 * time.Millisecond
	fake.PingInterval = 50 * time.Millisecond
	api := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.URL()), slack.OptionAppLevelToken(slackfake.AppToken))
	_, u, err := api.StartSocketModeContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, hello, err := c.Read(ctx)
	if err != nil || !strings.Contains(string(hello), `"type":"hello"`) {
		t.Fatalf("hello %s, %v", hello, err)
	}
	// Read (and answer pings) without acknowledging anything.
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	if fake.Event(map[string]any{"type": "message", "channel": "C0GENERAL", "user": "U0ALICE", "ts": "1.000001", "text": "x"}) {
		t.Error("an ack that never came")
	}
	if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], "not acknowledged") {
		t.Errorf("failures %q", f)
	}
	// The ticket is used: a second connection with it is refused.
	if _, _, err := websocket.Dial(ctx, u, nil); err == nil {
		t.Error("a second connection with a used ticket")
	}
	cancel()
}
