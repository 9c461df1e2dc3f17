package sessionlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gethelp/gethelp/sessionlog"
)

// clock returns a now function that starts at start and advances by step on
// every call.
func clock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(step)
		return t
	}
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

type event struct {
	name  string
	attrs map[string]any
}

// session is the four-line log most tests start from.
var session = []event{
	{"listening", map[string]any{"port": 4242}},
	{"connected", map[string]any{"user": "alice", "addr": "192.0.2.7:5000"}},
	{"consent", map[string]any{"control": true}},
	{"disconnected", map[string]any{"lines": 4}},
}

// writeLog appends events to the log at path, opening and closing it.
func writeLog(t *testing.T, path string, now func() time.Time, events []event) {
	t.Helper()
	l, err := sessionlog.Open(path, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := l.Append(e.name, e.attrs); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// sessionBytes returns the bytes of the four-line session log.
func sessionBytes(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.jsonl")
	writeLog(t, path, clock(t0, time.Second), session)
	return readFile(t, path)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func verifyFile(t *testing.T, path string) (int, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sessionlog.Verify(f)
}

// lines splits a log into its lines, without their '\n'.
func lines(b []byte) [][]byte {
	return bytes.SplitAfter(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'})
}

func join(ls [][]byte) []byte {
	var out []byte
	for _, l := range ls {
		out = append(out, bytes.TrimSuffix(l, []byte{'\n'})...)
		out = append(out, '\n')
	}
	return out
}

func hashHex(line []byte) string {
	sum := sha256.Sum256(bytes.TrimSuffix(line, []byte{'\n'}))
	return hex.EncodeToString(sum[:])
}

func TestAppendVerify(t *testing.T) {
	tests := []struct {
		name   string
		events []event
	}{
		{"no lines", nil},
		{"one line without attributes", []event{{"started", nil}}},
		{"session", session},
		{"all value kinds", []event{{"kinds", map[string]any{
			"s": "text", "i": -7, "f": 1.5, "b": false, "n": nil,
			"nested": map[string]any{"list": []any{1, "two", []int{3}}},
			"raw":    json.RawMessage(`{ "spaced" : [ 1 , 2 ] }`),
			"html":   "<b>&</b>", "ctl": "a\nb\x1b[31m", "utf8": "Olá ✓",
		}}}},
		{"long line over 64 KiB", []event{{"chat", map[string]any{"text": strings.Repeat("x", 200<<10)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.jsonl")
			writeLog(t, path, clock(t0, time.Second), tt.events)
			n, err := verifyFile(t, path)
			if err != nil || n != len(tt.events) {
				t.Fatalf("Verify = %d, %v; want %d, nil", n, err, len(tt.events))
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			entries, err := sessionlog.Read(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(tt.events) {
				t.Fatalf("Read returned %d entries, want %d", len(entries), len(tt.events))
			}
			for i, e := range entries {
				if e.Seq != i+1 || e.Event != tt.events[i].name || len(e.Attrs) != len(tt.events[i].attrs) {
					t.Errorf("entry %d = %+v, want seq %d event %q with %d attributes", i, e, i+1, tt.events[i].name, len(tt.events[i].attrs))
				}
				if want := t0.Add(time.Duration(i) * time.Second); !e.Time.Equal(want) {
					t.Errorf("entry %d time = %v, want %v", i, e.Time, want)
				}
			}
		})
	}
}

func TestLineLayout(t *testing.T) {
	b := sessionBytes(t)
	ls := lines(b)
	want1 := `{"v":1,"seq":1,"time":"2025-03-14T09:26:53.589793238Z","event":"listening","port":4242,"prev":"` + strings.Repeat("0", 64) + `"}` + "\n"
	if string(ls[0]) != want1 {
		t.Errorf("line 1 =\n%s\nwant\n%s", ls[0], want1)
	}
	want2 := `{"v":1,"seq":2,"time":"2025-03-14T09:26:54.589793238Z","event":"connected","addr":"192.0.2.7:5000","user":"alice","prev":"` + hashHex(ls[0]) + `"}` + "\n"
	if string(ls[1]) != want2 {
		t.Errorf("line 2 =\n%s\nwant\n%s", ls[1], want2)
	}
}

func TestReopenContinuesChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dirs", "s.jsonl")
	now := clock(t0, time.Second)
	writeLog(t, path, now, session[:2])
	first := readFile(t, path)
	writeLog(t, path, now, session[2:])
	all := readFile(t, path)

	if !bytes.HasPrefix(all, first) {
		t.Fatal("reopening changed the existing lines")
	}
	ls := lines(all)
	if !bytes.Contains(ls[2], []byte(`"seq":3,`)) {
		t.Errorf("line 3 does not continue seq: %s", ls[2])
	}
	if !bytes.Contains(ls[2], []byte(`"prev":"`+hashHex(ls[1])+`"`)) {
		t.Errorf("line 3 does not continue the hash chain: %s", ls[2])
	}
	if n, err := verifyFile(t, path); err != nil || n != 4 {
		t.Fatalf("Verify = %d, %v; want 4, nil", n, err)
	}
}

func TestOpenRefusesBrokenTail(t *testing.T) {
	good := sessionBytes(t)
	tests := []struct {
		name string
		data []byte
	}{
		{"incomplete last line", good[:len(good)-1]},
		{"last line cut in half", good[:len(good)-40]},
		{"last line not JSON", append(bytes.Clone(good), "hello\n"...)},
		{"empty last line", append(bytes.Clone(good), '\n')},
		{"last line too long", append(bytes.Clone(good), strings.Repeat("x", 1<<20+1)+"\n"...)},
		{"only line too long", []byte(strings.Repeat("x", 1<<20+1) + "\n")},
		{"unsupported version", []byte(`{"v":2,"seq":1,"time":"2025-03-14T09:26:53Z","event":"x","prev":""}` + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.jsonl")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := sessionlog.Open(path, nil)
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !errors.Is(err, sessionlog.ErrTampered) {
				t.Errorf("Open error %q does not unwrap to ErrTampered", err)
			}
			if !bytes.Equal(readFile(t, path), tt.data) {
				t.Error("Open changed the file")
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "s.jsonl")
	writeLog(t, path, nil, session[:1])
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s has mode %v, want %v", c.path, got, c.want)
		}
	}
}

func TestTamperingDetected(t *testing.T) {
	good := sessionBytes(t)
	tests := []struct {
		name       string
		tamper     func(ls [][]byte) []byte
		wantGood   int
		wantLine   int // 0: not detectable, Verify must succeed
		wantReason string
	}{
		{
			name: "edit a value in line 2",
			tamper: func(ls [][]byte) []byte {
				ls[1] = bytes.Replace(ls[1], []byte("alice"), []byte("mallory"), 1)
				return join(ls)
			},
			wantGood: 2, wantLine: 3, wantReason: "hash chain broken: line 2 was changed, or a line was removed or inserted here",
		},
		{
			name: "delete a middle line",
			tamper: func(ls [][]byte) []byte {
				return join(append(ls[:1:1], ls[2:]...))
			},
			wantGood: 1, wantLine: 2, wantReason: "seq is 3 where 2 was expected",
		},
		{
			name: "delete a middle line and renumber",
			tamper: func(ls [][]byte) []byte {
				ls[2] = bytes.Replace(ls[2], []byte(`"seq":3`), []byte(`"seq":2`), 1)
				ls[3] = bytes.Replace(ls[3], []byte(`"seq":4`), []byte(`"seq":3`), 1)
				return join(append(ls[:1:1], ls[2:]...))
			},
			wantGood: 1, wantLine: 2, wantReason: "hash chain broken: line 1 was changed",
		},
		{
			name: "swap lines 2 and 3",
			tamper: func(ls [][]byte) []byte {
				ls[1], ls[2] = ls[2], ls[1]
				return join(ls)
			},
			wantGood: 1, wantLine: 2, wantReason: "seq is 3 where 2 was expected",
		},
		{
			name: "insert a copy of line 2",
			tamper: func(ls [][]byte) []byte {
				return join([][]byte{ls[0], ls[1], ls[1], ls[2], ls[3]})
			},
			wantGood: 2, wantLine: 3, wantReason: "seq is 2 where 3 was expected",
		},
		{
			name: "insert a forged line with a correct link",
			tamper: func(ls [][]byte) []byte {
				forged := []byte(`{"v":1,"seq":3,"time":"2025-03-14T09:26:54.9Z","event":"consent","files":true,"prev":"` + hashHex(ls[1]) + `"}`)
				return join([][]byte{ls[0], ls[1], forged, ls[2], ls[3]})
			},
			wantGood: 3, wantLine: 4, wantReason: "seq is 3 where 4 was expected",
		},
		{
			name: "truncate the final newline",
			tamper: func(ls [][]byte) []byte {
				b := join(ls)
				return b[:len(b)-1]
			},
			wantGood: 3, wantLine: 4, wantReason: "incomplete line",
		},
		{
			name: "truncate the final line mid-way",
			tamper: func(ls [][]byte) []byte {
				b := join(ls)
				return b[:len(b)-30]
			},
			wantGood: 3, wantLine: 4, wantReason: "incomplete line",
		},
		{
			name: "change a seq",
			tamper: func(ls [][]byte) []byte {
				ls[2] = bytes.Replace(ls[2], []byte(`"seq":3`), []byte(`"seq":7`), 1)
				return join(ls)
			},
			wantGood: 2, wantLine: 3, wantReason: "seq is 7 where 3 was expected",
		},
		{
			name: "invalid JSON line",
			tamper: func(ls [][]byte) []byte {
				ls[1] = ls[1][:len(ls[1])/2]
				return join(ls)
			},
			wantGood: 1, wantLine: 2, wantReason: "not valid JSON",
		},
		{
			name: "JSON that is not an object",
			tamper: func(ls [][]byte) []byte {
				ls[1] = []byte(`["v",1]`)
				return join(ls)
			},
			wantGood: 1, wantLine: 2, wantReason: "not a JSON object",
		},
		{
			name: "duplicate field",
			tamper: func(ls [][]byte) []byte {
				ls[1] = bytes.Replace(ls[1], []byte(`"user":"alice"`), []byte(`"user":"alice","user":"mallory"`), 1)
				return join(ls)
			},
			wantGood: 1, wantLine: 2, wantReason: `field "user" appears twice`,
		},
		{
			name: "empty event",
			tamper: func(ls [][]byte) []byte {
				ls[0] = bytes.Replace(ls[0], []byte(`"event":"listening"`), []byte(`"event":""`), 1)
				return join(ls)
			},
			wantGood: 0, wantLine: 1, wantReason: `field "event" is empty`,
		},
		{
			name: "bad time",
			tamper: func(ls [][]byte) []byte {
				ls[3] = bytes.Replace(ls[3], []byte(`2025-03-14T`), []byte(`2025-03-14 `), 1)
				return join(ls)
			},
			wantGood: 3, wantLine: 4, wantReason: `field "time" is not an RFC 3339 time`,
		},
		{
			name: "other version",
			tamper: func(ls [][]byte) []byte {
				ls[2] = bytes.Replace(ls[2], []byte(`"v":1`), []byte(`"v":2`), 1)
				return join(ls)
			},
			wantGood: 2, wantLine: 3, wantReason: "unsupported format version 2",
		},
		{
			name: "null prev",
			tamper: func(ls [][]byte) []byte {
				ls[0] = []byte(`{"v":1,"seq":1,"time":"2025-03-14T09:26:53Z","event":"x","prev":null}`)
				return join(ls)
			},
			wantGood: 0, wantLine: 1, wantReason: `field "prev" is not a string`,
		},
		{
			name: "delete the first line",
			tamper: func(ls [][]byte) []byte {
				return join(ls[1:])
			},
			wantGood: 0, wantLine: 1, wantReason: "seq is 2 where 1 was expected",
		},
		{
			name: "windows line endings",
			tamper: func(ls [][]byte) []byte {
				return bytes.ReplaceAll(join(ls), []byte("\n"), []byte("\r\n"))
			},
			wantGood: 1, wantLine: 2, wantReason: "hash chain broken: line 1 was changed",
		},
		{
			name: "edit the last line (not detectable, see doc.go)",
			tamper: func(ls [][]byte) []byte {
				ls[3] = bytes.Replace(ls[3], []byte(`"lines":4`), []byte(`"lines":5`), 1)
				return join(ls)
			},
			wantGood: 4,
		},
		{
			name: "delete the last line (not detectable, see doc.go)",
			tamper: func(ls [][]byte) []byte {
				return join(ls[:3])
			},
			wantGood: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.tamper(lines(bytes.Clone(good)))
			path := filepath.Join(t.TempDir(), "s.jsonl")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			n, err := verifyFile(t, path)
			if n != tt.wantGood {
				t.Errorf("Verify counted %d good lines, want %d", n, tt.wantGood)
			}
			if tt.wantLine == 0 {
				if err != nil {
					t.Fatalf("Verify = %v, want no error", err)
				}
				return
			}
			if !errors.Is(err, sessionlog.ErrTampered) {
				t.Fatalf("Verify error %v does not unwrap to ErrTampered", err)
			}
			var le *sessionlog.LineError
			if !errors.As(err, &le) {
				t.Fatalf("Verify error %v is not a *LineError", err)
			}
			if le.Line != tt.wantLine || !strings.Contains(le.Reason, tt.wantReason) {
				t.Errorf("Verify error = line %d %q, want line %d containing %q", le.Line, le.Reason, tt.wantLine, tt.wantReason)
			}
			if want := fmt.Sprintf("sessionlog: line %d: %s", le.Line, le.Reason); err.Error() != want {
				t.Errorf("error text = %q, want %q", err.Error(), want)
			}

			// Show keeps going past the problem and names it last.
			var out bytes.Buffer
			if err := sessionlog.Show(&out, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			shown := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if want := len(lines(data)) + 1; len(shown) != want {
				t.Errorf("Show wrote %d lines, want %d:\n%s", len(shown), want, out.String())
			}
			last := shown[len(shown)-1]
			if want := fmt.Sprintf("CHAIN BROKEN: line %d: %s", le.Line, le.Reason); last != want {
				t.Errorf("Show's last line = %q, want %q", last, want)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	tests := []struct {
		name  string
		event string
		attrs map[string]any
		want  string
	}{
		{"empty event", "", nil, "event is empty"},
		{"reserved v", "x", map[string]any{"v": 2}, `attribute "v" is reserved`},
		{"reserved seq", "x", map[string]any{"seq": 1}, `attribute "seq" is reserved`},
		{"reserved time", "x", map[string]any{"time": "now"}, `attribute "time" is reserved`},
		{"reserved event", "x", map[string]any{"event": "y"}, `attribute "event" is reserved`},
		{"reserved prev", "x", map[string]any{"prev": ""}, `attribute "prev" is reserved`},
		{"empty key", "x", map[string]any{"": 1}, "attribute key is empty"},
		{"NaN", "x", map[string]any{"f": math.NaN()}, `attribute "f"`},
		{"channel", "x", map[string]any{"c": make(chan int)}, `attribute "c"`},
		{"invalid raw JSON", "x", map[string]any{"r": json.RawMessage(`{`)}, `attribute "r"`},
		{"line over 1 MiB", "chat", map[string]any{"text": strings.Repeat("x", 1<<20)}, "longer than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.jsonl")
			l, err := sessionlog.Open(path, clock(t0, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			err = l.Append(tt.event, tt.attrs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Append error = %v, want one containing %q", err, tt.want)
			}
			// Nothing was written, and the log still works.
			if err := l.Append("ok", nil); err != nil {
				t.Fatal(err)
			}
			if n, err := verifyFile(t, path); err != nil || n != 1 {
				t.Fatalf("Verify = %d, %v; want 1, nil", n, err)
			}
		})
	}
}

func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, err := sessionlog.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Path() != path {
		t.Errorf("Path() = %q, want %q", l.Path(), path)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append("late", nil); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Append after Close = %v, want os.ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	const goroutines, each = 8, 50
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, err := sessionlog.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := l.Append("chat", map[string]any{"from": g, "i": i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := verifyFile(t, path); err != nil || n != goroutines*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, goroutines*each)
	}
	entries, err := sessionlog.Read(bytes.NewReader(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Time.Before(entries[i-1].Time) {
			t.Errorf("line %d is earlier than line %d", i+1, i)
		}
	}
}

func TestFileName(t *testing.T) {
	east := time.FixedZone("UTC+10", 10*3600)
	tests := []struct {
		name     string
		t        time.Time
		id, role string
		want     string
	}{
		{"no role", t0, "7Q2M-K9XD", "", "2025-03-14-7Q2M-K9XD.jsonl"},
		{"role", t0, "7Q2M-K9XD", "host", "2025-03-14-7Q2M-K9XD-host.jsonl"},
		{"date in UTC", time.Date(2025, 3, 15, 8, 0, 0, 0, east), "id", "viewer", "2025-03-14-id-viewer.jsonl"},
		{"unsafe characters", t0, "../a/b\\c d", "x/y", "2025-03-14-.._a_b_c_d-x_y.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sessionlog.FileName(tt.t, tt.id, tt.role); got != tt.want {
				t.Errorf("FileName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineTooLong(t *testing.T) {
	good := sessionBytes(t)
	ls := lines(good)
	long := []byte(strings.Repeat("y", 1<<20+1))
	data := join([][]byte{ls[0], long, ls[1]})

	n, err := sessionlog.Verify(bytes.NewReader(data))
	var le *sessionlog.LineError
	if n != 1 || !errors.As(err, &le) || le.Line != 2 || !strings.Contains(le.Reason, "too long") {
		t.Errorf("Verify = %d, %v; want 1 and line 2 too long", n, err)
	}
	entries, err := sessionlog.Read(bytes.NewReader(data))
	if len(entries) != 1 || !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("Read = %d entries, %v; want 1 and line 2 too long", len(entries), err)
	}
	var out bytes.Buffer
	if err := sessionlog.Show(&out, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	want := "2025-03-14 09:26:53Z  listening       port=4242\n" +
		"! line 2: line too long: over 1 MiB\n" +
		"2025-03-14 09:26:54Z  connected       addr=192.0.2.7:5000 user=alice\n" +
		"CHAIN BROKEN: line 2: line too long: over 1 MiB\n"
	if out.String() != want {
		t.Errorf("Show =\n%s\nwant\n%s", out.String(), want)
	}

	// Exactly 1 MiB is allowed.
	maxed := []byte(`{"v":1,"seq":1,"time":"2025-03-14T09:26:53Z","event":"chat","text":"","prev":"` + strings.Repeat("0", 64) + `"}`)
	maxed = bytes.Replace(maxed, []byte(`"text":""`), []byte(`"text":"`+strings.Repeat("z", 1<<20-len(maxed))+`"`), 1)
	if len(maxed) != 1<<20 {
		t.Fatalf("test line is %d bytes", len(maxed))
	}
	if n, err := sessionlog.Verify(bytes.NewReader(append(maxed, '\n'))); n != 1 || err != nil {
		t.Errorf("Verify of a 1 MiB line = %d, %v; want 1, nil", n, err)
	}
}

func TestRead(t *testing.T) {
	data := []byte(`{"v":1,"seq":1,"time":"2025-03-14T10:26:53+01:00","event":"file","big":12345678901234567890,"ok":true,"meta":{"b":[1,null]},"prev":"whatever"}` + "\n" +
		`{"v":1,"seq":9,"time":"2025-03-14T09:27:00Z","event":"chat","prev":""}` + "\n" +
		`{"v":1,"seq":3,"event":"x","prev":""}` + "\n" +
		`{"v":1,"seq":4,"time":"2025-03-14T09:27:00Z","event":"never reached","prev":""}` + "\n")
	entries, err := sessionlog.Read(bytes.NewReader(data))
	var le *sessionlog.LineError
	if !errors.As(err, &le) || le.Line != 3 || le.Reason != `field "time" is missing` || !errors.Is(err, sessionlog.ErrTampered) {
		t.Fatalf("Read error = %v, want line 3 missing time", err)
	}
	if len(entries) != 2 {
		t.Fatalf("Read returned %d entries, want 2", len(entries))
	}
	e := entries[0]
	if e.Seq != 1 || e.Event != "file" || !e.Time.Equal(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)) {
		t.Errorf("entry 1 = %+v", e)
	}
	if got := e.Attrs["big"]; got != json.Number("12345678901234567890") {
		t.Errorf(`Attrs["big"] = %#v, want the exact json.Number`, got)
	}
	if got := e.Attrs["ok"]; got != true {
		t.Errorf(`Attrs["ok"] = %#v, want true`, got)
	}
	if meta, ok := e.Attrs["meta"].(map[string]any); !ok || fmt.Sprint(meta["b"]) != "[1 <nil>]" {
		t.Errorf(`Attrs["meta"] = %#v`, e.Attrs["meta"])
	}
	if len(e.Attrs) != 3 {
		t.Errorf("Attrs has %d keys, want 3 (no reserved keys): %v", len(e.Attrs), e.Attrs)
	}
	if entries[1].Seq != 9 || entries[1].Attrs == nil {
		t.Errorf("entry 2 = %+v, want seq 9 (Read does not check the chain) and non-nil Attrs", entries[1])
	}
}

func TestShowQuoting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	writeLog(t, path, clock(t0, time.Second), []event{
		{"a very long event name", nil},
		{"q", map[string]any{
			"plain": "abc", "space": "a b", "dq": `a"b`, "sq": "it's", "eq": "a=b",
			"esc": "\x1b[2J", "rtl": "a\u202eb", "empty": "", "nested": map[string]any{"x": "\u202e\x07"},
			"key with space": 1, "num": 1e21, "null": nil,
		}},
	})
	var out bytes.Buffer
	if err := sessionlog.Show(&out, bytes.NewReader(readFile(t, path))); err != nil {
		t.Fatal(err)
	}
	want := `2025-03-14 09:26:53Z  "a very long event name"` + "\n" +
		`2025-03-14 09:26:54Z  q               dq="a\"b" empty="" eq="a=b" esc="\x1b[2J" "key with space"=1 nested={"x":"\u202e\u0007"} null=null num=1e+21 plain=abc rtl="a\u202eb" space="a b" sq="it's"` + "\n" +
		"chain intact: 2 entries\n"
	if out.String() != want {
		t.Errorf("Show =\n%s\nwant\n%s", out.String(), want)
	}
}

type failingReader struct{ data io.Reader }

var errDisk = errors.New("disk on fire")

func (r *failingReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if err == io.EOF {
		return n, errDisk
	}
	return n, err
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestIOErrors(t *testing.T) {
	good := sessionBytes(t)
	cut := good[:len(lines(good)[0])] // exactly the first line

	n, err := sessionlog.Verify(&failingReader{bytes.NewReader(cut)})
	if n != 1 || !errors.Is(err, errDisk) || errors.Is(err, sessionlog.ErrTampered) {
		t.Errorf("Verify = %d, %v; want 1 and the read error", n, err)
	}
	if _, err := sessionlog.Read(&failingReader{bytes.NewReader(cut)}); !errors.Is(err, errDisk) {
		t.Errorf("Read error = %v, want the read error", err)
	}
	if err := sessionlog.Show(io.Discard, &failingReader{bytes.NewReader(cut)}); !errors.Is(err, errDisk) {
		t.Errorf("Show error = %v, want the read error", err)
	}
	if err := sessionlog.Show(failingWriter{}, bytes.NewReader(good)); !errors.Is(err, errDisk) {
		t.Errorf("Show error = %v, want the write error", err)
	}
}
