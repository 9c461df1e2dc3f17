package webchat_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/webchat"
)

var update = flag.Bool("update", false, "rewrite testdata/state-v1.jsonl")

// listenWithoutReuse, where set, listens on addr like net.Listen but
// without SO_REUSEADDR.
var listenWithoutReuse func(addr string) (net.Listener, error)

// newServer starts a Server with opts, closed when the test ends (a Close
// before is fine).
func newServer(t testing.TB, opts webchat.Options) *webchat.Server {
	t.Helper()
	s, err := webchat.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runCore runs core on s until stop is called, which returns once Run
// has.
func runCore(t *testing.T, s *webchat.Server, core *bottest.Core) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, core) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func sendTo(t testing.TB, s *webchat.Server, to bot.Place, m bot.Message) string {
	t.Helper()
	ref, err := s.Send(context.Background(), to, m)
	if err != nil {
		t.Fatalf("Send(%+v, %q): %v", to, m.Text, err)
	}
	return string(ref)
}

// idNumber returns the number in an id: 12 for "m000012".
func idNumber(t testing.TB, id string) int {
	t.Helper()
	n, err := strconv.Atoi(id[1:])
	if err != nil {
		t.Fatalf("id %q: %v", id, err)
	}
	return n
}

// everything returns all that alice and bob see, by where they look: the
// channels, their direct messages and every thread.
func everything(t *testing.T, s *webchat.Server) map[string][]webchat.Message {
	t.Helper()
	out := make(map[string][]webchat.Message)
	for _, u := range []string{"alice", "bob"} {
		for _, ch := range []string{"general", "helpdesk", ""} {
			msgs, err := s.Messages(u, ch, "")
			if err != nil {
				t.Fatal(err)
			}
			out[u+" #"+ch] = msgs
			for _, m := range msgs {
				if m.Replies == 0 {
					continue
				}
				thread, err := s.Messages(u, ch, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				out[u+" #"+ch+" "+m.ID] = thread
			}
		}
	}
	return out
}

func count(all map[string][]webchat.Message) int {
	ids := make(map[string]bool)
	for _, msgs := range all {
		for _, m := range msgs {
			ids[m.ID] = true
		}
	}
	return len(ids)
}

// TestStateRestart fills a chat with a state file, closes it, and opens the
// file again: everything is there, keys are remembered and ids go on.
func TestStateRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.state")
	clock := time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC)
	opts := webchat.Options{StateFile: path, Token: "00112233445566778899aabbccddeeff", Now: func() time.Time { return clock }}
	s1 := newServer(t, opts)
	if !strings.HasSuffix(s1.URL(), "/?t=00112233445566778899aabbccddeeff") {
		t.Errorf("URL %s without Options.Token", s1.URL())
	}
	core1 := new(bottest.Core)
	stop1 := runCore(t, s1, core1)
	ctx := context.Background()

	inv := bytes.Repeat([]byte{0, 1, 0xfe, 0xff, '\n', '"'}, 600) // 3.6 KiB, not text
	root := sendTo(t, s1, bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Ticket 7", Key: "ticket-7/root",
		Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "7", Style: "primary"}}})
	keyed := []struct {
		to bot.Place
		m  bot.Message
	}{
		{bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Ticket 7", Key: "ticket-7/root",
			Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "7", Style: "primary"}}}},
		{bot.Place{Channel: "helpdesk", Thread: root}, bot.Message{Text: "Bob took it", Key: "ticket-7/took"}},
		{bot.Place{User: "bob"}, bot.Message{Text: "Your invitation", Key: "ticket-7/invitation",
			File: &bot.File{Name: "Alice’s invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: inv}}},
		{bot.Place{Channel: "general", User: "alice"}, bot.Message{Text: "Only for Alice", Ephemeral: true, Key: "ticket-7/eph"}},
		{bot.Place{Channel: "helpdesk", Thread: root, User: "bob"}, bot.Message{Text: "Only for Bob, in the thread", Ephemeral: true, Key: "ticket-7/eph-thread"}},
	}
	ids := make([]string, len(keyed))
	for i, k := range keyed {
		ids[i] = sendTo(t, s1, k.to, k.m)
	}
	if ids[0] != root {
		t.Fatalf("the root again: %s, want %s", ids[0], root)
	}
	sendTo(t, s1, bot.Place{Channel: "general"}, bot.Message{Text: "No key"})
	post, err := s1.Post(ctx, webchat.Typed{User: "alice", Channel: "helpdesk", Thread: root, Text: "Thanks Bob"})
	if err != nil {
		t.Fatal(err)
	}
	bottest.Wait(t, core1, "the post", func(p bot.Post) bool { return string(p.ID) == post })
	if _, err := s1.Command(ctx, webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp printer"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Press(ctx, webchat.Pressed{User: "bob", Message: root, Action: "take", Value: "7"}); err != nil {
		t.Fatal(err)
	}
	press := bottest.Wait(t, core1, "the press", func(bot.Press) bool { return true })
	if err := s1.AddMail(webchat.Mail{ID: "<7@gethelp.example>", From: "gethelp <bot@gethelp.example>", To: "bob@example.com",
		Subject: "Alice asks for your help", Text: "Open the attachment.", HTML: "<p>Open the <b>attachment</b>.</p>",
		Attachments: []webchat.Attachment{{Name: "invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: inv}}}); err != nil {
		t.Fatal(err)
	}
	if err := s1.AddMail(webchat.Mail{Subject: "No id", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	before, mailBefore := everything(t, s1), s1.Mail()
	stop1()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := newServer(t, opts)
	if !strings.HasSuffix(s2.URL(), "/?t=00112233445566778899aabbccddeeff") {
		t.Errorf("URL %s", s2.URL())
	}
	after := everything(t, s2)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after the restart:\n%+v\nbefore:\n%+v", after, before)
	}
	if got := s2.Mail(); !reflect.DeepEqual(got, mailBefore) {
		t.Errorf("mail after the restart:\n%+v\nbefore:\n%+v", got, mailBefore)
	}
	msgs, _ := s2.Messages("bob", "", "")
	if f := msgs[0].File; f == nil || f.Size != len(inv) {
		t.Errorf("the file: %+v", f)
	}

	// The same keys: the same ids, nothing posted.
	for i, k := range keyed {
		if id := sendTo(t, s2, k.to, k.m); id != ids[i] {
			t.Errorf("%s sent again: %s, want %s", k.m.Key, id, ids[i])
		}
	}
	if again := everything(t, s2); !reflect.DeepEqual(again, before) {
		t.Errorf("sending again posted: %d messages, want %d", count(again), count(before))
	}

	// New ids are larger than every old one: messages', commands' and
	// presses'.
	last := idNumber(t, press.ID)
	for _, msgs := range before {
		for _, m := range msgs {
			last = max(last, idNumber(t, m.ID))
		}
	}
	if id := sendTo(t, s2, bot.Place{Channel: "general"}, bot.Message{Text: "After the restart"}); idNumber(t, id) <= last {
		t.Errorf("a new message %s, not after %d", id, last)
	}
	core2 := new(bottest.Core)
	runCore(t, s2, core2)
	if _, err := s2.Command(ctx, webchat.Typed{User: "bob", Text: "/gethelp status"}); err != nil {
		t.Fatal(err)
	}
	cmd := bottest.Wait(t, core2, "the command", func(bot.Command) bool { return true })
	if idNumber(t, cmd.ID) <= last {
		t.Errorf("a new command %s, not after %d", cmd.ID, last)
	}
	for _, p := range core2.Posts() {
		t.Errorf("%s delivered again, though Handler.Post returned before the restart", p.ID)
	}
}

// TestStateRedeliversPosts: what users posted is handed to Handler.Post
// after a restart until a Handler.Post has returned.
func TestStateRedeliversPosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.state")
	ctx := context.Background()
	s1 := newServer(t, webchat.Options{StateFile: path})
	inChannel, err := s1.Post(ctx, webchat.Typed{User: "bob", Channel: "general", Text: "Anyone?"})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := s1.Post(ctx, webchat.Typed{User: "Alice", Text: "hello bot"})
	if err != nil {
		t.Fatal(err)
	}
	s1.Close() // no Run received them

	s2 := newServer(t, webchat.Options{StateFile: path})
	core2 := new(bottest.Core)
	stop2 := runCore(t, s2, core2)
	p := bottest.Wait(t, core2, "the post in #general", func(p bot.Post) bool { return string(p.ID) == inChannel })
	if p.From != bob || p.Text != "Anyone?" || p.At != (bot.Place{Workspace: "demo", Channel: "general"}) {
		t.Errorf("%+v", p)
	}
	p = bottest.Wait(t, core2, "the direct message", func(p bot.Post) bool { return string(p.ID) == direct })
	if p.From != alice || p.Text != "hello bot" || p.At != (bot.Place{Workspace: "demo", User: "alice"}) {
		t.Errorf("%+v", p)
	}
	stop2() // Run returns after the Post it is in, delivered
	s2.Close()

	s3 := newServer(t, webchat.Options{StateFile: path})
	core3 := new(bottest.Core)
	runCore(t, s3, core3)
	if _, err := s3.Command(ctx, webchat.Typed{User: "bob", Text: "/gethelp"}); err != nil {
		t.Fatal(err) // queued after any post handed again
	}
	if calls := core3.Calls(); len(calls) != 1 {
		t.Errorf("calls after the second restart: %+v", calls)
	}
}

// validState returns the lines of a state file with a few messages in it.
func validState(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "valid.state")
	s := newServer(t, webchat.Options{StateFile: path})
	root := sendTo(t, s, bot.Place{Channel: "helpdesk"}, bot.Message{Text: "root", Key: "k1"})
	sendTo(t, s, bot.Place{Channel: "helpdesk", Thread: root}, bot.Message{Text: "reply", Key: "k2"})
	sendTo(t, s, bot.Place{User: "bob"}, bot.Message{Text: "dm"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:4] // the header and three messages; SplitAfter leaves "" last
}

func TestStateCorrupt(t *testing.T) {
	lines := validState(t)
	header, root, reply, dm := lines[0], lines[1], lines[2], lines[3]
	tests := []struct {
		name    string
		content string
		opts    webchat.Options
		corrupt bool   // errors.Is ErrCorruptState
		says    string // in the error
	}{
		{"garbage in the middle", header + root + "}{not json\n" + reply, webchat.Options{}, true, "line 3: invalid character"},
		{"a line cut short in the middle", header + root[:20] + "\n" + reply, webchat.Options{}, true, "line 2:"},
		{"an empty line", header + "\n" + root, webchat.Options{}, true, "line 2:"},
		{"not a state file", "hello, world\n", webchat.Options{}, true, "not a webchat state file"},
		{"not a state file, no newline", "hello, world", webchat.Options{}, true, "not a webchat state file"},
		{"a JSON file", `{"name":"x"}` + "\n", webchat.Options{}, true, "not a webchat state file"},
		{"a header twice", header + header, webchat.Options{}, true, "line 2: not one change"},
		{"a newer version", strings.Replace(header, `"webchat_state":1`, `"webchat_state":2`, 1) + root, webchat.Options{}, true, "version 2"},
		{"two changes on a line", header + `{"seq":1,"delivered":"m000001"}` + "\n" + root, webchat.Options{}, true, "line 2: not one change"},
		{"an unknown field", header + `{"seq":1,"colour":"red"}` + "\n" + root, webchat.Options{}, true, `line 2: json: unknown field "colour"`},
		{"a message twice", header + root + root, webchat.Options{}, true, `line 3: message id "m000001" after id 1`},
		{"a reply before its root", header + reply + root, webchat.Options{}, true, "line 2: message m000002 answers m000001"},
		{"delivered, never posted", header + root + `{"delivered":"m000001"}` + "\n" + dm, webchat.Options{}, true, "no user posted it"},
		{"another workspace", header + root, webchat.Options{Workspace: "acme"}, false, `workspace "demo"'s, not "acme"'s`},
		{"a channel gone", header + root, webchat.Options{Channels: []string{"general"}}, false, "line 2: message m000001 is in #helpdesk, which is not in Options.Channels"},
		{"a user gone", header + dm, webchat.Options{Users: []webchat.User{{ID: "alice"}}}, false, `line 2: message m000003 is to "bob", who is not in Options.Users`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chat.state")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			tt.opts.StateFile = path
			s, err := webchat.New(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if errors.Is(err, webchat.ErrCorruptState) != tt.corrupt {
				t.Errorf("errors.Is(%v, ErrCorruptState) = %v", err, !tt.corrupt)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.says) || !strings.Contains(msg, path) || strings.Contains(msg, "\n") {
				t.Errorf("%q: not one line that names the file and says %q", msg, tt.says)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Errorf("the file changed:\n%s", b)
			}
		})
	}
}

// TestStateTornWrite: a crash while the last line was written leaves it
// torn; that line is dropped (its call never returned) and cut off, so
// that what is appended next reads well.
func TestStateTornWrite(t *testing.T) {
	lines := validState(t)
	good := strings.Join(lines, "")
	next := `{"msg":{"id":"m000004","channel":"general","author":"bot","text":"torn","time":"2026-03-02T09:41:00Z"}}` + "\n"
	for _, tt := range []struct {
		name string
		tail string
	}{
		{"cut short", next[:40]},
		{"all but the newline", next[:len(next)-1]},
		{"zeros, as after a power cut", "\x00\x00\x00\x00"},
		{"zeros and a newline", next[:30] + "\x00\x00\x00\x00\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chat.state")
			if err := os.WriteFile(path, []byte(good+tt.tail), 0o600); err != nil {
				t.Fatal(err)
			}
			s := newServer(t, webchat.Options{StateFile: path})
			if b, _ := os.ReadFile(path); string(b) != good {
				t.Errorf("the torn line is still there:\n%q", b)
			}
			id := sendTo(t, s, bot.Place{Channel: "general"}, bot.Message{Text: "after"})
			if id != "m000004" {
				t.Errorf("id %s, want m000004", id)
			}
			s.Close()
			s = newServer(t, webchat.Options{StateFile: path})
			msgs, err := s.Messages("alice", "general", "")
			if err != nil || len(msgs) != 1 || msgs[0].Text != "after" {
				t.Errorf("#general after a second restart: %+v %v", msgs, err)
			}
			if id := sendTo(t, s, bot.Place{Channel: "helpdesk"}, bot.Message{Text: "root", Key: "k1"}); id != "m000001" {
				t.Errorf("key k1: %s", id)
			}
		})
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("an empty file is started", func(t *testing.T) {
		path := filepath.Join(dir, "empty")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		s := newServer(t, webchat.Options{StateFile: path})
		sendTo(t, s, bot.Place{Channel: "general"}, bot.Message{Text: "x"})
		s.Close()
		b, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(b), `{"webchat_state":1,"workspace":"demo"}`+"\n") {
			t.Errorf("%q", b)
		}
	})
	t.Run("a new file is private", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no Unix permissions")
		}
		path := filepath.Join(dir, "new")
		newServer(t, webchat.Options{StateFile: path}).Close()
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%v %v", fi.Mode(), err)
		}
	})
	t.Run("no directory", func(t *testing.T) {
		_, err := webchat.New(webchat.Options{StateFile: filepath.Join(dir, "none", "state")})
		if err == nil || !strings.HasPrefix(err.Error(), "webchat: ") {
			t.Errorf("%v", err)
		}
	})
	t.Run("in use", func(t *testing.T) {
		switch runtime.GOOS {
		case "linux", "darwin", "freebsd", "openbsd", "netbsd", "dragonfly":
		default:
			t.Skip("no flock(2)")
		}
		path := filepath.Join(dir, "in-use")
		s := newServer(t, webchat.Options{StateFile: path})
		if _, err := webchat.New(webchat.Options{StateFile: path}); !errors.Is(err, webchat.ErrStateInUse) {
			t.Errorf("a second Server on the file: %v", err)
		}
		s.Close()
		newServer(t, webchat.Options{StateFile: path}).Close()
	})
	t.Run("closed", func(t *testing.T) {
		s := newServer(t, webchat.Options{StateFile: filepath.Join(dir, "closed")})
		s.Close()
		if _, err := s.Send(context.Background(), bot.Place{Channel: "general"}, bot.Message{Text: "x"}); !errors.Is(err, webchat.ErrClosed) {
			t.Errorf("Send: %v", err)
		}
		if _, err := s.Post(context.Background(), webchat.Typed{User: "bob", Channel: "general", Text: "x"}); !errors.Is(err, webchat.ErrClosed) {
			t.Errorf("Post: %v", err)
		}
	})
}

