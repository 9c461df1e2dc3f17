package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/bot/store"
)

// The crash child reads these from its environment.
const (
	crashDBEnv    = "GETHELP_STORE_CRASH_DB"
	crashStartEnv = "GETHELP_STORE_CRASH_START"
)

// TestHelperCrashChild is not a test: TestCrashSafety runs the test binary
// again with only this, in a child process that it kills with SIGKILL. The
// child loops: enqueue delivery k<i> (and a transcript entry e<i> in the
// same ticket), claim it, mark it sent; it prints each step once the step
// has committed.
func TestHelperCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("run by TestCrashSafety")
	}
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	start, _ := strconv.Atoi(os.Getenv(crashStartEnv))
	tk, err := s.TicketByReplyToken(ctx, "crashcrashcrash0")
	if err != nil {
		tk, err = s.CreateTicket(ctx, store.Ticket{Requester: alice, ReplyToken: "crashcrashcrash0"})
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := start; ; i++ {
		key := fmt.Sprint("k", i)
		d, _, err := s.Enqueue(ctx, store.Delivery{Key: key, TicketID: tk.ID, Channel: "slack", Kind: "post",
			Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))})
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(out, "enqueued", key)
		out.Flush()
		if _, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: store.SourceBot,
			Text: fmt.Sprint("line ", i), Key: fmt.Sprint("e", i)}); err != nil {
			fail(err)
		}
		fmt.Fprintln(out, "entry", fmt.Sprint("e", i))
		out.Flush()
		ds, err := s.Claim(ctx, time.Now(), time.Hour, 1)
		if err != nil || len(ds) != 1 || ds[0].ID != d.ID {
			fail(fmt.Errorf("claim %s: %v %v", key, ds, err))
		}
		fmt.Fprintln(out, "claimed", key)
		out.Flush()
		if err := s.MarkSent(ctx, d.ID, fmt.Sprint("ref-", i)); err != nil {
			fail(err)
		}
		fmt.Fprintln(out, "sent", key)
		out.Flush()
	}
}

// TestCrashSafety kills a writing child process with SIGKILL four times, at
// different moments, on the same database. After each kill, everything the
// child reported committed is there as reported, nothing is half-written,
// and SQLite's integrity check passes.
//
// SIGKILL loses the process, not the kernel's page cache: this proves
// atomicity and that a reported commit is a commit; what synchronous=FULL
// adds against power loss no test here can show.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := t.TempDir() + "/crash.db"
	next := 0
	// The child prints 4 lines per delivery; these kill it right after an
	// enqueue, a transcript entry, a claim and a send, and each kill lands
	// a little later, wherever the child has got to by then.
	for run, killAfter := range []int{1, 4*10 + 2, 4*20 + 3, 4*30 + 4} {
		reported := runCrashChild(t, path, next, killAfter)
		next = checkAfterCrash(t, path, run, next, reported)
	}
}

// runCrashChild starts the child on path, reads its lines until it has
// printed killAfter of them, kills it with SIGKILL and returns the lines:
// step ("enqueued", "entry", "claimed", "sent") by key.
func runCrashChild(t *testing.T, path string, start, killAfter int) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashStartEnv+"="+strconv.Itoa(start))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reported := map[string]string{}
	sc := bufio.NewScanner(stdout)
	lines := 0
	for lines < killAfter && sc.Scan() {
		step, key, ok := strings.Cut(sc.Text(), " ")
		if step == "error" || !ok {
			t.Fatalf("child: %s", sc.Text())
		}
		reported[key] = step
		lines++
	}
	// The child goes on writing while the signal is on its way: the kill
	// lands wherever it lands.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Lines already in the pipe were committed before the kill.
	for sc.Scan() {
		if step, key, ok := strings.Cut(sc.Text(), " "); ok && step != "error" {
			reported[key] = step
			lines++
		}
	}
	cmd.Wait()
	if lines < killAfter {
		t.Fatalf("child printed %d lines before it ended, want %d", lines, killAfter)
	}
	t.Logf("killed the child after %d lines (asked for %d)", lines, killAfter)
	return reported
}

