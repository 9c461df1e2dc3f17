package slack_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/slack"
	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

// FuzzEvents sends signed bodies to the three paths of the Events API
// handler (path picks one: events, commands, interactive): whatever the
// body, the handler answers without panicking, 200 for what it drops and
// 503 for what it would queue (no Run receives here). The seed corpus is
// testdata/fuzz/FuzzEvents.
func FuzzEvents(f *testing.F) {
	a, err := slack.New(slack.Options{
		APIURL: "http://127.0.0.1:1/api/", BotToken: slackfake.BotToken,
		Mode: slack.ModeHTTP, SigningSecret: slackfake.SigningSecret,
	})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	paths := []struct{ path, contentType string }{
		{"/slack/events", "application/json"},
		{"/slack/commands", "application/x-www-form-urlencoded"},
		{"/slack/interactive", "application/x-www-form-urlencoded"},
	}
	f.Add(uint8(0), []byte(`{"type":"url_verification","challenge":"c"}`))
	f.Fuzz(func(t *testing.T, path uint8, body []byte) {
		p := paths[int(path)%len(paths)]
		req, err := slackfake.SignedRequest("http://bot.example"+p.path, p.contentType, slackfake.SigningSecret, time.Now(), body)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusServiceUnavailable, http.StatusRequestEntityTooLarge:
		default:
			t.Errorf("%s %q: status %d", p.path, body, rec.Code)
		}
	})
}