// TestStateGolden writes a state file as the format's golden example,
// testdata/state-v1.jsonl (-update rewrites it), and reads it back.
func TestStateGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.state")
	clock := time.Date(2026, 3, 2, 9, 41, 0, 0, time.UTC)
	opts := webchat.Options{StateFile: path, Now: func() time.Time { return clock }}
	s := newServer(t, opts)
	core := new(bottest.Core)
	stop := runCore(t, s, core)
	ctx := context.Background()
	root := sendTo(t, s, bot.Place{Channel: "helpdesk"}, bot.Message{Text: "Alice asks for help: *printer broken*", Key: "ticket/7/helpdesk",
		Buttons: []bot.Button{{Label: "Take it", Action: "take", Value: "7", Style: "primary"}}})
	sendTo(t, s, bot.Place{Channel: "helpdesk", Thread: root}, bot.Message{Text: "Bob took it.", Key: "ticket/7/took"})
	sendTo(t, s, bot.Place{User: "bob"}, bot.Message{Text: "Your invitation", Key: "ticket/7/invitation",
		File: &bot.File{Name: "invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: []byte("{\"v\":1}\n\x00\xff")}})
	sendTo(t, s, bot.Place{Channel: "general", User: "alice"}, bot.Message{Text: "Only for you", Ephemeral: true, Key: "ticket/7/ephemeral"})
	if _, err := s.Command(ctx, webchat.Typed{User: "alice", Channel: "general", Text: "/gethelp printer broken"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Press(ctx, webchat.Pressed{User: "bob", Message: root, Action: "take", Value: "7"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMail(webchat.Mail{ID: "<7@gethelp.example>", From: "gethelp <bot@gethelp.example>", To: "bob@example.com",
		Subject: "Alice asks for your help", Text: "Open the attachment.", HTML: "<p>Open the <b>attachment</b>.</p>",
		Attachments: []webchat.Attachment{{Name: "invitation.gethelp", ContentType: "application/x-gethelp-invitation", Data: []byte(`{"v":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	post, err := s.Post(ctx, webchat.Typed{User: "bob", Channel: "helpdesk", Thread: root, Text: "On it"})
	if err != nil {
		t.Fatal(err)
	}
	bottest.Wait(t, core, "the post", func(p bot.Post) bool { return string(p.ID) == post })
	stop() // after the post's "delivered"
	s.Close()

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "state-v1.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the state file differs from %s (-update rewrites it):\n%s", golden, got)
	}

	// The golden file reads back.
	copyPath := filepath.Join(t.TempDir(), "golden.state")
	if err := os.WriteFile(copyPath, want, 0o600); err != nil {
		t.Fatal(err)
	}
	s = newServer(t, webchat.Options{StateFile: copyPath})
	thread, err := s.Messages("bob", "helpdesk", "m000001")
	if err != nil || len(thread) != 3 || thread[0].Buttons[0].Style != "primary" || thread[1].Text != "Bob took it." || thread[2].Text != "On it" {
		t.Errorf("the thread: %+v %v", thread, err)
	}
	general, _ := s.Messages("alice", "general", "")
	if len(general) != 2 || general[0].VisibleTo != "alice" || general[1].Command != "/gethelp printer broken" || !general[1].Time.Equal(clock) {
		t.Errorf("#general: %+v", general)
	}
	if mail := s.Mail(); len(mail) != 1 || string(mail[0].Attachments[0].Data) != `{"v":1}` || !mail[0].Date.Equal(clock) {
		t.Errorf("mail: %+v", mail)
	}
	if id := sendTo(t, s, bot.Place{User: "bob"}, bot.Message{Text: "again", Key: "ticket/7/invitation"}); id != "m000003" {
		t.Errorf("the invitation's key: %s", id)
	}
	if id := sendTo(t, s, bot.Place{User: "bob"}, bot.Message{Text: "new"}); id != "m000010" {
		t.Errorf("the next id: %s, want m000010", id)
	}
}

// crashEnv names the state file of TestHelperCrashChild; crashAddr and
// crashToken its Options.Addr and Token.
const (
	crashEnv   = "GETHELP_WEBCHAT_CRASH_STATE"
	crashAddr  = "GETHELP_WEBCHAT_CRASH_ADDR"
	crashToken = "GETHELP_WEBCHAT_CRASH_TOKEN"
)

// TestHelperCrashChild is the process TestStateCrash kills: it sends keyed
// messages, user posts and mail in a loop, printing each id once the call
// that made it has returned.
func TestHelperCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestStateCrash")
	}
	s, err := webchat.New(webchat.Options{StateFile: path, Addr: os.Getenv(crashAddr), Token: os.Getenv(crashToken)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	root := sendTo(t, s, bot.Place{Channel: "helpdesk"}, bot.Message{Text: "root", Key: "root"})
	fmt.Println("ready", s.URL(), root)
	for i, deadline := 0, time.Now().Add(waitTimeout); time.Now().Before(deadline); i++ {
		to, m := crashMessage(i, root)
		if to == nil {
			id, err := s.Post(ctx, webchat.Typed{User: "bob", Channel: "helpdesk", Thread: root, Text: m.Text})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Println("posted", i, id)
		} else {
			fmt.Println("sent", i, sendTo(t, s, *to, m))
		}
		if i%25 == 0 {
			id := fmt.Sprintf("<%d@gethelp.example>", i)
			if err := s.AddMail(webchat.Mail{ID: id, Subject: m.Text, Attachments: []webchat.Attachment{{Name: "a", Data: m.File.Data}}}); err != nil {
				t.Fatal(err)
			}
			fmt.Println("mailed", i, id)
		}
	}
}

// crashMessage returns the ith message of TestHelperCrashChild and where
// it goes; nil for a user's post in the thread of root.
func crashMessage(i int, root string) (*bot.Place, bot.Message) {
	m := bot.Message{Text: fmt.Sprintf("message %d", i), Key: fmt.Sprintf("k%d", i),
		File: &bot.File{Name: "f", Data: bytes.Repeat([]byte{byte(i)}, 512)}}
	switch i % 5 {
	case 0:
		return &bot.Place{Channel: "general"}, m
	case 1:
		return &bot.Place{Channel: "helpdesk", Thread: root}, m
	case 2:
		return &bot.Place{User: "bob"}, m
	case 3:
		m.Ephemeral = true
		return &bot.Place{Channel: "general", User: "alice"}, m
	}
	return nil, m
}

// TestStateCrash kills a process that sends in a loop (kill -9) and
// restarts the chat on its state file and its port at once: every message
// whose id was returned is there, once, every key is remembered, every
// post is delivered, the URL is the same.
func TestStateCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "chat.state")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const token = "0123456789abcdef0123456789abcdef"
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashAddr+"="+addr, crashToken+"="+token)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(waitTimeout, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	client := &http.Client{Transport: &http.Transport{}, Timeout: waitTimeout}
	defer client.CloseIdleConnections()
	var url, root string
	sent := make(map[int]string) // i → id
	var posted, mailed []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) == 3 && f[0] == "ready" {
			url, root = f[1], f[2]
			// An open connection, so that the killed server's port is
			// left in TIME_WAIT: the restart must still bind it.
			resp, err := client.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // read all, so that the connection stays open
			resp.Body.Close()
			continue
		}
		if len(f) != 3 {
			continue // the test framework's
		}
		i, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "sent":
			sent[i] = f[2]
		case "posted":
			posted = append(posted, f[2])
		case "mailed":
			mailed = append(mailed, f[2])
		}
		if len(sent) == 150 {
			cmd.Process.Kill() // SIGKILL; the lines already written are read on
		}
	}
	err = cmd.Wait()
	if len(sent) < 150 {
		t.Fatalf("the child stopped after %d messages: %v\n%s", len(sent), err, stderr.Bytes())
	}
	t.Logf("killed after %d messages, %d posts, %d mails were returned: %v", len(sent), len(posted), len(mailed), err)

	if listenWithoutReuse != nil {
		// The killed server closed first, so its port is held (TIME_WAIT):
		// only SO_REUSEADDR, which Go sets on listeners, lets New bind it.
		if l, err := listenWithoutReuse(addr); err == nil {
			l.Close()
			t.Error("the killed server's port is free even without SO_REUSEADDR: this test no longer checks that a restart can bind it")
		}
	}
	opts := webchat.Options{StateFile: path, Addr: addr, Token: token}
	s := newServer(t, opts) // at once
	if s.URL() != url {
		t.Errorf("URL %s after the restart, want %s", s.URL(), url)
	}
	resp, err := client.Get(url)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the old URL after the restart: %v %v", resp, err)
	}
	if err == nil {
		resp.Body.Close()
	}

	all := everything(t, s)
	byID := make(map[string]webchat.Message)
	texts := make(map[string]int)
	for _, msgs := range all {
		for _, m := range msgs {
			if _, ok := byID[m.ID]; !ok {
				texts[m.Text]++
			}
			byID[m.ID] = m
		}
	}
	for text, n := range texts {
		if n > 1 {
			t.Errorf("%q %d times", text, n)
		}
	}
	last := 0
	for i, id := range sent {
		m, ok := byID[id]
		if !ok {
			t.Errorf("message %d (%s) lost", i, id)
			continue
		}
		if m.Text != fmt.Sprintf("message %d", i) || m.File == nil || m.File.Size != 512 {
			t.Errorf("message %d: %+v", i, m)
		}
		last = max(last, idNumber(t, id))
	}
	n := len(byID)
	for i, id := range sent {
		to, m := crashMessage(i, root)
		if again := sendTo(t, s, *to, m); again != id {
			t.Errorf("key %s: %s, want %s", m.Key, again, id)
		}
	}
	if got := count(everything(t, s)); got != n {
		t.Errorf("sending the keys again posted %d messages", got-n)
	}
	var mailIDs []string
	for _, m := range s.Mail() {
		mailIDs = append(mailIDs, m.ID)
	}
	for _, id := range mailed {
		if !slices.Contains(mailIDs, id) {
			t.Errorf("mail %s lost", id)
		}
	}
	core := new(bottest.Core)
	runCore(t, s, core)
	for _, id := range posted {
		if m, ok := byID[id]; !ok || m.Author != "bob" {
			t.Errorf("post %s: %+v", id, m)
		}
		bottest.Wait(t, core, "post "+id, func(p bot.Post) bool { return string(p.ID) == id })
	}
	if id := sendTo(t, s, bot.Place{Channel: "general"}, bot.Message{Text: "after the crash"}); idNumber(t, id) <= last {
		t.Errorf("new id %s, not after %d", id, last)
	}
}

// BenchmarkSend measures Send in memory and with a state file, where it
// returns once the message is on disk; median-µs is the median latency.
// The state file is in the temporary directory ($TMPDIR).
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name  string
		state bool
	}{{"memory", false}, {"statefile", true}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := webchat.Options{}
			if bc.state {
				opts.StateFile = filepath.Join(b.TempDir(), "chat.state")
			}
			s := newServer(b, opts)
			m := bot.Message{Text: "Bob took ticket 7: printer broken. He will connect to Alice's computer in a moment."}
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				m.Key = "ticket/" + strconv.Itoa(i)
				start := time.Now()
				if _, err := s.Send(context.Background(), bot.Place{Channel: "general"}, m); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "median-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
		})
	}
}
