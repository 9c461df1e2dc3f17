package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/discord/discordfake"
)

func discordMessage(fake *discordfake.Server, channel, sub string) func() (discordfake.Message, bool) {
	return func() (discordfake.Message, bool) {
		for _, m := range fake.Messages(channel) {
			if strings.Contains(m.Content, sub) {
				return m, true
			}
		}
		return discordfake.Message{}, false
	}
}

// The flow of the demo, through Discord: the real gethelp bot with the
// real discordgo against a wire-level fake of Discord's REST API and
// gateway, the real agent and the real viewer. Discord gives bots no
// e-mail addresses: the administrator's helper_addresses supply Bob's.
func TestBotThroughDiscord(t *testing.T) {
	const (
		guild, general = "500000000000000001", "500000000000000002"
		alice, bob     = "600000000000000001", "600000000000000002"
	)
	e := newEnv(t)
	tm := startTestMail(t)
	fake := discordfake.New(t, discordfake.Options{})
	fake.AddGuild(guild, "Acme")
	fake.AddChannel(guild, general, "general")
	fake.AddUser(discordfake.User{ID: alice, Username: "alice", GlobalName: "Alice"})
	fake.AddUser(discordfake.User{ID: bob, Username: "bob", GlobalName: "Bob"})
	fake.AddMember(guild, alice, "")
	fake.AddMember(guild, bob, "")
	e.vars = append(e.vars, "GETHELP_DISCORD_TOKEN="+discordfake.DefaultToken)
	config := e.write("bot.yaml", fmt.Sprintf(`bot:
  database: %s
  agent_listen: "127.0.0.1:0"
  admin_listen: "off"
  email:
    from: "gethelp <gethelp@bot.test>"
    smtp: {addr: %q, security: none}
  discord:
    api_url: %s
    application_id: %q
    guilds: [%q]
  helper_addresses:
    "discord:%s": bob@example.test
`, e.path("bot.db"), tm.addr, fake.URL(), discordfake.DefaultApplicationID, guild, bob))
	_, ready := e.startBot(config)
	if !fake.WaitReady() || len(fake.WaitCommands(guild, 1)) != 1 {
		t.Fatal("the bot never connected and registered /gethelp")
	}

	ag := e.start("host", "agent", "--json", "--bot", str(ready, "agent_addr"), "--bot-pin", str(ready, "bot_pin"),
		"--source", "synthetic", "--listen", "127.0.0.1:0", "--name", "Alice's laptop")
	code := str(ag.next("link_code"), "code")
	if r := fake.Interact(alice, guild, general, discordfake.Option{Name: "text", Value: "link " + code}); !strings.HasPrefix(r, "Linked") {
		t.Fatalf("link: %q", r)
	}
	ag.next("linked")

	r := fake.Interact(alice, guild, general, discordfake.Option{Name: "text", Value: "the printer is offline"}, discordfake.Option{Name: "helper", Value: bob})
	if !strings.Contains(r, "consent") {
		t.Fatalf("request: %q", r)
	}
	ask := ag.next("consent_request")
	if h, _ := ask["helper"].(map[string]any); str(h, "user_id") != bob || str(h, "network") != "discord" || str(h, "workspace") != guild {
		t.Fatalf("the consent request shows the helper as %v", ask["helper"])
	}
	ag.send(map[string]any{"type": "consent", "ticket": str(ask, "ticket"), "accept": true})

	invMail := tm.waitFor(t, func(m mailMsg) bool { return strings.Contains(m.To, "bob@example.test") && m.Attachment != nil })
	dm := waitSlack(t, "the password DM", func() (string, bool) {
		for _, m := range fake.DMs(bob) {
			if strings.Contains(m.Content, "Password for") {
				return m.Content, true
			}
		}
		return "", false
	})
	password := dm[strings.Index(dm, "): ")+3:]
	password = password[:strings.Index(password, "\n")]
	root := waitSlack(t, "the request in #general", discordMessage(fake, general, "Alice asked Bob for help"))

	file := e.write(invMail.AttachmentName, string(invMail.Attachment))
	v := e.viewer(file, password)
	v.next("connected")
	// The ticket's thread is a Discord thread started from the request;
	// its channel has the request's id.
	waitSlack(t, "connected, in the thread", discordMessage(fake, root.ID, "Bob connected"))

	fake.Say(bob, root.ID, "is the spooler running?")
	deadline := time.After(20 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatal("the thread's message never reached the session")
		default:
		}
		if ev := v.next("chat"); str(ev, "text") == "is the spooler running?" {
			break
		}
	}
	v.send(map[string]any{"type": "chat", "text": "restarting it now"})
	waitSlack(t, "session chat in the thread", discordMessage(fake, root.ID, "restarting it now"))
}
