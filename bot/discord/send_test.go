package discord_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/discord"
	"github.com/gethelp/gethelp/bot/discord/discordfake"
)

func TestSendChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	file := &bot.File{Name: "help.gethelp", ContentType: "application/vnd.gethelp+json", Data: []byte(`{"v":1}`)}
	ref := h.send(bot.Place{Workspace: guild, Channel: general}, bot.Message{
		Text: "Alice asked for help @everyone",
		Buttons: []bot.Button{
			{Label: "Take it", Action: "take", Value: "T1", Style: "primary"},
			{Label: "Cancel", Action: "cancel", Value: "T1", Style: "danger"},
			{Label: "Later", Action: "later"},
		},
		File: file,
		Key:  "ticket/T1/helpdesk",
	})
	msgs := h.fake.Messages(general)
	if len(msgs) != 1 || msgs[0].ID != string(ref) {
		t.Fatalf("messages %v; ref %s", msgs, ref)
	}
	m := msgs[0]
	if m.Content != "Alice asked for help @everyone" || m.AuthorID != h.fake.BotID() {
		t.Errorf("message %v", m)
	}
	wantButtons := []discordfake.Button{
		{Label: "Take it", CustomID: "take:T1", Style: 1},
		{Label: "Cancel", CustomID: "cancel:T1", Style: 4},
		{Label: "Later", CustomID: "later:", Style: 2},
	}
	if !slices.Equal(m.Buttons, wantButtons) {
		t.Errorf("buttons %+v", m.Buttons)
	}
	if len(m.Files) != 1 || m.Files[0].Name != file.Name || m.Files[0].ContentType != file.ContentType || !bytes.Equal(m.Files[0].Data, file.Data) {
		t.Errorf("files %+v", m.Files)
	}
	if len(m.Nonce) != 25 {
		t.Errorf("nonce %q", m.Nonce)
	}
	if m.AllowedMentions == nil || len(m.AllowedMentions) != 0 {
		t.Errorf("allowed mentions %v: the bot must ping nobody", m.AllowedMentions)
	}
}

func TestSendThread(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	root := h.send(bot.Place{Workspace: guild, Channel: general}, bot.Message{Text: "Alice asked Bob for help: printer (ticket 1234abcd)\nmore", Key: "root"})
	at := bot.Place{Workspace: guild, Channel: general, Thread: string(root), User: alice}
	first := h.send(at, bot.Message{Text: "Waiting for consent", Key: "k1"})
	second := h.send(at, bot.Message{Text: "Bob is connected", Key: "k2"})

	th, ok := h.fake.Channel(string(root))
	if !ok || th.Type != 11 || th.ParentID != general || th.Name != "Alice asked Bob for help: printer (ticket 1234abcd)" {
		t.Fatalf("thread %+v, %v", th, ok)
	}
	msgs := h.fake.Messages(string(root))
	if len(msgs) != 2 || msgs[0].ID != string(first) || msgs[1].ID != string(second) {
		t.Errorf("in the thread: %v", msgs)
	}
	if n := h.requests("POST", "/threads"); n != 1 {
		t.Errorf("%d threads started", n)
	}
	if m, _ := h.fake.Message(string(root)); m.Thread != string(root) {
		t.Errorf("root %+v", m)
	}

	// After a restart the adapter does not know the thread: Discord says
	// it exists, and the message goes in.
	a := h.newAdapter(setup{})
	if _, err := a.Send(context.Background(), at, bot.Message{Text: "after a restart", Key: "k3"}); err != nil {
		t.Fatal(err)
	}
	if msgs := h.fake.Messages(string(root)); len(msgs) != 3 {
		t.Errorf("in the thread: %v", msgs)
	}
	if msgs := h.fake.Messages(general); len(msgs) != 1 {
		t.Errorf("in the channel: %v", msgs)
	}
}

