// Package browsertest drives headless Chromium against the pages that
// package localweb serves, for the tests of the person's and the helper's
// windows: it starts a browser per test, waits for JavaScript conditions
// and, with -screenshots, writes screenshots to docs/screenshots.
//
// A test without Chromium at /usr/bin/chromium is skipped, not failed.
// Every wait is bounded by Timeout, so a page that never gets there fails
// its test instead of hanging it.
package browsertest

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is the browser the tests drive.
const Chromium = "/usr/bin/chromium"

// Timeout bounds every wait.
const Timeout = 30 * time.Second

var screenshots = flag.Bool("screenshots", false, "write screenshots of the pages to docs/screenshots from live sessions")

// New starts headless Chromium at a 1280×800 viewport and returns its
// context, for chromedp.Do. The browser is closed at cleanup, which,
// registered after the session's, runs before it. New skips the test when
// there is no Chromium.
func New(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("no browser at %s: %v", Chromium, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("starting the browser: %v", err)
	}
	return ctx
}

// Open is New, then the page at url opened in the browser.
func Open(t *testing.T, url string) context.Context {
	t.Helper()
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the page: %v", err) // not the URL: it holds the token
	}
	return ctx
}

// Screenshots reports whether the test runs with -screenshots, and so
// writes them.
func Screenshots() bool { return *screenshots }

// Poll waits until the JavaScript expression is truthy, failing the test
// after Timeout; what says what is awaited.
func Poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(Timeout))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

// Eval returns the value of a JavaScript expression, failing the test if
// it cannot be evaluated.
func Eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// Screenshot writes a screenshot of the page to docs/screenshots/name in
// the module when the test runs with -screenshots.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*screenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// NarrowScreenshot writes a screenshot at phone width (480×900) when the
// test runs with -screenshots, and goes back to 1280×800.
func NarrowScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*screenshots {
		return
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(480, 900)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the layout settle
	Screenshot(t, ctx, name)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
}

// moduleRoot returns the directory of the go.mod above the test's working
// directory (its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("browsertest: no go.mod above the working directory")
		}
		dir = parent
	}
}
