package discord_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
	"github.com/gethelp/gethelp/bot/discord"
	"github.com/gethelp/gethelp/bot/discord/discordfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// The world of the tests: one guild, two channels, people.
const (
	guild    = "110000000000000001"
	general  = "120000000000000001"
	helpdesk = "120000000000000002"
	alice    = "130000000000000001" // nick "Ali"
	bob      = "130000000000000002" // global name "Bob B", no nick
	carol    = "130000000000000003" // not a member of the guild
	dave     = "130000000000000004" // takes no DMs
	robot    = "130000000000000005" // a bot, member of the guild
	nobody   = "139999999999999999" // unknown to Discord
)

// harness is a fake Discord with the tests' world, an Adapter on it and,
// unless told otherwise, its Run.
type harness struct {
	t     *testing.T
	fake  *discordfake.Server
	a     *discord.Adapter
	core  *bottest.Core
	stop  func() error // stops Run; nil when not running
	clock atomic.Int64 // the adapter's clock is ahead of time.Now by this
}

// now is the adapter's clock.
func (h *harness) now() time.Time { return time.Now().Add(time.Duration(h.clock.Load())) }

type setup struct {
	fake   discordfake.Options
	guilds []string // Options.Guilds
	noRun  bool
	core   *bottest.Core
	appID  *string // Options.ApplicationID; nil: the fake's
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	if s.fake.HeartbeatInterval == 0 {
		s.fake.HeartbeatInterval = 200 * time.Millisecond
	}
	fake := discordfake.New(t, s.fake)
	fake.AddGuild(guild, "Acme")
	fake.AddChannel(guild, general, "general")
	fake.AddChannel(guild, helpdesk, "helpdesk")
	fake.AddUser(discordfake.User{ID: alice, Username: "alice", GlobalName: "Alice A"})
	fake.AddUser(discordfake.User{ID: bob, Username: "bob", GlobalName: "Bob B"})
	fake.AddUser(discordfake.User{ID: carol, Username: "carol"})
	fake.AddUser(discordfake.User{ID: dave, Username: "dave", DMsClosed: true})
	fake.AddUser(discordfake.User{ID: robot, Username: "robot", Bot: true})
	fake.AddMember(guild, alice, "Ali")
	fake.AddMember(guild, bob, "")
	fake.AddMember(guild, dave, "")
	fake.AddMember(guild, robot, "")
	h := &harness{t: t, fake: fake, core: s.core}
	if h.core == nil {
		h.core = new(bottest.Core)
	}
	h.a = h.newAdapter(s)
	if !s.noRun {
		h.run()
		scope := ""
		if len(s.guilds) > 0 {
			scope = s.guilds[0]
		}
		fake.WaitCommands(scope, 1)
	}
	return h
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newAdapter returns another Adapter on the same fake, as after a restart.
func (h *harness) newAdapter(s setup) *discord.Adapter {
	h.t.Helper()
	app := h.fake.ApplicationID()
	if s.appID != nil {
		app = *s.appID
	}
	a, err := discord.New(discord.Options{
		APIURL: h.fake.URL(), Token: h.fake.Token(), ApplicationID: app, Guilds: s.guilds,
		Logger: testLogger(h.t), MaxRateLimitWait: time.Second, Now: h.now,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// run starts Run and stops it when the test ends (or at h.stop).
func (h *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.Run(ctx, h.core) }()
	var once sync.Once
	var err error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				h.t.Errorf("Run did not return")
			}
		})
		return err
	}
	h.t.Cleanup(func() {
		if err := h.stop(); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
	h.fake.WaitReady()
}

// send sends through the adapter and fails the test on an error.
func (h *harness) send(to bot.Place, m bot.Message) bot.MessageRef {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ref, err := h.a.Send(ctx, to, m)
	if err != nil {
		h.t.Fatalf("Send(%+v, %q): %v", to, m.Text, err)
	}
	return ref
}

var channels atomic.Int64

// newChannel adds a channel to the guild and returns its id.
func (h *harness) newChannel(name string) string {
	id := strconv.FormatInt(121000000000000000+channels.Add(1), 10)
	h.fake.AddChannel(guild, id, name)
	return id
}

// requests counts the fake's requests of method whose path ends in suffix.
func (h *harness) requests(method, suffix string) int {
	n := 0
	for _, r := range h.fake.Requests() {
		if r.Method == method && len(r.Path) >= len(suffix) && r.Path[len(r.Path)-len(suffix):] == suffix {
			n++
		}
	}
	return n
}