// checkAfterCrash verifies the database after a kill and returns the index
// the next child starts at.
func checkAfterCrash(t *testing.T, path string, run, start int, reported map[string]string) int {
	t.Helper()
	ctx := context.Background()
	db := rawDB(t, path)
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("run %d: integrity_check = %q, %v", run, integrity, err)
	}
	var fk int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk); err != nil || fk != 0 {
		t.Fatalf("run %d: foreign_key_check: %d rows, %v", run, fk, err)
	}
	db.Close()

	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("run %d: reopen: %v", run, err)
	}
	defer s.Close()
	tk, err := s.TicketByReplyToken(ctx, "crashcrashcrash0")
	if err != nil {
		t.Fatalf("run %d: the child's ticket: %v", run, err)
	}
	// Every reported step is there.
	for key, step := range reported {
		if step == "entry" {
			es, err := s.Transcript(ctx, tk.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range es {
				found = found || e.Key == key
			}
			if !found {
				t.Errorf("run %d: reported entry %s is missing", run, key)
			}
			continue
		}
		d, err := s.DeliveryByKey(ctx, key)
		if err != nil {
			t.Errorf("run %d: reported %s %s: %v", run, step, key, err)
			continue
		}
		if step == "sent" && d.State != store.DeliverySent {
			t.Errorf("run %d: reported sent %s is %s", run, key, d.State)
		}
	}
	// Nothing is half-written: the deliveries are k0..kN without gaps, each
	// whole, at most the last one not yet sent; the transcript has one
	// entry per delivery but perhaps the last, in order.
	var n int
	for ; ; n++ {
		d, err := s.DeliveryByKey(ctx, fmt.Sprint("k", n))
		if err != nil {
			break
		}
		if string(d.Payload) != fmt.Sprintf(`{"i":%d}`, n) || d.TicketID != tk.ID || d.Channel != "slack" {
			t.Errorf("run %d: delivery k%d = %+v", run, n, d)
		}
		switch d.State {
		case store.DeliverySent:
			if d.SentRef != fmt.Sprint("ref-", n) || d.Attempts != 1 || !d.LeaseUntil.IsZero() {
				t.Errorf("run %d: sent delivery k%d = %+v", run, n, d)
			}
		case store.DeliveryPending, store.DeliveryInFlight:
			// Only the one the child was working on when it died.
			if _, err := s.DeliveryByKey(ctx, fmt.Sprint("k", n+1)); err == nil {
				t.Errorf("run %d: k%d is %s but k%d exists", run, n, d.State, n+1)
			}
		case store.DeliveryFailed:
			if d.LastError != "crash test" { // settled by an earlier check
				t.Errorf("run %d: k%d failed: %s", run, n, d.LastError)
			}
		default:
			t.Errorf("run %d: k%d is %s", run, n, d.State)
		}
	}
	if n <= start {
		t.Errorf("run %d: child committed nothing (k%d..)", run, start)
	}
	es, err := s.Transcript(ctx, tk.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n && len(es) != n-1 {
		t.Errorf("run %d: %d transcript entries for %d deliveries", run, len(es), n)
	}
	for i, e := range es {
		if e.Seq != int64(i+1) || e.Key != fmt.Sprint("e", i) || e.Text != fmt.Sprint("line ", i) {
			t.Errorf("run %d: entry %d = %+v", run, i, e)
		}
	}
	last, _ := s.DeliveryByKey(ctx, fmt.Sprint("k", n-1))
	t.Logf("run %d: found k%d..k%d, the last one %s, %d transcript entries", run, start, n-1, last.State, len(es))
	// Settle the one the child was working on, so the next child's Claim
	// finds only its own.
	if d, err := s.DeliveryByKey(ctx, fmt.Sprint("k", n-1)); err == nil && d.State != store.DeliverySent {
		ds, err := s.Claim(ctx, time.Now().Add(2*time.Hour), time.Hour, 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("run %d: reclaim k%d: %v %v", run, n-1, ds, err)
		}
		if ds[0].State == store.DeliveryInFlight && d.State == store.DeliveryInFlight && ds[0].Attempts != 1 {
			t.Errorf("run %d: reclaimed after a lost lease with Attempts %d", run, ds[0].Attempts)
		}
		if err := s.MarkFailed(ctx, ds[0].ID, "crash test"); err != nil {
			t.Fatal(err)
		}
	}
	if len(es) == n-1 {
		// The entry of the last delivery was never written; the next child
		// starts at n and would leave a gap. Write it as the child would.
		if _, _, err := s.AppendTranscript(ctx, store.Entry{TicketID: tk.ID, Source: store.SourceBot,
			Text: fmt.Sprint("line ", n-1), Key: fmt.Sprint("e", n-1)}); err != nil {
			t.Fatal(err)
		}
	}
	return n
}
