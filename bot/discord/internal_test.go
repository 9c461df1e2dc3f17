package discord

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gethelp/gethelp/bot"
)

// FuzzDecodeEvent feeds the gateway decoding whatever the gateway could
// send: it must never panic, and what it accepts must be safe to use (ids
// that go into URLs are snowflakes, tokens are URL-safe).
func FuzzDecodeEvent(f *testing.F) {
	for _, seed := range []struct{ typ, raw string }{
		{"READY", `{"v":10,"user":{"id":"900000000000000001","username":"gethelp","bot":true},"session_id":"abc","application":{"id":"900000000000000001"}}`},
		{"INTERACTION_CREATE", `{"id":"1","application_id":"2","type":2,"token":"tok-1","guild_id":"3","channel_id":"4","channel":{"id":"4","type":11,"parent_id":"5"},"member":{"user":{"id":"6","username":"alice","global_name":"Alice"},"nick":"Ali"},"data":{"name":"gethelp","type":1,"options":[{"name":"text","type":3,"value":"link K7PM"},{"name":"helper","type":6,"value":"7"}]}}`},
		{"INTERACTION_CREATE", `{"id":"1","application_id":"2","type":3,"token":"t","channel_id":"4","user":{"id":"6","username":"bob"},"message":{"id":"8"},"data":{"custom_id":"take:T1","component_type":2}}`},
		{"INTERACTION_CREATE", `{"id":"1","application_id":"2","type":1,"token":"t","channel_id":"4","user":{"id":"6"}}`},
		{"MESSAGE_CREATE", `{"id":"1","channel_id":"2","guild_id":"3","type":0,"author":{"id":"4","username":"alice"},"member":{"nick":"Ali"},"content":"hello","attachments":[{"filename":"a.png","url":"https://cdn/a.png"}]}`},
		{"MESSAGE_CREATE", `{"id":"1","channel_id":"2","author":{"id":"4","bot":true},"content":"dm","webhook_id":"9"}`},
		{"GUILD_CREATE", `{"id":"1","channels":[{"id":"2","type":0}],"threads":[{"id":"3","type":11,"parent_id":"2"}]}`},
		{"THREAD_CREATE", `{"id":"3","type":11,"guild_id":"1","parent_id":"2","newly_created":true}`},
		{"THREAD_LIST_SYNC", `{"guild_id":"1","threads":[{"id":"3","type":12,"parent_id":"2"}]}`},
		{"THREAD_DELETE", `{"id":"3","type":11}`},
		{"MESSAGE_CREATE", `null`},
		{"INTERACTION_CREATE", `{"id":"1","application_id":"2","type":2,"token":"../x","channel_id":"4","user":{"id":"6"},"data":{}}`},
		{"GUILD_CREATE", `[]`},
		{"TYPING_START", `{}`},
	} {
		f.Add(seed.typ, []byte(seed.raw))
	}
	f.Fuzz(func(t *testing.T, typ string, raw []byte) {
		ev, err := decodeEvent(typ, raw)
		if err != nil {
			return
		}
		checkIDs := func(what string, ids ...string) {
			for _, id := range ids {
				if id != "" && !snowflake(id) {
					t.Fatalf("%s: %q is not a snowflake", what, id)
				}
			}
		}
		n := 0
		if r := ev.ready; r != nil {
			n++
			if !snowflake(r.botID) {
				t.Fatalf("ready without a bot id: %+v", r)
			}
			checkIDs("ready", r.appID)
		}
		if it := ev.interaction; it != nil {
			n++
			if !snowflake(it.id) || !snowflake(it.appID) || !snowflake(it.channel) || !snowflake(it.from.id) || !interactionToken(it.token) {
				t.Fatalf("interaction %+v", it)
			}
			checkIDs("interaction", it.guild, it.messageID)
			if it.kind != interactionCommand && it.kind != interactionComponent {
				t.Fatalf("interaction of kind %d", it.kind)
			}
			if it.channelInfo != nil && it.channelInfo.thread() && !snowflake(it.channelInfo.parent) {
				t.Fatalf("a thread without a parent: %+v", it.channelInfo)
			}
			_ = commandText(it)
			_ = goodOptions(it)
			_ = identity(it.guild, it.from)
		}
		if m := ev.message; m != nil {
			n++
			if !snowflake(m.id) || !snowflake(m.channel) || !snowflake(m.author.id) {
				t.Fatalf("message %+v", m)
			}
			checkIDs("message", m.guild)
		}
		for _, c := range ev.channels {
			checkIDs("channel", c.id, c.guild, c.parent)
			if c.id == "" || c.thread() && c.parent == "" {
				t.Fatalf("channel %+v", c)
			}
		}
		checkIDs("gone", ev.gone...)
		if n > 1 {
			t.Fatalf("an event of %d kinds", n)
		}
	})
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"short", "hello", 10, []string{"hello"}},
		{"empty", "", 10, []string{""}},
		{"at a line", "aaaa\nbbbb\ncc", 10, []string{"aaaa\nbbbb", "cc"}},
		{"at a space", "aaaa bbbb cc", 10, []string{"aaaa bbbb", "cc"}},
		{"no break", "aaaaaaaaaaaaaaa", 10, []string{"aaaaaaaaaa", "aaaaa"}},
		{"runes", strings.Repeat("é", 15), 10, []string{strings.Repeat("é", 10), strings.Repeat("é", 5)}},
	} {
		got := split(tc.text, tc.max)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		for _, p := range got {
			if utf8.RuneCountInString(p) > tc.max || !utf8.ValidString(p) {
				t.Errorf("%s: part %q", tc.name, p)
			}
		}
	}
}

