package slack_test

import (
	"context"
	"errors"
	"net/http"
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
