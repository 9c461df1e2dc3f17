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

// fakeCore is a bot.Handler that records what it is given.
type fakeCore struct {
	mu       sync.Mutex
	reply    func(bot.Command) bot.Reply // nil: "ok: TEXT"
	press    func(bot.Press) bot.Reply   // nil: "pressed ACTION VALUE"
	calls    []any                       // bot.Command, bot.Post and bot.Press, in order
	inside   int
	overlaps int
	changed  chan struct{}
}

func newFakeCore() *fakeCore { return &fakeCore{changed: make(chan struct{})} }

func (f *fakeCore) enter(c any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inside > 0 {
		f.overlaps++
	}
	f.inside++
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeCore) leave() {
	f.mu.Lock()
	f.inside--
	f.mu.Unlock()
}

// set replaces the replies (nil: the defaults) and forgets the calls.
func (f *fakeCore) set(reply func(bot.Command) bot.Reply, press func(bot.Press) bot.Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply, f.press, f.calls = reply, press, nil
}

func (f *fakeCore) Command(ctx context.Context, c bot.Command) bot.Reply {
	f.enter(c)
	defer f.leave()
	f.mu.Lock()
	reply := f.reply
	f.mu.Unlock()
	if reply != nil {
		return reply(c)
	}
	return bot.Reply{Text: "ok: " + c.Text}
}

func (f *fakeCore) Post(ctx context.Context, p bot.Post) {
	f.enter(p)
	f.leave()
}

func (f *fakeCore) Button(ctx context.Context, b bot.Press) bot.Reply {
	f.enter(b)
	defer f.leave()
	f.mu.Lock()
	press := f.press
	f.mu.Unlock()
	if press != nil {
		return press(b)
	}
	return bot.Reply{Text: "pressed " + b.Action + " " + b.Value}
}

// wait waits until cond holds of the calls so far, and returns them.
func (f *fakeCore) wait(t *testing.T, what string, cond func([]any) bool) []any {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		f.mu.Lock()
		calls := append([]any(nil), f.calls...)
		ch := f.changed
		f.mu.Unlock()
		if cond(calls) {
			return calls
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waiting for %s; calls: %+v", what, calls)
		}
	}
}

func (f *fakeCore) posts() []bot.Post {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []bot.Post
	for _, c := range f.calls {
		if p, ok := c.(bot.Post); ok {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeCore) waitPosts(t *testing.T, n int) []bot.Post {
	t.Helper()
	f.wait(t, "posts", func(calls []any) bool {
		k := 0
		for _, c := range calls {
			if _, ok := c.(bot.Post); ok {
				k++
			}
		}
		return k >= n
	})
	return f.posts()
}

// harness is a fake Discord with the tests' world, an Adapter on it and,
// unless told otherwise, its Run.
type harness struct {
	t     *testing.T
	fake  *discordfake.Server
	a     *discord.Adapter
	core  *fakeCore
	stop  func() error // stops Run; nil when not running
	clock atomic.Int64 // the adapter's clock is ahead of time.Now by this
}

// now is the adapter's clock.
func (h *harness) now() time.Time { return time.Now().Add(time.Duration(h.clock.Load())) }

type setup struct {
	fake   discordfake.Options
	guilds []string // Options.Guilds
	noRun  bool
	core   *fakeCore
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
		h.core = newFakeCore()
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
