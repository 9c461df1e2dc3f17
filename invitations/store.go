package invitations

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is the state of an invitation in the local list.
type State string

// The states of an invitation. A record is stored as StateOpen while its
// host waits; Record.Effective and Store.List turn a stale open record into
// StateExpired or StateCancelled.
const (
	StateOpen      State = "open"      // a host is waiting for a helper
	StateUsed      State = "used"      // a helper connected
	StateExpired   State = "expired"   // the invitation's time ran out
	StateCancelled State = "cancelled" // the person withdrew it, or its host went away
	StateLocked    State = "locked"    // dead after too many wrong passwords
)

func (s State) valid() bool {
	switch s {
	case StateOpen, StateUsed, StateExpired, StateCancelled, StateLocked:
		return true
	}
	return false
}

// Record is an entry in the local list of past invitations, from which a
// person can resend or cancel one. It holds no password and no key.
type Record struct {
	ID       string    `json:"id"`             // the invitation id; names the record file
	HostName string    `json:"host_name"`      // as in the invitation
	File     string    `json:"file,omitempty"` // where the invitation file was saved, if anywhere
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	State    State     `json:"state"`         // as stored; see Effective
	Failures int       `json:"failures"`      // wrong-password attempts on the current issue
	PID      int       `json:"pid,omitempty"` // the waiting host process while open; 0 if unknown
	Updated  time.Time `json:"updated"`       // set by Store.Put and Store.Update
}

// Effective returns r's state as a person would describe it at now:
// an open record whose Expires has passed is StateExpired, and an open
// record whose PID no longer names a running process is StateCancelled (its
// host stopped without saying so, for instance because it was killed). Any
// other record keeps its stored State.
//
// Whether a PID runs is checked only on Unix; elsewhere every PID counts as
// running. A PID that the system has since reused for another process makes
// a dead host look alive until the invitation expires.
func (r Record) Effective(now time.Time) State {
	if r.State != StateOpen {
		return r.State
	}
	if !now.Before(r.Expires) {
		return StateExpired
	}
	if r.PID > 0 && !processAlive(r.PID) {
		return StateCancelled
	}
	return StateOpen
}

// Store is the local list of past invitations: one JSON file per
// invitation, <Dir>/<ID>.json, each replaced atomically (written to a
// temporary file in Dir, then renamed) with mode 0600, in a Dir created with
// mode 0700 when first written. Writers take an exclusive lock on
// <Dir>/.lock, so that a waiting host process and a `gethelp invitations
// cancel` in another process never lose each other's changes. It never
// holds a password or a private key.
//
// The zero Store is not usable: Dir must be set. Several Stores, in one
// process or several, may share a Dir.
type Store struct {
	Dir string           // the directory of record files; required
	Now func() time.Time // the clock; nil means time.Now
}

const (
	recordExt = ".json"
	lockName  = ".lock"
)

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Put stores r, replacing any record with the same ID, and sets its Updated
// time to now. It returns an error when r.ID is not a valid invitation id or
// r.State is not one of the States.
func (s *Store) Put(r Record) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r.Updated = s.now().UTC()
	return s.writeLocked(r)
}

// Get returns the record for id. The error wraps ErrNotFound, naming the id,
// when there is none, which includes every id that is not a valid
// invitation id (so that no id can name a file outside Dir). A record file
// that cannot be read or decoded gives an error naming the file.
func (s *Store) Get(id string) (Record, error) {
	if err := s.checkID(id); err != nil {
		return Record{}, err
	}
	return s.read(id)
}

// Update reads the record for id, calls fn on it and, if fn returns nil,
// writes it back with Updated set to now, and returns it. The whole
// read-modify-write holds the store's exclusive lock, so concurrent updates
// from any process are applied one after the other. fn must not change the
// ID. Update returns fn's error unchanged, and Get's errors.
func (s *Store) Update(id string, fn func(*Record) error) (Record, error) {
	if err := s.checkID(id); err != nil {
		return Record{}, err
	}
	unlock, err := s.lock()
	if err != nil {
		return Record{}, err
	}
	defer unlock()
	r, err := s.read(id)
	if err != nil {
		return Record{}, err
	}
	if err := fn(&r); err != nil {
		return Record{}, err
	}
	if r.ID != id {
		return Record{}, fmt.Errorf("invitations: update of %s changed its id to %s", id, quote(r.ID))
	}
	if err := checkRecord(r); err != nil {
		return Record{}, err
	}
	r.Updated = s.now().UTC()
	if err := s.writeLocked(r); err != nil {
		return Record{}, err
	}
	return r, nil
}

