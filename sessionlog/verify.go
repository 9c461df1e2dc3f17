package sessionlog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ErrTampered is what every problem [Verify] finds unwraps to; the error is
// also a [*LineError] naming the line.
var ErrTampered = errors.New("sessionlog: log was changed")

// LineError describes the first problem found in a log. It unwraps to
// [ErrTampered].
type LineError struct {
	Line   int    // 1-based line number in the file
	Reason string // what is wrong, in plain words, without the line number
}

// Error returns "sessionlog: line <Line>: <Reason>".
func (e *LineError) Error() string {
	return "sessionlog: line " + strconv.Itoa(e.Line) + ": " + e.Reason
}

// Unwrap returns [ErrTampered].
func (e *LineError) Unwrap() error { return ErrTampered }

const (
	reasonIncomplete = "incomplete line: it does not end in a newline, so the file was cut short"
	reasonTooLong    = "line too long: over 1 MiB"
)

// Verify reads a whole log and checks every line: valid JSON object, v==1, seq consecutive from 1, time parses,
// event non-empty, prev equals SHA-256 of the previous line's bytes. It returns the number of good lines.
// On the first problem it returns an error that unwraps to ErrTampered (errors.Is) and is a *LineError
// (errors.As) naming the 1-based line and the reason in plain words, e.g.
// "sessionlog: line 7: hash chain broken: line 6 was changed, or a line was removed or inserted here".
// An empty file verifies with 0 lines and no error. A final line without '\n' is a problem ("line N: incomplete line").
//
// When r fails, Verify returns the number of good lines so far and r's error,
// wrapped; it does not unwrap to ErrTampered. Verify cannot notice a change to
// the last line or lines missing from the end; see the package
// documentation.
func Verify(r io.Reader) (int, error) {
	lr := newLineReader(r)
	var c chain
	for {
		l, err := lr.next()
		if err == io.EOF {
			return c.lines, nil
		}
		if err != nil {
			return c.lines, fmt.Errorf("sessionlog: verify: %w", err)
		}
		if _, _, problem := c.next(l); problem != nil {
			return c.lines - 1, problem
		}
	}
}

// chain checks lines one after another.
type chain struct {
	lines int               // lines seen so far
	prev  [sha256.Size]byte // SHA-256 of the last line seen; zero before the first
}

// next checks line l, the next line of the file. It returns the parsed
// record, whether l could be parsed at all, and the problem with l, if any.
// When parsed is false, problem is not nil.
func (c *chain) next(l rawLine) (rec record, parsed bool, problem *LineError) {
	c.lines++
	n := c.lines
	if l.tooLong {
		return record{}, false, &LineError{Line: n, Reason: reasonTooLong}
	}
	prev := c.prev
	c.prev = sha256.Sum256(l.b)
	rec, reason := parseLine(l.b)
	parsed = reason == ""
	switch {
	case !l.complete:
		return rec, parsed, &LineError{Line: n, Reason: reasonIncomplete}
	case !parsed:
		return rec, false, &LineError{Line: n, Reason: reason}
	case rec.seq != n:
		return rec, true, &LineError{Line: n, Reason: fmt.Sprintf(
			"seq is %d where %d was expected: a line was removed, inserted or moved here", rec.seq, n)}
	case rec.prev != hex.EncodeToString(prev[:]):
		if n == 1 {
			return rec, true, &LineError{Line: n, Reason: "hash chain broken: the first line's prev is not all zeros, so the start of the log was changed"}
		}
		return rec, true, &LineError{Line: n, Reason: fmt.Sprintf(
			"hash chain broken: line %d was changed, or a line was removed or inserted here", n-1)}
	}
	return rec, true, nil
}

// record is one parsed line.
type record struct {
	seq   int
	time  time.Time
	event string
	prev  string
	attrs map[string]json.RawMessage // everything but the reserved fields; nil if none
}

// parseLine parses one line, without its '\n'. It checks that the line is a
// JSON object without duplicate fields and that the reserved fields are
// present with the right types. On failure it returns the reason in plain
// words, which never contains control characters.
func parseLine(b []byte) (record, string) {
	if !json.Valid(b) {
		return record{}, "not valid JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return record{}, "not a JSON object"
	}
	fields := make(map[string]json.RawMessage)
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return record{}, "not valid JSON"
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return record{}, "not valid JSON"
		}
		if _, dup := fields[key]; dup {
			return record{}, fmt.Sprintf("field %s appears twice", quoteClipped(key))
		}
		fields[key] = raw
	}

	var rec record
	var reason string
	v, reason := field[int](fields, "v", "a version number")
	if reason != "" {
		return record{}, reason
	}
	if v != version {
		return record{}, fmt.Sprintf("unsupported format version %d (this reader knows version %d)", v, version)
	}
	if rec.seq, reason = field[int](fields, "seq", "a whole number"); reason != "" {
		return record{}, reason
	}
	if rec.seq < 1 {
		return record{}, `field "seq" is not a positive number`
	}
	ts, reason := field[string](fields, "time", "a string")
	if reason != "" {
		return record{}, reason
	}
	if rec.time, reason = parseTime(ts); reason != "" {
		return record{}, reason
	}
	if rec.event, reason = field[string](fields, "event", "a string"); reason != "" {
		return record{}, reason
	}
	if rec.event == "" {
		return record{}, `field "event" is empty`
	}
	if rec.prev, reason = field[string](fields, "prev", "a string"); reason != "" {
		return record{}, reason
	}
	for k := range reserved {
		delete(fields, k)
	}
	if len(fields) > 0 {
		rec.attrs = fields
	}
	return rec, ""
}

// field decodes the reserved field name as a T, which must not be null.
func field[T any](fields map[string]json.RawMessage, name, what string) (T, string) {
	var v T
	raw, ok := fields[name]
	if !ok {
		return v, fmt.Sprintf("field %q is missing", name)
	}
	if string(raw) == "null" || json.Unmarshal(raw, &v) != nil {
		return v, fmt.Sprintf("field %q is not %s", name, what)
	}
	return v, ""
}

func parseTime(s string) (time.Time, string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, `field "time" is not an RFC 3339 time`
	}
	return t, ""
}

// quoteClipped quotes s for a message, shortened to at most 40 bytes.
func quoteClipped(s string) string {
	const limit = 40
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// lineReader splits a log into lines of any length up to maxLine, unlike
// bufio.Scanner, whose default limit is 64 KiB.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
}

// rawLine is one line as read.
type rawLine struct {
	b        []byte // the line without '\n'; valid until the next call to next; empty if tooLong
	complete bool   // the line ended in '\n'
	tooLong  bool   // the line was longer than maxLine and was skipped
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReader(r)}
}

// next returns the next line, or io.EOF when there are no more, or the
// error from the underlying reader.
func (lr *lineReader) next() (rawLine, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		complete := err == nil
		if !tooLong {
			size := len(lr.buf) + len(chunk)
			if complete {
				size--
			}
			if size > maxLine {
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			if tooLong {
				return rawLine{complete: true, tooLong: true}, nil
			}
			return rawLine{b: lr.buf[:len(lr.buf)-1], complete: true}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if tooLong {
				return rawLine{tooLong: true}, nil
			}
			if len(lr.buf) == 0 {
				return rawLine{}, io.EOF
			}
			return rawLine{b: lr.buf}, nil
		default:
			return rawLine{}, err
		}
	}
}
