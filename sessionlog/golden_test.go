package sessionlog_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gethelp/gethelp/sessionlog"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.jsonl and testdata/show.golden")

// goldenSession is a whole session as the host would log it. The clock runs
// in a zone east of UTC to show that times are written in UTC.
var goldenSession = []event{
	{"listening", map[string]any{"addr": "0.0.0.0:4242", "version": "0.1.0"}},
	{"invitation", map[string]any{"id": "7Q2M-K9XD", "expires": "2025-03-14T10:26:53Z"}},
	{"connected", map[string]any{"helper": "Ana Souza", "addr": "198.51.100.23:61234"}},
	{"consent", map[string]any{"view": true, "control": false, "files": false, "clipboard": false}},
	{"chat", map[string]any{"from": "helper", "text": `Hi! Can you click "Start"? a<b & c=d`}},
	{"chat", map[string]any{"from": "person", "text": "Olá, obrigado ✓"}},
	{"consent", map[string]any{"view": true, "control": true}},
	{"file", map[string]any{
		"direction": "to-person",
		"name":      "report final.pdf",
		"size":      int64(1234567890123),
		"sha256":    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	}},
	{"note", map[string]any{
		"nested": map[string]any{"list": []any{1, 2.5, "three", nil}, "obj": map[string]any{"b": nil, "a": "x y"}},
		"ctl":    "bell\a and\ttab",
		"empty":  "",
	}},
	{"disconnected", map[string]any{"by": "person", "reason": "stop sharing", "lines": 10}},
}

func TestGolden(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*3600)
	start := time.Date(2025, 3, 14, 11, 26, 53, 589793238, zone)
	path := filepath.Join(t.TempDir(), "golden.jsonl")
	writeLog(t, path, clock(start, 1500*time.Millisecond), goldenSession)
	got := readFile(t, path)

	var show bytes.Buffer
	if err := sessionlog.Show(&show, bytes.NewReader(got)); err != nil {
		t.Fatal(err)
	}

	for _, g := range []struct {
		file string
		got  []byte
	}{
		{"testdata/golden.jsonl", got},
		{"testdata/show.golden", show.Bytes()},
	} {
		if *update {
			if err := os.WriteFile(g.file, g.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(g.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.got, want) {
			t.Errorf("%s differs (run go test -update to rewrite it)\ngot:\n%s\nwant:\n%s", g.file, g.got, want)
		}
	}

	// The checked-in vector itself verifies.
	want, err := os.ReadFile("testdata/golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := sessionlog.Verify(bytes.NewReader(want)); err != nil || n != len(goldenSession) {
		t.Errorf("Verify(testdata/golden.jsonl) = %d, %v; want %d, nil", n, err, len(goldenSession))
	}
}
