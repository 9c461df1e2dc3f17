package bottest_test

import (
	"context"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot"
	"github.com/gethelp/gethelp/bot/bottest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCore(t *testing.T) {
	var c bottest.Core
	ctx := context.Background()
	if r := c.Command(ctx, bot.Command{Text: "status"}); r.Text != "ok: status" {
		t.Errorf("default command answer %q", r.Text)
	}
	if r := c.Button(ctx, bot.Press{Action: "take", Value: "7"}); r.Text != "pressed take 7" {
		t.Errorf("default button answer %q", r.Text)
	}
	c.OnCommand(func(cmd bot.Command) bot.Reply { return bot.Reply{Text: "said " + cmd.Text} })
	c.OnButton(func(p bot.Press) bot.Reply { return bot.Reply{} })
	if r := c.Command(ctx, bot.Command{Text: "x"}); r.Text != "said x" {
		t.Errorf("OnCommand answer %q", r.Text)
	}
	if r := c.Button(ctx, bot.Press{Action: "go"}); r.Text != "" {
		t.Errorf("OnButton answer %q", r.Text)
	}
	if n := len(c.Calls()); n != 4 || len(c.Commands()) != 2 || len(c.Presses()) != 2 || len(c.Posts()) != 0 {
		t.Errorf("calls %+v", c.Calls())
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		for _, text := range []string{"a", "b", "c"} {
			c.Post(ctx, bot.Post{Text: text})
		}
	})
	if p := bottest.Wait(t, &c, "post b", func(p bot.Post) bool { return p.Text == "b" }); p.Text != "b" {
		t.Errorf("Wait = %+v", p)
	}
	if posts := c.WaitPosts(t, 3); len(posts) != 3 || posts[2].Text != "c" {
		t.Errorf("WaitPosts = %+v", posts)
	}
	wg.Wait()
	if n := c.Overlaps(); n != 0 {
		t.Errorf("%d overlaps, one call at a time", n)
	}

	c.Reset()
	if calls := c.Calls(); len(calls) != 0 {
		t.Errorf("calls after Reset: %+v", calls)
	}
	if r := c.Command(ctx, bot.Command{Text: "again"}); r.Text != "ok: again" {
		t.Errorf("answer after Reset %q", r.Text)
	}
}

func TestCoreOverlaps(t *testing.T) {
	var c bottest.Core
	release := make(chan struct{})
	c.OnCommand(func(bot.Command) bot.Reply { <-release; return bot.Reply{} })
	var wg sync.WaitGroup
	wg.Go(func() { c.Command(context.Background(), bot.Command{}) })
	c.WaitCalls(t, "the command", func(calls []any) bool { return len(calls) == 1 })
	c.Post(context.Background(), bot.Post{})
	close(release)
	wg.Wait()
	if n := c.Overlaps(); n != 1 {
		t.Errorf("%d overlaps, want 1", n)
	}
}