func TestSendDM(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	file := &bot.File{Name: "invitation.gethelp", Data: []byte("x")}
	first := h.send(bot.Place{User: bob}, bot.Message{Text: "Alice asked you for help", File: file})
	h.send(bot.Place{User: bob, Thread: string(first)}, bot.Message{Text: "The password: 1234"})
	dms := h.fake.DMs(bob)
	if len(dms) != 2 || len(dms[0].Files) != 1 || dms[0].Files[0].Name != "invitation.gethelp" || dms[0].Files[0].ContentType != "application/octet-stream" {
		t.Fatalf("DMs %+v", dms)
	}
	if dms[1].ReplyTo != string(first) {
		t.Errorf("a reply in a DM without a reference: %+v", dms[1])
	}
	if c, _ := h.fake.Channel(h.fake.DMChannel(bob)); c.Type != 1 {
		t.Errorf("DM channel %+v", c)
	}
	if n := h.requests("POST", "/users/@me/channels"); n != 1 {
		t.Errorf("%d DM channels opened", n)
	}
}

func TestSendIdempotent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	at := bot.Place{Workspace: guild, Channel: general}
	m := bot.Message{Text: "once", Key: "ticket/T1/chat/1"}
	first := h.send(at, m)
	if again := h.send(at, m); again != first {
		t.Errorf("the same key: %s, then %s", first, again)
	}
	if n := h.requests("POST", "/channels/"+general+"/messages"); n != 1 {
		t.Errorf("%d posts for one key in one process", n)
	}
	// A restarted bot retries: Discord's nonce finds the first message.
	a := h.newAdapter(setup{})
	again, err := a.Send(context.Background(), at, m)
	if err != nil || again != first {
		t.Errorf("after a restart: %s, %v; want %s", again, err, first)
	}
	if msgs := h.fake.Messages(general); len(msgs) != 1 {
		t.Errorf("messages %v", msgs)
	}
	other := h.send(at, bot.Message{Text: "once", Key: "ticket/T1/chat/2"})
	if other == first || len(h.fake.Messages(general)) != 2 {
		t.Errorf("another key was not posted")
	}
}

func TestSendLongText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	var b strings.Builder
	for i := 0; b.Len() < 4500; i++ {
		b.WriteString("a line of a long e-mail reply that goes on\n")
	}
	at := bot.Place{Workspace: guild, Channel: general}
	m := bot.Message{Text: b.String(), Buttons: []bot.Button{{Label: "OK", Action: "ok"}}, Key: "long"}
	ref := h.send(at, m)
	msgs := h.fake.Messages(general)
	if len(msgs) != 3 || msgs[0].ID != string(ref) {
		t.Fatalf("%d messages; ref %s", len(msgs), ref)
	}
	var joined []string
	for i, m := range msgs {
		if len([]rune(m.Content)) > 2000 || (i < 2) != (len(m.Buttons) == 0) {
			t.Errorf("part %d: %d characters, buttons %v", i, len(m.Content), m.Buttons)
		}
		joined = append(joined, m.Content)
	}
	if strings.Join(joined, "\n") != b.String() {
		t.Errorf("the parts do not make the text")
	}
	if _, err := h.newAdapter(setup{}).Send(context.Background(), at, m); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Messages(general)); n != 3 {
		t.Errorf("a retry after a restart posted again: %d messages", n)
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	denied := h.newChannel("denied")
	h.fake.Deny(denied, discordfake.CodeMissingAccess)
	readOnly := h.newChannel("read-only")
	h.fake.Deny(readOnly, discordfake.CodeMissingPermissions)
	for _, tc := range []struct {
		name    string
		to      bot.Place
		m       bot.Message
		noSuch  bool
		request bool // the adapter asks Discord
	}{
		{"no such channel", bot.Place{Channel: "129999999999999999"}, bot.Message{Text: "x"}, false, true},
		{"missing access", bot.Place{Channel: denied}, bot.Message{Text: "x"}, false, true},
		{"missing permissions", bot.Place{Channel: readOnly}, bot.Message{Text: "x"}, false, true},
		{"no such thread root", bot.Place{Channel: general, Thread: "129999999999999998"}, bot.Message{Text: "x"}, false, true},
		{"a user who takes no DMs", bot.Place{User: dave}, bot.Message{Text: "x"}, false, true},
		{"no such user", bot.Place{User: nobody}, bot.Message{Text: "x"}, true, true},
		{"an empty message", bot.Place{Channel: general}, bot.Message{Text: " "}, false, false},
		{"not an id", bot.Place{Channel: "general"}, bot.Message{Text: "x"}, false, false},
		{"nowhere", bot.Place{Workspace: guild}, bot.Message{Text: "x"}, false, false},
		{"ephemeral for nobody", bot.Place{Channel: general}, bot.Message{Text: "x", Ephemeral: true}, false, false},
		{"a button style", bot.Place{Channel: general}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "a", Action: "b", Style: "pink"}}}, false, false},
		{"a button without a label", bot.Place{Channel: general}, bot.Message{Text: "x", Buttons: []bot.Button{{Action: "b"}}}, false, false},
		{"a long custom id", bot.Place{Channel: general}, bot.Message{Text: "x", Buttons: []bot.Button{{Label: "a", Action: "b", Value: strings.Repeat("v", 100)}}}, false, false},
		{"26 buttons", bot.Place{Channel: general}, bot.Message{Text: "x", Buttons: slices.Repeat([]bot.Button{{Label: "a", Action: "b"}}, 26)}, false, false},
		{"a file too large", bot.Place{Channel: general}, bot.Message{File: &bot.File{Name: "a", Data: make([]byte, discord.MaxFile+1)}}, false, false},
		{"a file without a name", bot.Place{Channel: general}, bot.Message{File: &bot.File{Data: []byte("x")}}, false, false},
	} {
		before := len(h.fake.Requests())
		_, err := h.a.Send(context.Background(), tc.to, tc.m)
		if !errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrNoSuchUser) != tc.noSuch {
			t.Errorf("%s: %v; want permanent (no such user: %v)", tc.name, err, tc.noSuch)
		}
		if asked := len(h.fake.Requests()) > before; asked != tc.request {
			t.Errorf("%s: asked Discord: %v", tc.name, asked)
		}
	}
}

