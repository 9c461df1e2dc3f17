package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles are the SQLite schema's steps, NNNN_what.sql, numbered from
// 0001 without gaps. A step, once released, is never edited: change the
// schema with a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations parses the embedded files; it panics on a misnamed or missing
// step, which is a build mistake the tests catch.
var migrations = func() []migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || path.Ext(e.Name()) != ".sql" {
			panic("store: migration file name not NNNN_name.sql: " + e.Name())
		}
		if v != len(ms)+1 {
			panic(fmt.Sprintf("store: migration %s: want version %d", e.Name(), len(ms)+1))
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	return ms
}()

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int { return len(migrations) }

// migrate brings the database up to SchemaVersion, one transaction per step,
// each recorded in schema_migrations in the same transaction, so a kill at
// any moment leaves the database at a whole step. It refuses a database
// whose schema is newer than this binary's.
func (s *SQLite) migrate(ctx context.Context) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.path, err)
	}
	for _, m := range migrations {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Read the version inside the write transaction: another
			// process may have migrated since the last step.
			var have int
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
				return err
			}
			if have > len(migrations) {
				return fmt.Errorf("%w: %s is at schema version %d, this binary knows up to version %d; run a newer gethelp",
					ErrSchemaTooNew, s.path, have, len(migrations))
			}
			if have >= m.version {
				return nil
			}
			if have != m.version-1 {
				return fmt.Errorf("at schema version %d, cannot apply %s", have, m.name)
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			// Wall-clock time on purpose: this is a note for people, not state.
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixMicro())
			return err
		})
		if errors.Is(err, ErrSchemaTooNew) {
			return err
		}
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", s.path, err)
		}
	}
	return nil
}
