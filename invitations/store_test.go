package invitations_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/invitations"
)

// t0 is the fixed "now" of the store tests.
var t0 = time.Date(2026, 11, 24, 20, 0, 0, 0, time.UTC)

func newStore(t *testing.T) *invitations.Store {
	t.Helper()
	return &invitations.Store{
		Dir: filepath.Join(t.TempDir(), "invitations"),
		Now: func() time.Time { return t0 },
	}
}

func record(id string, created time.Time) invitations.Record {
	return invitations.Record{
		ID:       id,
		HostName: "Alice's laptop",
		File:     "/home/alice/Desktop/invitation.gethelp",
		Created:  created,
		Expires:  created.Add(6 * time.Hour),
		State:    invitations.StateOpen,
	}
}

// sameRecord reports how a and b differ, or "" when they are equal.
func sameRecord(a, b invitations.Record) string {
	if !a.Created.Equal(b.Created) || !a.Expires.Equal(b.Expires) || !a.Updated.Equal(b.Updated) {
		return fmt.Sprintf("times differ: %+v vs %+v", a, b)
	}
	a.Created, a.Expires, a.Updated = b.Created, b.Expires, b.Updated
	if a != b {
		return fmt.Sprintf("%+v != %+v", a, b)
	}
	return ""
}

// hasProcessCheck reports whether the platform can tell dead PIDs from live
// ones (see Record.Effective).
func hasProcessCheck() bool {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		return false
	}
	return true
}

// noRaceExitDelay spares child test processes the race detector's
// one-second pause at exit.
const noRaceExitDelay = "GORACE=atexit_sleep_ms=0"

// deadPID returns the PID of a process that has run and been waited for.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), noRaceExitDelay)
	if err := cmd.Run(); err != nil {
		t.Fatalf("run child: %v", err)
	}
	return cmd.ProcessState.Pid()
}

func TestStorePutGet(t *testing.T) {
	s := newStore(t)
	r := record("7Q2M9KX4TR", t0.Add(-time.Hour))
	r.Failures = 2
	r.PID = os.Getpid()
	if err := s.Put(r); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get(r.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := r
	want.Updated = t0
	if d := sameRecord(got, want); d != "" {
		t.Fatalf("Get: %s", d)
	}

	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{
			s.Dir:                              os.ModeDir | 0o700,
			filepath.Join(s.Dir, r.ID+".json"): 0o600,
		} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("%s has mode %v, want %v", name, fi.Mode(), want)
			}
		}
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != r.ID+".json" && n != ".lock" {
			t.Errorf("unexpected file %s left in the store", n)
		}
	}

	// Put replaces.
	r.State = invitations.StateUsed
	if err := s.Put(r); err != nil {
		t.Fatalf("Put again: %v", err)
	}
	if got, err := s.Get(r.ID); err != nil || got.State != invitations.StateUsed {
		t.Fatalf("Get after second Put = %+v, %v", got, err)
	}
}

func TestStorePutRejects(t *testing.T) {
	s := newStore(t)
	for name, r := range map[string]invitations.Record{
		"path traversal id": record("../../x", t0),
		"empty id":          record("", t0),
		"unknown state": func() invitations.Record {
			r := record("7Q2M9KX4TR", t0)
			r.State = "paused"
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Put(r); err == nil {
				t.Fatal("Put succeeded")
			} else {
				checkMessage(t, err)
			}
		})
	}
	if err := (&invitations.Store{}).Put(record("7Q2M9KX4TR", t0)); err == nil {
		t.Error("Put on a Store without Dir succeeded")
	}
}

