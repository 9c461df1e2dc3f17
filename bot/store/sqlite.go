package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ Store = (*SQLite)(nil)

// busyTimeout is how long a write waits for another process's write
// transaction (a second bot on the same file, a backup) before it fails.
const busyTimeout = 10 * time.Second

// SQLite is the [Store] in one SQLite file. It keeps two pools on the file:
// one connection for every write, each write a BEGIN IMMEDIATE transaction,
// and a few read-only connections that WAL lets run beside the writer.
type SQLite struct {
	// Now is the store's clock, for CreatedAt, UpdatedAt and default times.
	// Nil means time.Now. Set it before the first call; don't change it after.
	Now func() time.Time
	// Rand is where ticket ids and reply tokens come from. Nil means
	// crypto/rand. Set it before the first call; don't change it after.
	Rand io.Reader

	path  string
	write *sql.DB // one connection: all writes, BEGIN IMMEDIATE
	read  *sql.DB // query_only connections
}

// OpenSQLite opens (creating if needed) the database at path and migrates it
// to the newest schema this binary knows. path is a file name: the store
// relies on WAL, which an in-memory database does not have. It fails with
// ErrSchemaTooNew if the database was migrated by a newer binary.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("%w: SQLite store needs a file name, not %q", ErrInvalid, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &SQLite{path: abs}
	// The writer first: it sets journal_mode=WAL, which is persistent, and
	// migrates before anyone reads.
	s.write, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)
	if err := s.checkWAL(ctx); err != nil {
		s.write.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.write.Close()
		return nil, err
	}
	s.read, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	s.read.SetMaxOpenConns(4)
	s.read.SetMaxIdleConns(4)
	if err := s.read.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	return s, nil
}

// Ping checks that the database answers a query, for health checks.
func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// dsn is the modernc.org/sqlite data source name for path. The pragmas run on
// every new connection, busy_timeout first.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// checkWAL makes sure the file really is in WAL mode: SQLite quietly keeps
// the old mode where WAL is impossible, and both the durability argument and
// the reader pool depend on it.
func (s *SQLite) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: open %s: journal mode is %q, not wal", s.path, mode)
	}
	return nil
}

// Close closes both pools. The last connection to close checkpoints the WAL.
func (s *SQLite) Close() error {
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

func (s *SQLite) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *SQLite) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE, so it takes the write
// lock up front and never fails half-way with SQLITE_BUSY on upgrade) and
// commits if fn returns nil.
func (s *SQLite) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrapErr(err)
	}
	return nil
}

// wrapErr turns driver errors into the store's: constraint violations into
// ErrConflict, ErrNotFound or ErrInvalid, everything else prefixed.
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) ||
		errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL,
			sqlite3.SQLITE_CONSTRAINT_DATATYPE:
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return fmt.Errorf("store: %w", err)
}

// Times are stored as INTEGER microseconds since the Unix epoch, UTC: the
// precision of PostgreSQL's timestamptz, and a range far past any expiry.
// The zero time is stored as NULL.

func toMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}
