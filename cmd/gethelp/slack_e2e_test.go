package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/slack/slackfake"
)

// waitSlack waits until find finds something in the fake's state.
func waitSlack[T any](t *testing.T, what string, find func() (T, bool)) T {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v, ok := find(); ok {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never happened on Slack: %s", what)
	var zero T
	return zero
}

func slackMessage(fake *slackfake.Server, channel, thread, sub string) func() (slackfake.Message, bool) {
	return func() (slackfake.Message, bool) {
		for _, m := range fake.Messages(channel, thread) {
			if strings.Contains(m.Plain(), sub) {
				return m, true
			}
		}
		return slackfake.Message{}, false
	}
}

// The flow of the demo, through Slack: the real gethelp bot with the real
// slack-go client against a wire-level fake of Slack's Web API and Socket
// Mode, the real agent and the real viewer.
func TestBotThroughSlack(t *testing.T) {
	e := newEnv(t)
	tm := startTestMail(t)
	fake := slackfake.New(t)
	e.vars = append(e.vars, "GETHELP_SLACK_BOT_TOKEN="+slackfake.BotToken, "GETHELP_SLACK_APP_TOKEN="+slackfake.AppToken)
	config := e.write("bot.yaml", fmt.Sprintf(`bot:
  database: %s
  agent_listen: "127.0.0.1:0"
  admin_listen: "off"
  email:
    from: "gethelp <gethelp@bot.test>"
    smtp: {addr: %q, security: none}
  slack:
    api_url: %s
`, e.path("bot.db"), tm.addr, fake.URL()))
	_, ready := e.startBot(config)
	if !fake.WaitConnections(1, 20*time.Second) {
		t.Fatal("the bot never opened Socket Mode")
	}

	ag := e.start("host", "agent", "--json", "--bot", str(ready, "agent_addr"), "--bot-pin", str(ready, "bot_pin"),
		"--source", "synthetic", "--listen", "127.0.0.1:0", "--name", "Alice's laptop")
	code := str(ag.next("link_code"), "code")
	if r := fake.SlashCommand("alice", "general", "link "+code); !strings.HasPrefix(r, "Linked") {
		t.Fatalf("link: %q", r)
	}
	ag.next("linked")

	if r := fake.SlashCommand("alice", "general", "@bob the printer is offline"); !strings.Contains(r, "consent") {
		t.Fatalf("request: %q", r)
	}
	ask := ag.next("consent_request")
	if h, _ := ask["helper"].(map[string]any); str(h, "user_id") != "U0BOB" || str(h, "email") != "bob@example.com" || str(h, "workspace") != slackfake.TeamID {
		t.Fatalf("the consent request shows the helper as %v", ask["helper"])
	}
	ag.send(map[string]any{"type": "consent", "ticket": str(ask, "ticket"), "accept": true})

	invMail := tm.waitFor(t, func(m mailMsg) bool { return strings.Contains(m.To, "bob@example.com") && m.Attachment != nil })
	dm := waitSlack(t, "the password DM", func() (string, bool) {
		for _, m := range fake.DMs("bob") {
			if strings.Contains(m.Plain(), "Password for") {
				return m.Plain(), true
			}
		}
		return "", false
	})
	password := dm[strings.Index(dm, "): ")+3:]
	password = password[:strings.Index(password, "\n")]
	root := waitSlack(t, "the thread", slackMessage(fake, "general", "", "Alice asked Bob for help"))

	file := e.write(invMail.AttachmentName, string(invMail.Attachment))
	v := e.viewer(file, password)
	v.next("connected")
	waitSlack(t, "connected, in the thread", slackMessage(fake, "general", root.TS, "Bob connected"))

	fake.Message("bob", "general", root.TS, "is the spooler running?")
	for {
		ev := v.next("chat")
		if str(ev, "text") == "is the spooler running?" {
			break
		}
	}
	v.send(map[string]any{"type": "chat", "text": "restarting it now"})
	waitSlack(t, "session chat in the thread", slackMessage(fake, "general", root.TS, "restarting it now"))
	if f := fake.Failures(); len(f) > 0 {
		t.Errorf("requests Slack would refuse: %v", f)
	}
}