func TestStoreGetNotFound(t *testing.T) {
	s := newStore(t)
	if err := s.Put(record("7Q2M9KX4TR", t0)); err != nil {
		t.Fatal(err)
	}
	// A file outside Dir that a traversal would reach.
	if err := os.WriteFile(filepath.Join(filepath.Dir(s.Dir), "x.json"), []byte(`{"id":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{
		"AAAAAAAAAA", // valid, absent
		"../x",       // traversal
		"../../../etc/passwd",
		"7Q2M9KX4TR/../../x",
		"7q2m9kx4tr", // lower case
		"",
		".lock",
		"7Q2M9KX4TR\x00",
	} {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			_, err := s.Get(id)
			if !errors.Is(err, invitations.ErrNotFound) {
				t.Fatalf("Get(%q) = %v, want error wrapping ErrNotFound", id, err)
			}
			checkMessage(t, err)
			if id != "" && !strings.Contains(err.Error(), strconv.Quote(id)[1:len(strconv.Quote(id))-1]) {
				t.Errorf("Get(%q) error %q does not name the id", id, err)
			}
			if _, err := s.Update(id, func(*invitations.Record) error { return nil }); !errors.Is(err, invitations.ErrNotFound) {
				t.Errorf("Update(%q) = %v, want error wrapping ErrNotFound", id, err)
			}
		})
	}
}

func TestRecordEffective(t *testing.T) {
	open := record("7Q2M9KX4TR", t0.Add(-time.Hour)) // expires t0+5h
	with := func(fn func(*invitations.Record)) invitations.Record {
		r := open
		fn(&r)
		return r
	}
	tests := []struct {
		name      string
		r         invitations.Record
		now       time.Time
		want      invitations.State
		needsKill bool
	}{
		{"open, no PID", open, t0, invitations.StateOpen, false},
		{"open, live PID", with(func(r *invitations.Record) { r.PID = os.Getpid() }), t0, invitations.StateOpen, false},
		{"open, past expiry", open, open.Expires, invitations.StateExpired, false},
		{"open, past expiry, live PID", with(func(r *invitations.Record) { r.PID = os.Getpid() }), open.Expires.Add(time.Second), invitations.StateExpired, false},
		{"open, dead PID", with(func(r *invitations.Record) { r.PID = deadPID(t) }), t0, invitations.StateCancelled, true},
		{"used, past expiry", with(func(r *invitations.Record) { r.State = invitations.StateUsed }), open.Expires.Add(time.Hour), invitations.StateUsed, false},
		{"locked, dead PID", with(func(r *invitations.Record) { r.State = invitations.StateLocked; r.PID = deadPID(t) }), t0, invitations.StateLocked, false},
		{"cancelled", with(func(r *invitations.Record) { r.State = invitations.StateCancelled }), t0, invitations.StateCancelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsKill && !hasProcessCheck() {
				t.Skip("no process check on " + runtime.GOOS)
			}
			if got := tt.r.Effective(tt.now); got != tt.want {
				t.Errorf("Effective = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStoreList(t *testing.T) {
	s := newStore(t)
	if got, err := s.List(); err != nil || len(got) != 0 {
		t.Fatalf("List of a missing Dir = %v, %v; want nothing", got, err)
	}

	expired := record("AAAAAAAAAA", t0.Add(-48*time.Hour))
	used := record("BBBBBBBBBB", t0.Add(-2*time.Hour))
	used.State = invitations.StateUsed
	live := record("CCCCCCCCCC", t0.Add(-time.Minute))
	live.PID = os.Getpid()
	dead := record("DDDDDDDDDD", t0.Add(-30*time.Minute))
	dead.PID = deadPID(t)
	sameTime := record("EEEEEEEEEE", t0.Add(-time.Minute)) // ties with live; ID breaks it
	for _, r := range []invitations.Record{expired, used, live, dead, sameTime} {
		if err := s.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	// Files that are not records are ignored.
	for _, name := range []string{"notes.txt", ".tmp-AAAAAAAAAA-123", "lower.json", "x.json"} {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	deadState := invitations.StateCancelled
	if !hasProcessCheck() {
		deadState = invitations.StateOpen
	}
	want := []struct {
		id    string
		state invitations.State
	}{
		{"CCCCCCCCCC", invitations.StateOpen},
		{"EEEEEEEEEE", invitations.StateOpen},
		{"DDDDDDDDDD", deadState},
		{"BBBBBBBBBB", invitations.StateUsed},
		{"AAAAAAAAAA", invitations.StateExpired},
	}
	if len(got) != len(want) {
		t.Fatalf("List returned %d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].State != w.state {
			t.Errorf("List[%d] = %s %s, want %s %s", i, got[i].ID, got[i].State, w.id, w.state)
		}
	}

	// List reports effective states without writing them.
	if r, err := s.Get(expired.ID); err != nil || r.State != invitations.StateOpen {
		t.Errorf("Get after List = %+v, %v; want the stored state open", r, err)
	}
}

func TestStoreCorruptRecord(t *testing.T) {
	s := newStore(t)
	good := record("7Q2M9KX4TR", t0)
	if err := s.Put(good); err != nil {
		t.Fatal(err)
	}
	corrupt := map[string]string{
		"AAAAAAAAAA": "{not json",
		"BBBBBBBBBB": `{"id":"CCCCCCCCCC","state":"open"}`, // holds another id
		"DDDDDDDDDD": `{"id":"DDDDDDDDDD","state":"paused"}`,
		"EEEEEEEEEE": "",
	}
	for id, content := range corrupt {
		if err := os.WriteFile(filepath.Join(s.Dir, id+".json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.List()
	if len(got) != 1 || got[0].ID != good.ID {
		t.Errorf("List = %+v, want the one good record", got)
	}
	if err == nil {
		t.Fatal("List did not report the corrupt files")
	}
	for id := range corrupt {
		if name := filepath.Join(s.Dir, id+".json"); !strings.Contains(err.Error(), name) {
			t.Errorf("List error does not name %s: %v", name, err)
		}
		_, err := s.Get(id)
		if err == nil || errors.Is(err, invitations.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want a corrupt-file error", id, err)
		} else {
			checkMessage(t, err)
		}
	}

	// Put replaces a corrupt record.
	if err := s.Put(record("AAAAAAAAAA", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("AAAAAAAAAA"); err != nil {
		t.Errorf("Get after Put over a corrupt file: %v", err)
	}
}

func TestStoreUpdate(t *testing.T) {
	s := newStore(t)
	r := record("7Q2M9KX4TR", t0)
	if err := s.Put(r); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Minute)
	s.Now = func() time.Time { return later }

	got, err := s.Update(r.ID, func(r *invitations.Record) error {
		r.State = invitations.StateCancelled
		r.PID = 0
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.State != invitations.StateCancelled || !got.Updated.Equal(later) {
		t.Errorf("Update returned %+v", got)
	}
	if stored, err := s.Get(r.ID); err != nil || sameRecord(stored, got) != "" {
		t.Errorf("Get after Update = %+v, %v; want %+v", stored, err, got)
	}

	errStop := errors.New("stop")
	if _, err := s.Update(r.ID, func(r *invitations.Record) error {
		r.State = invitations.StateUsed
		return errStop
	}); !errors.Is(err, errStop) {
		t.Errorf("Update with failing fn = %v, want fn's error", err)
	}
	if _, err := s.Update(r.ID, func(r *invitations.Record) error {
		r.ID = "AAAAAAAAAA"
		return nil
	}); err == nil {
		t.Error("Update that changes the ID succeeded")
	}
	if _, err := s.Update(r.ID, func(r *invitations.Record) error {
		r.State = ""
		return nil
	}); err == nil {
		t.Error("Update to an empty state succeeded")
	}
	if stored, _ := s.Get(r.ID); stored.State != invitations.StateCancelled {
		t.Errorf("failed Updates changed the record: %+v", stored)
	}
}

func TestStoreUpdateConcurrent(t *testing.T) {
	s := newStore(t)
	if err := s.Put(record("7Q2M9KX4TR", t0)); err != nil {
		t.Fatal(err)
	}
	// Two Store values on one Dir, as two parts of one program would have.
	other := &invitations.Store{Dir: s.Dir}
	var wg sync.WaitGroup
	for i := range 8 {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			if _, err := st.Update("7Q2M9KX4TR", func(r *invitations.Record) error {
				r.Failures++
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r, err := s.Get("7Q2M9KX4TR"); err != nil || r.Failures != 8 {
		t.Fatalf("after 8 concurrent increments: %+v, %v; want Failures 8", r, err)
	}
}

// helperEnv names the store directory for the child processes of
// TestStoreUpdateAcrossProcesses.
const helperEnv = "GETHELP_INVITATIONS_TEST_STORE"

const (
	childProcesses = 3
	increments     = 25
)

// TestStoreUpdateAcrossProcesses increments one record from several
// processes at once: only the file lock keeps them from losing updates.
func TestStoreUpdateAcrossProcesses(t *testing.T) {
	if dir := os.Getenv(helperEnv); dir != "" {
		incrementMany(t, &invitations.Store{Dir: dir})
		return
	}
	if !hasProcessCheck() {
		t.Skip("no file lock on " + runtime.GOOS)
	}
	s := newStore(t)
	if err := s.Put(record("7Q2M9KX4TR", t0)); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range childProcesses {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreUpdateAcrossProcesses$")
		cmd.Env = append(os.Environ(), helperEnv+"="+s.Dir, noRaceExitDelay)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	incrementMany(t, s)
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}
	want := (childProcesses + 1) * increments
	if r, err := s.Get("7Q2M9KX4TR"); err != nil || r.Failures != want {
		t.Fatalf("after concurrent increments: Failures %d, %v; want %d", r.Failures, err, want)
	}
}

func incrementMany(t *testing.T, s *invitations.Store) {
	for range increments {
		if _, err := s.Update("7Q2M9KX4TR", func(r *invitations.Record) error {
			r.Failures++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
