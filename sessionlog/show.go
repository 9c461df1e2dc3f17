package sessionlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Entry is one parsed line, for Show and for other callers that read logs.
type Entry struct {
	Seq   int
	Time  time.Time
	Event string
	// Attrs holds every field except the 5 reserved keys; never nil.
	// Values are as encoding/json decodes them into any, except that numbers
	// are json.Number so that large integers keep every digit.
	Attrs map[string]any
}

// Read parses every line without checking the chain (errors only for lines that are not JSON objects with the required fields).
//
// A final line without '\n' is returned if it parses; [Verify] reports it.
// On a line that does not parse, or one over 1 MiB, Read returns the entries
// before it and a [*LineError] that unwraps to [ErrTampered]. When r fails,
// it returns the entries so far and r's error, wrapped.
func Read(r io.Reader) ([]Entry, error) {
	lr := newLineReader(r)
	var entries []Entry
	for n := 1; ; n++ {
		l, err := lr.next()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return entries, fmt.Errorf("sessionlog: read: %w", err)
		}
		if l.tooLong {
			return entries, &LineError{Line: n, Reason: reasonTooLong}
		}
		rec, reason := parseLine(l.b)
		if reason != "" {
			return entries, &LineError{Line: n, Reason: reason}
		}
		e, reason := rec.entry()
		if reason != "" {
			return entries, &LineError{Line: n, Reason: reason}
		}
		entries = append(entries, e)
	}
}

// entry decodes rec's attributes.
func (rec record) entry() (Entry, string) {
	e := Entry{Seq: rec.seq, Time: rec.time, Event: rec.event, Attrs: make(map[string]any, len(rec.attrs))}
	for k, raw := range rec.attrs {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return Entry{}, fmt.Sprintf("field %s is not valid JSON", quoteClipped(k))
		}
		e.Attrs[k] = v
	}
	return e, ""
}

// Show writes the log readably, one line per entry: local-independent format
// "2006-01-02 15:04:05Z  <event padded to 14>  key=value key=value" (attributes sorted by key; string values
// quoted with %q only when they contain spaces, quotes, '=' or non-printable characters; nested values as compact JSON),
// then a last line saying either "chain intact: N entries" or "CHAIN BROKEN: <LineError text>". It must not stop
// at a tampered line: show every line it can parse. Returns a non-nil error only on I/O failure.
//
// The event and keys are quoted by the same rule as string values, and empty
// strings are shown as "". A line that cannot be parsed is shown as
// "! line N: <reason>". The LineError text on the last line is the line
// number and reason, without the "sessionlog: " prefix. Nothing from the log
// reaches w as a control character: non-printable characters are escaped.
func Show(w io.Writer, r io.Reader) error {
	bw := bufio.NewWriter(w)
	lr := newLineReader(r)
	var c chain
	var first *LineError
	for {
		l, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("sessionlog: show: %w", err)
		}
		rec, parsed, problem := c.next(l)
		if problem != nil && first == nil {
			first = problem
		}
		var out string
		if parsed {
			e, reason := rec.entry()
			if reason == "" {
				out = formatEntry(e)
			} else {
				out = fmt.Sprintf("! line %d: %s", c.lines, reason)
			}
		} else {
			out = fmt.Sprintf("! line %d: %s", c.lines, problem.Reason)
		}
		if _, err := fmt.Fprintln(bw, out); err != nil {
			return fmt.Errorf("sessionlog: show: %w", err)
		}
	}
	if first == nil {
		_, err := fmt.Fprintf(bw, "chain intact: %d entries\n", c.lines)
		if err != nil {
			return fmt.Errorf("sessionlog: show: %w", err)
		}
	} else {
		_, err := fmt.Fprintf(bw, "CHAIN BROKEN: line %d: %s\n", first.Line, first.Reason)
		if err != nil {
			return fmt.Errorf("sessionlog: show: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sessionlog: show: %w", err)
	}
	return nil
}

// formatEntry returns e as one line of Show's output, without '\n'.
func formatEntry(e Entry) string {
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format("2006-01-02 15:04:05Z"))
	b.WriteString("  ")
	fmt.Fprintf(&b, "%-14s", displayString(e.Event))
	if len(e.Attrs) == 0 {
		return strings.TrimRight(b.String(), " ")
	}
	b.WriteString(" ")
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteByte(' ')
		b.WriteString(displayString(k))
		b.WriteByte('=')
		b.WriteString(displayValue(e.Attrs[k]))
	}
	return b.String()
}

// displayValue formats one attribute value for Show.
func displayValue(v any) string {
	switch v := v.(type) {
	case string:
		return displayString(v)
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	b, err := marshal(v)
	if err != nil {
		// Values come from decoding JSON, so they always encode again.
		return "?"
	}
	return escapeNonPrintable(b)
}

// displayString returns s as is, or quoted with %q when it is empty or
// contains spaces, quotes, '=' or non-printable characters.
func displayString(s string) string {
	if s == "" || strings.ContainsFunc(s, needsQuote) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

func needsQuote(r rune) bool {
	switch r {
	case ' ', '"', '\'', '`', '=':
		return true
	}
	return !unicode.IsPrint(r)
}

// escapeNonPrintable replaces non-printable characters in the JSON text b
// with \u escapes. encoding/json already escapes control characters, so the
// remaining ones (format characters such as U+202E, which reorders text) can
// only be inside strings, where the escape keeps the JSON valid.
func escapeNonPrintable(b []byte) string {
	s := string(b)
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	var out strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			out.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		} else {
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}