// List returns every record, newest Created first (ties by ID), each with
// its State replaced by its effective state now (see Record.Effective). A
// missing Dir is an empty list.
//
// A record file that cannot be read or decoded does not hide the others:
// List skips it and returns the remaining records together with a non-nil
// error naming each skipped file (joined with errors.Join). Callers should
// show the records and report the error. Files in Dir whose names are not
// <ID>.json are ignored.
func (s *Store) List() ([]Record, error) {
	if s.Dir == "" {
		return nil, errors.New("invitations: store has no directory")
	}
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("invitations: list: %w", err)
	}
	now := s.now()
	var (
		records []Record
		errs    []error
	)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), recordExt)
		if !ok || !validID(id) || e.IsDir() {
			continue
		}
		r, err := s.read(id)
		if err != nil {
			if !errors.Is(err, ErrNotFound) { // removed since ReadDir: not an error
				errs = append(errs, err)
			}
			continue
		}
		r.State = r.Effective(now)
		records = append(records, r)
	}
	slices.SortFunc(records, func(a, b Record) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return records, errors.Join(errs...)
}

func (s *Store) checkID(id string) error {
	if s.Dir == "" {
		return errors.New("invitations: store has no directory")
	}
	if !validID(id) {
		return &invError{
			msg:  fmt.Sprintf("no such invitation %s (an id is %d characters from %s)", quote(id), idLen, Alphabet),
			kind: ErrNotFound,
		}
	}
	return nil
}

func checkRecord(r Record) error {
	if !validID(r.ID) {
		return fmt.Errorf("invitations: bad record id %s: not %d characters from %s", quote(r.ID), idLen, Alphabet)
	}
	if !r.State.valid() {
		return fmt.Errorf("invitations: record %s has unknown state %s", r.ID, quote(string(r.State)))
	}
	return nil
}

func (s *Store) path(id string) string { return filepath.Join(s.Dir, id+recordExt) }

// read reads and decodes the record file for the valid id.
func (s *Store) read(id string) (Record, error) {
	name := s.path(id)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, &invError{msg: "no such invitation " + id, kind: ErrNotFound}
	}
	if err != nil {
		return Record{}, fmt.Errorf("invitations: read record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("invitations: corrupt record file %s: %w", name, err)
	}
	if r.ID != id {
		return Record{}, fmt.Errorf("invitations: corrupt record file %s: it holds id %s", name, quote(r.ID))
	}
	if !r.State.valid() {
		return Record{}, fmt.Errorf("invitations: corrupt record file %s: unknown state %s", name, quote(string(r.State)))
	}
	return r, nil
}

// writeLocked atomically replaces the record file of r. The caller holds
// the store's lock.
func (s *Store) writeLocked(r Record) (err error) {
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return fmt.Errorf("invitations: encode record %s: %w", r.ID, err)
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(s.Dir, ".tmp-"+r.ID+"-*")
	if err != nil {
		return fmt.Errorf("invitations: write record %s: %w", r.ID, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("invitations: write record %s: %w", r.ID, err)
		}
	}()
	if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), s.path(r.ID)); err != nil {
		return err
	}
	syncDir(s.Dir)
	return nil
}

// syncDir makes a rename in dir durable where the system supports it. It is
// best effort: the rename has happened either way.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// dirLocks holds one *sync.Mutex per store directory, so that goroutines of
// one process exclude each other even where file locks are not available.
var dirLocks sync.Map // cleaned absolute Dir → *sync.Mutex

// lock creates Dir if needed and takes the store's exclusive lock: the
// process-wide mutex for Dir, then the file lock on <Dir>/.lock. The
// returned function releases both.
func (s *Store) lock() (unlock func(), err error) {
	if s.Dir == "" {
		return nil, errors.New("invitations: store has no directory")
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("invitations: create store: %w", err)
	}
	key, err := filepath.Abs(s.Dir)
	if err != nil {
		key = filepath.Clean(s.Dir)
	}
	v, _ := dirLocks.LoadOrStore(key, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	f, err := os.OpenFile(filepath.Join(s.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		mu.Unlock()
		return nil, fmt.Errorf("invitations: lock store: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		mu.Unlock()
		return nil, fmt.Errorf("invitations: lock store: %w", err)
	}
	return func() {
		unlockFile(f)
		f.Close()
		mu.Unlock()
	}, nil
}
