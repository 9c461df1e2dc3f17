package sessionlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

const (
	// version is the value of the "v" field this package writes and accepts.
	version = 1

	// maxLine is the longest line, without its '\n', that is written or accepted.
	maxLine = 1 << 20

	// timeLayout is RFC 3339 with all nine fraction digits, so that times
	// have a fixed width. Times are converted to UTC before formatting.
	timeLayout = "2006-01-02T15:04:05.000000000Z07:00"
)

// zeroPrev is the "prev" value of the first line.
var zeroPrev = [sha256.Size]byte{}

// reserved are the field names the format itself uses.
var reserved = map[string]bool{"v": true, "seq": true, "time": true, "event": true, "prev": true}

// Log appends to one session log file. Safe for concurrent use.
type Log struct {
	path string           // never changes
	now  func() time.Time // never nil

	mu     sync.Mutex
	f      *os.File          // guarded by mu; nil after Close
	seq    int               // guarded by mu; seq of the last line written, 0 for none
	prev   [sha256.Size]byte // guarded by mu; SHA-256 of the last line written
	failed error             // guarded by mu; the write error that stopped the log, if any
}

// Open opens (creating it and its parent directories with 0700, the file with 0600) the log at path for appending.
// If the file already has lines, the chain continues from its last line (hash of that line, seq+1).
// now may be nil (time.Now).
//
// Open reads only the last line of an existing file; it does not verify the
// whole chain. If the file does not end in '\n', or its last line is not a
// well-formed version 1 line, Open returns an error that unwraps to
// [ErrTampered] instead of continuing a chain it cannot trust. Other errors
// come from the file system.
func Open(path string, now func() time.Time) (*Log, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sessionlog: open: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sessionlog: open: %w", err)
	}
	l := &Log{path: path, now: now, f: f}
	if err := l.loadTail(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sessionlog: open %s: %w", path, err)
	}
	return l, nil
}

// loadTail sets l.seq and l.prev from the last line of the file, if any.
// It runs before l is shared, so it needs no lock.
func (l *Log) loadTail() error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	// The last line and its '\n' take at most maxLine+1 bytes; one more byte
	// shows where it starts.
	n := min(size, maxLine+2)
	buf := make([]byte, n)
	if _, err := l.f.ReadAt(buf, size-n); err != nil {
		return err
	}
	if buf[n-1] != '\n' {
		return fmt.Errorf("last line: %s: %w", reasonIncomplete, ErrTampered)
	}
	body := buf[:n-1]
	i := bytes.LastIndexByte(body, '\n')
	if i < 0 && n < size {
		return fmt.Errorf("last line: %s: %w", reasonTooLong, ErrTampered)
	}
	last := body[i+1:] // i is -1 when the file holds a single line
	rec, reason := parseLine(last)
	if reason != "" {
		return fmt.Errorf("last line: %s: %w", reason, ErrTampered)
	}
	l.seq = rec.seq
	l.prev = sha256.Sum256(last)
	return nil
}

// Append writes one line with the given event and attributes, continuing the
// chain. attrs may be nil; Append does not keep or modify it.
//
// Append returns an error, and writes nothing, if event is empty, if an
// attribute key is empty or one of the reserved names v, seq, time, event and
// prev, if a value cannot be encoded as JSON (a channel, NaN, …), or if the
// line would be longer than 1 MiB. After Close it returns an error that
// unwraps to [os.ErrClosed]. If writing the file fails, that error is
// returned by this and every later Append.
func (l *Log) Append(event string, attrs map[string]any) error {
	if event == "" {
		return errors.New("sessionlog: append: event is empty")
	}
	ev, err := marshal(event)
	if err != nil {
		return fmt.Errorf("sessionlog: append %q: %w", event, err)
	}
	// Encode attributes before taking the lock; only the header and the
	// chain link depend on the log's state.
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		if k == "" {
			return fmt.Errorf("sessionlog: append %q: attribute key is empty", event)
		}
		if reserved[k] {
			return fmt.Errorf("sessionlog: append %q: attribute %q is reserved", event, k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var body bytes.Buffer
	for _, k := range keys {
		kb, err := marshal(k)
		if err != nil {
			return fmt.Errorf("sessionlog: append %q: attribute %q: %w", event, k, err)
		}
		vb, err := marshal(attrs[k])
		if err != nil {
			return fmt.Errorf("sessionlog: append %q: attribute %q: %w", event, k, err)
		}
		body.WriteByte(',')
		body.Write(kb)
		body.WriteByte(':')
		body.Write(vb)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("sessionlog: append %q: %w", event, os.ErrClosed)
	}
	if l.failed != nil {
		return fmt.Errorf("sessionlog: append %q: an earlier write failed: %w", event, l.failed)
	}
	seq := l.seq + 1
	line := make([]byte, 0, 160+len(ev)+body.Len())
	line = append(line, `{"v":1,"seq":`...)
	line = strconv.AppendInt(line, int64(seq), 10)
	line = append(line, `,"time":"`...)
	line = l.now().UTC().AppendFormat(line, timeLayout)
	line = append(line, `","event":`...)
	line = append(line, ev...)
	line = append(line, body.Bytes()...)
	line = append(line, `,"prev":"`...)
	line = hex.AppendEncode(line, l.prev[:])
	line = append(line, `"}`...)
	if len(line) > maxLine {
		return fmt.Errorf("sessionlog: append %q: line is %d bytes, longer than the limit of %d", event, len(line), maxLine)
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		// encoding/json never emits a raw newline; guard the format anyway.
		return fmt.Errorf("sessionlog: append %q: encoded line contains a newline", event)
	}
	hash := sha256.Sum256(line)
	line = append(line, '\n')
	if _, err := l.f.Write(line); err != nil {
		l.failed = err
		return fmt.Errorf("sessionlog: append %q: %w", event, err)
	}
	l.seq = seq
	l.prev = hash
	return nil
}

// Path returns the path the log was opened with.
func (l *Log) Path() string { return l.path }

// Close closes the file. Appends after Close fail; closing again returns nil.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("sessionlog: close: %w", err)
	}
	return nil
}

// FileName returns "<YYYY-MM-DD>-<id>.jsonl" for day t (t's own date in UTC), or "<YYYY-MM-DD>-<id>-<role>.jsonl" when role != "".
//
// So that the result is always a single, portable file name, every byte of id
// and role other than ASCII letters, digits, '-', '_' and '.' is replaced by
// '_'.
func FileName(t time.Time, id, role string) string {
	name := t.UTC().Format("2006-01-02") + "-" + safeName(id)
	if role != "" {
		name += "-" + safeName(role)
	}
	return name + ".jsonl"
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// marshal encodes v as compact JSON without HTML escaping, so that chat
// such as "a < b" stays readable in the file.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
