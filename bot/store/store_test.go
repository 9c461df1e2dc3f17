package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/bot/store"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable clock for the store and the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// open opens a store in a fresh directory with the clock c and closes it when
// the test ends.
func open(t testing.TB, c *clock) (*store.SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bot.db")
	return openPath(t, path, c), path
}

func openPath(t testing.TB, path string, c *clock) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		s.Now = c.Now
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// rawDB opens the file behind the store's back, for what the store does not
// expose: schema inspection, integrity checks, planting bad data.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	alice = store.Identity{Network: "slack", Workspace: "T01", UserID: "U_ALICE", DisplayName: "Alice", Email: "alice@example.com"}
	bob   = store.Identity{Network: "slack", Workspace: "T01", UserID: "U_BOB", DisplayName: "Bob", Email: "bob@example.com"}
)

func TestOpenRejectsMemory(t *testing.T) {
	_, err := store.OpenSQLite(context.Background(), ":memory:")
	if err == nil {
		t.Fatal("opened :memory:")
	}
}

func TestReopenKeepsData(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "bot.db")
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = c.Now
	tk, err := s.CreateTicket(ctx, store.Ticket{Requester: alice, Description: "printer"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openPath(t, path, c)
	got, err := s2.Ticket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != "printer" || !got.CreatedAt.Equal(c.Now()) {
		t.Errorf("after reopen: %+v", got)
	}
}