func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	at := bot.Place{Workspace: guild, Channel: general}

	// A short limit is waited out.
	h.fake.RateLimit("/channels/"+general+"/messages", 1, 150*time.Millisecond, false)
	start := time.Now()
	h.send(at, bot.Message{Text: "after a short wait"})
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("sent after %v, before the limit's end", d)
	}
	var statuses []int
	for _, r := range h.fake.Requests() {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []int{429, 200}) {
		t.Errorf("statuses %v", statuses)
	}

	// A long one is an error the core retries later, and the adapter
	// asks nothing until it is over.
	h.fake.RateLimit("/channels/"+helpdesk+"/messages", 1, 30*time.Second, false)
	for i := range 2 {
		before := len(h.fake.Requests())
		_, err := h.a.Send(context.Background(), bot.Place{Channel: helpdesk}, bot.Message{Text: "later"})
		if !errors.Is(err, discord.ErrRateLimited) || errors.Is(err, bot.ErrPermanent) {
			t.Errorf("send %d: %v; want a rate limit, not permanent", i, err)
		}
		if n := len(h.fake.Requests()) - before; n != 1-i {
			t.Errorf("send %d asked %d times", i, n)
		}
	}

	// The global limit holds every route.
	h.fake.RateLimit("/users/", 1, 100*time.Millisecond, true)
	if _, err := h.a.LookupUser(context.Background(), guild, "<@"+bob+">"); err != nil {
		t.Fatal(err)
	}
	h.send(at, bot.Message{Text: "after the global limit"})
}

func TestSendEphemeralWithoutInteraction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	h.send(bot.Place{Workspace: guild, Channel: general, User: bob}, bot.Message{Text: "only for you", Ephemeral: true})
	if dms := h.fake.DMs(bob); len(dms) != 1 || dms[0].Content != "only for you" {
		t.Errorf("DMs %v", dms)
	}
	if msgs := h.fake.Messages(general); len(msgs) != 0 {
		t.Errorf("in the channel for all: %v", msgs)
	}
}

func testEphemeralFollowUp(t *testing.T, h *harness) {
	room := h.newChannel("room")
	it := h.fake.Invoke(alice, guild, room, discordfake.Option{Name: "text", Value: "status"})
	it.Wait()
	ref := h.send(bot.Place{Workspace: guild, Channel: room, User: alice}, bot.Message{
		Text: "Your request: waiting", Ephemeral: true, Buttons: []bot.Button{{Label: "Cancel", Action: "cancel", Value: "T1"}},
	})
	r := it.Response()
	if len(r.Followups) != 1 || !r.Followups[0].Ephemeral || r.Followups[0].ID != string(ref) || len(r.Followups[0].Buttons) != 1 {
		t.Errorf("follow-ups %+v", r.Followups)
	}
	if msgs := h.fake.Messages(room); len(msgs) != 0 {
		t.Errorf("in the channel for all: %v", msgs)
	}
	// Bob has not used /gethelp there: a DM.
	h.send(bot.Place{Workspace: guild, Channel: room, User: bob}, bot.Message{Text: "for Bob", Ephemeral: true})
	if dms := h.fake.DMs(bob); len(dms) == 0 || dms[len(dms)-1].Content != "for Bob" {
		t.Errorf("DMs %v", dms)
	}
}