func TestNonce(t *testing.T) {
	a, b := nonce("ticket/1/root", 0), nonce("ticket/1/root", 1)
	if len(a) != 25 || len(b) != 25 || a == b || a != nonce("ticket/1/root", 0) || a == nonce("ticket/2/root", 0) {
		t.Errorf("nonces %q %q", a, b)
	}
}

func TestAPIErrorPermanent(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{400, true}, {401, false}, {403, true}, {404, true}, {408, false}, {413, true},
		{429, false}, {500, false}, {502, false}, {503, false},
	} {
		err := error(&apiError{op: "x", status: tc.status, code: 1})
		if errors.Is(err, bot.ErrPermanent) != tc.permanent {
			t.Errorf("HTTP %d: permanent %v", tc.status, !tc.permanent)
		}
	}
	err := error(&apiError{op: "x", status: 404, code: codeUnknownUser, also: bot.ErrNoSuchUser})
	if !errors.Is(err, bot.ErrNoSuchUser) || !errors.Is(err, bot.ErrPermanent) || !strings.Contains(err.Error(), "10013") {
		t.Errorf("%v", err)
	}
}

func TestMentionID(t *testing.T) {
	for in, want := range map[string]string{
		"<@123>": "123", "<@!123>": "123", " 123 ": "123", "@bob": "", "<@&123>": "", "<#123>": "", "<@>": "", "": "",
		"<@123456789012345678901>": "",
	} {
		if got := mentionID(in); got != want {
			t.Errorf("mentionID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBounded(t *testing.T) {
	b := newBounded[int, int](3)
	for i := range 10 {
		b.put(i, i)
		if i%2 == 0 {
			b.delete(i)
		}
	}
	if len(b.m) > 3 || len(b.order) > 6 {
		t.Errorf("%d entries, %d in order", len(b.m), len(b.order))
	}
	if v, ok := b.get(9); !ok || v != 9 {
		t.Errorf("the newest entry is gone")
	}
}

func TestThreadName(t *testing.T) {
	for in, want := range map[string]string{
		"Alice asked for help\nmore": "Alice asked for help",
		"  ":                         "gethelp",
		strings.Repeat("x", 120):     strings.Repeat("x", 99) + "…",
	} {
		if got := threadName(in); got != want {
			t.Errorf("threadName(%q) = %q", in, got)
		}
	}
}
