package slack_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newAdapter returns an Adapter on fake, with Options changed by mod.
func newAdapter(t *testing.T, fake *slackfake.Server, mod ...func(*slack.Options)) *slack.Adapter {
	t.Helper()
	opts := slack.Options{
		APIURL:     fake.URL(),
		BotToken:   slackfake.BotToken,
		AppToken:   slackfake.AppToken,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	for _, f := range mod {
		f(&opts)
	}
	a, err := slack.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { http.DefaultClient.CloseIdleConnections(); opts.HTTPClient.CloseIdleConnections() })
	return a
}

// run runs a.Run with h until the test ends, and checks that it ends well.
func run(t *testing.T, a *slack.Adapter, h bot.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Run did not return after its context ended")
		}
	})
}

// recorder is a bot.Handler that records what it is given.
type recorder struct {
	mu       sync.Mutex
	commands []bot.Command
	presses  []bot.Press
	posts    []bot.Post
	changed  chan struct{}
	// reply answers commands and presses; nil answers "ok: TEXT".
	reply func(text string) string
	// delay is how long each call takes.
	delay time.Duration
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) answer(text string) bot.Reply {
	if r.reply != nil {
		return bot.Reply{Text: r.reply(text)}
	}
	return bot.Reply{Text: "ok: " + text}
}

func (r *recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Command(ctx context.Context, c bot.Command) bot.Reply {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, c)
	r.notify()
	return r.answer(c.Text)
}

func (r *recorder) Button(ctx context.Context, p bot.Press) bot.Reply {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.presses = append(r.presses, p)
	r.notify()
	return r.answer(p.Action + " " + p.Value)
}

func (r *recorder) Post(ctx context.Context, p bot.Post) {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, p)
	r.notify()
}

// waitPosts waits until n posts arrived and returns them.
func (r *recorder) waitPosts(t *testing.T, n int) []bot.Post {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got, ch := append([]bot.Post(nil), r.posts...), r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d posts arrived, want %d: %+v", len(got), n, got)
		}
	}
}

func (r *recorder) snapshot() (commands []bot.Command, presses []bot.Press, posts []bot.Post) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Command(nil), r.commands...), append([]bot.Press(nil), r.presses...), append([]bot.Post(nil), r.posts...)
}

// slackCode returns the Slack error code of err.
func slackCode(err error) string {
	var e *slack.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var (
	alice = bot.Identity{Network: "slack", Workspace: slackfake.TeamID, UserID: "U0ALICE", DisplayName: "Alice", Email: "alice@example.com"}
	bob   = bot.Identity{Network: "slack", Workspace: slackfake.TeamID, UserID: "U0BOB", DisplayName: "Bob", Email: "bob@example.com"}
	carol = bot.Identity{Network: "slack", Workspace: slackfake.TeamID, UserID: "U0CAROL", DisplayName: "Carol Smith"}
)