func testEphemeralExpires(t *testing.T, h *harness) {
	room := h.newChannel("room")
	it := h.fake.Invoke(alice, guild, room)
	it.Wait()
	h.clock.Add(int64(16 * time.Minute)) // Discord takes follow-ups for 15 minutes
	defer h.clock.Store(0)
	before := len(h.fake.DMs(alice))
	h.send(bot.Place{Workspace: guild, Channel: room, User: alice}, bot.Message{Text: "late", Ephemeral: true})
	if r := it.Response(); len(r.Followups) != 0 {
		t.Errorf("a follow-up on an expired token: %+v", r.Followups)
	}
	if dms := h.fake.DMs(alice); len(dms) != before+1 || dms[len(dms)-1].Content != "late" {
		t.Errorf("DMs %v", dms)
	}
}

func TestLookupUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	for _, tc := range []struct {
		workspace, mention string
		want               bot.Identity
		noSuch             bool
	}{
		{guild, "<@" + alice + ">", bot.Identity{Network: "discord", Workspace: guild, UserID: alice, DisplayName: "Ali"}, false},
		{guild, "<@!" + bob + ">", bot.Identity{Network: "discord", Workspace: guild, UserID: bob, DisplayName: "Bob B"}, false},
		{guild, " " + bob + " ", bot.Identity{Network: "discord", Workspace: guild, UserID: bob, DisplayName: "Bob B"}, false},
		{"", "<@" + alice + ">", bot.Identity{Network: "discord", UserID: alice, DisplayName: "Alice A"}, false},
		{"", "<@" + carol + ">", bot.Identity{Network: "discord", UserID: carol, DisplayName: "carol"}, false},
		{guild, "<@" + carol + ">", bot.Identity{}, true},  // not a member
		{guild, "<@" + nobody + ">", bot.Identity{}, true}, // unknown
		{guild, "<@" + robot + ">", bot.Identity{}, true},  // a bot
		{guild, "@bob", bot.Identity{}, true},              // typed, not resolved
		{guild, "<@&" + bob + ">", bot.Identity{}, true},   // a role
		{guild, "<@../../x>", bot.Identity{}, true},
		{"119999999999999999", "<@" + alice + ">", bot.Identity{}, true}, // another guild
	} {
		id, err := h.a.LookupUser(context.Background(), tc.workspace, tc.mention)
		if tc.noSuch {
			if !errors.Is(err, bot.ErrNoSuchUser) {
				t.Errorf("LookupUser(%q, %q) = %+v, %v; want ErrNoSuchUser", tc.workspace, tc.mention, id, err)
			}
			continue
		}
		if err != nil || id != tc.want {
			t.Errorf("LookupUser(%q, %q) = %+v, %v; want %+v", tc.workspace, tc.mention, id, err, tc.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, o := range []discord.Options{
		{},
		{Token: "Bot "},
		{Token: "t", APIURL: "discord.com"},
		{Token: "t", APIURL: "ftp://discord.com"},
		{Token: "t", ApplicationID: "app"},
		{Token: "t", Guilds: []string{"acme"}},
	} {
		if _, err := discord.New(o); err == nil {
			t.Errorf("New(%+v) took it", o)
		}
	}
}

func TestAPIURLBehindAProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noRun: true})
	target, _ := url.Parse(h.fake.URL())
	proxy := httptest.NewServer(http.StripPrefix("/discord", httputil.NewSingleHostReverseProxy(target)))
	defer proxy.Close()
	a, err := discord.New(discord.Options{APIURL: proxy.URL + "/discord/", Token: "Bot " + h.fake.Token(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(context.Background(), bot.Place{Channel: general}, bot.Message{Text: "through a proxy"}); err != nil {
		t.Fatal(err)
	}
	if msgs := h.fake.Messages(general); len(msgs) != 1 {
		t.Errorf("messages %v", msgs)
	}
}
