package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/bot/store"
)

func TestMigrationsRecorded(t *testing.T) {
	c := newClock()
	_, path := open(t, c)
	openPath(t, path, c) // a second open applies nothing
	rows, err := rawDB(t, path).Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		n++
		if v != n || !regexp.MustCompile(`^\d{4}_\w+\.sql$`).MatchString(name) {
			t.Errorf("migration row %d: %d %q", n, v, name)
		}
	}
	if n != store.SchemaVersion() {
		t.Errorf("%d migrations recorded, binary knows %d", n, store.SchemaVersion())
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = store.OpenSQLite(context.Background(), path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("OpenSQLite = %v, want ErrSchemaTooNew", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "store: ") || !strings.Contains(msg, "999") ||
		!strings.Contains(msg, "version "+strconv.Itoa(store.SchemaVersion())) {
		t.Errorf("error %q should name both versions", msg)
	}
	t.Log(msg)
}

// TestNoPasswordColumns: nothing in the schema is even named like a password
// or a secret, so nobody stores one by accident.
func TestNoPasswordColumns(t *testing.T) {
	_, path := open(t, newClock())
	db := rawDB(t, path)
	rows, err := db.Query(`SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	bad := regexp.MustCompile(`(?i)pass|pwd|secret|credential`)
	tables := map[string]int{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		tables[table]++
		if bad.MatchString(table) || bad.MatchString(col) {
			t.Errorf("column %s.%s is named like a secret", table, col)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Make sure the query saw the schema at all.
	for _, want := range []string{"links", "link_codes", "tickets", "transcript", "deliveries", "seen_events", "schema_migrations"} {
		if tables[want] == 0 {
			t.Errorf("table %s not found (saw %v)", want, tables)
		}
	}
}

// TestPragmas checks the settings the package doc promises, on a connection
// the store made.
func TestPragmas(t *testing.T) {
	_, path := open(t, newClock())
	var mode string
	if err := rawDB(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal (persistent in the file)", mode, err)
	}
	// foreign keys, as seen through the store: a dangling reference fails.
	s, _ := open(t, newClock())
	_, _, err := s.AppendTranscript(context.Background(), store.Entry{TicketID: "none", Source: store.SourceBot})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dangling transcript entry: %v, want ErrNotFound (foreign keys on)", err)
	}
}
