package portal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/godbus/dbus/v5"
)

// Lines of gst-launch-1.0 -v (GStreamer 1.22, Debian 12) reading a
// PipeWire stream.
const (
	capsLine   = `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)"video/x-raw\,\ format\=\(string\)BGRx\,\ width\=\(int\)320\,\ height\=\(int\)240\,\ framerate\=\(fraction\)30/1";) 0x5631ec94ae50`
	bufferLine = `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = chain   ******* (gethelp:sink) (307200 bytes, dts: none, pts: none, duration: none, offset: -1, offset_end: -1, flags: 00004000 tag-memory , meta: GstParentBufferMeta) 0x7f29d80077d0`
	segLine    = `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: segment (17934), GstEventSegment, segment=(GstSegment)"segment\, flags\=\(GstSegmentFlags\)GST_SEGMENT_FLAG_NONE\, rate\=\(double\)1\, applied-rate\=\(double\)1\, format\=\(GstFormat\)time\, base\=\(guint64\)0\, offset\=\(guint64\)0\, start\=\(guint64\)0\, stop\=\(guint64\)18446744073709551615\, time\=\(guint64\)0\, position\=\(guint64\)0\, duration\=\(guint64\)18446744073709551615\;";) 0x5631ec94af30`
	padCaps    = `/GstPipeline:pipeline0/GstPipeWireSrc:pipewiresrc0.GstPad:src: caps = video/x-raw, format=(string)BGRx, width=(int)320, height=(int)240, framerate=(fraction)30/1`
)

func TestParseGstLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want gstLine
	}{
		{"caps", capsLine, gstLine{kind: lineCaps, format: "BGRx", w: 320, h: 240}},
		{"buffer", bufferLine, gstLine{kind: lineBuffer, n: 307200}},
		{"empty buffer", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = chain   ******* (gethelp:sink) (0 bytes, dts: none`, gstLine{kind: lineBuffer}},
		{"segment event", segLine, gstLine{}},
		{"another element's caps", padCaps, gstLine{}},
		{"gst-launch's chatter", "Setting pipeline to PLAYING ...", gstLine{}},
		{"another identity", `/GstPipeline:pipeline0/GstIdentity:other: last-message = chain   ******* (other:sink) (100 bytes, dts`, gstLine{}},
		{"caps without height", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)"video/x-raw\,\ format\=\(string\)BGRx\,\ width\=\(int\)320";) 0x1`, gstLine{}},
		{"caps too big", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)"video/x-raw\,\ format\=\(string\)BGRx\,\ width\=\(int\)100000\,\ height\=\(int\)100000";) 0x1`, gstLine{}},
		{"caps negative", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)"video/x-raw\,\ format\=\(string\)BGRx\,\ width\=\(int\)-3\,\ height\=\(int\)4";) 0x1`, gstLine{}},
		{"buffer too big", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = chain   ******* (gethelp:sink) (99999999999 bytes, dts: none`, gstLine{}},
		{"buffer without size", `/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = chain   ******* (gethelp:sink) (x bytes`, gstLine{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseGstLine([]byte(tc.line)); got != tc.want {
				t.Errorf("parseGstLine = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzParseGstLine checks that no line makes parseGstLine panic or
// announce an implausible frame.
func FuzzParseGstLine(f *testing.F) {
	for _, l := range []string{capsLine, bufferLine, segLine, padCaps} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		l := parseGstLine(line)
		switch l.kind {
		case lineCaps:
			if l.w <= 0 || l.h <= 0 || l.w*l.h > maxPixels {
				t.Fatalf("caps %dx%d accepted", l.w, l.h)
			}
		case lineBuffer:
			if l.n < 0 || l.n > 4*maxPixels {
				t.Fatalf("buffer of %d bytes accepted", l.n)
			}
		}
	})
}

type testStream struct {
	Node  uint32
	Props map[string]dbus.Variant
}

type xy struct{ X, Y int32 }

func startResults(streams ...testStream) map[string]dbus.Variant {
	return map[string]dbus.Variant{"streams": dbus.MakeVariant(streams)}
}

func TestParseStart(t *testing.T) {
	monitor := map[string]dbus.Variant{
		"size":        dbus.MakeVariant(xy{1920, 1080}),
		"position":    dbus.MakeVariant(xy{-1920, 0}),
		"source_type": dbus.MakeVariant(uint32(1)),
	}
	full := startResults(testStream{44, monitor})
	full["devices"] = dbus.MakeVariant(uint32(3))
	full["restore_token"] = dbus.MakeVariant("d1b4…")
	for _, tc := range []struct {
		name    string
		results map[string]dbus.Variant
		want    started
		err     error
	}{
		{"GNOME", full, started{streams: []stream{{node: 44, w: 1920, h: 1080, x: -1920, sourceType: 1}}, devices: 3, restoreToken: "d1b4…"}, nil},
		{"no size", startResults(testStream{7, map[string]dbus.Variant{}}), started{streams: []stream{{node: 7}}}, nil},
		{"size of the wrong type", startResults(testStream{7, map[string]dbus.Variant{"size": dbus.MakeVariant(uint32(5))}}), started{streams: []stream{{node: 7}}}, nil},
		{"size of three", startResults(testStream{7, map[string]dbus.Variant{"size": dbus.MakeVariant([]int32{1, 2, 3})}}), started{streams: []stream{{node: 7}}}, nil},
		{"zero size", startResults(testStream{7, map[string]dbus.Variant{"size": dbus.MakeVariant(xy{0, 1080})}}), started{streams: []stream{{node: 7}}}, nil},
		{"huge size", startResults(testStream{7, map[string]dbus.Variant{"size": dbus.MakeVariant(xy{1 << 20, 1080})}}), started{streams: []stream{{node: 7}}}, nil},
		{"two streams", startResults(testStream{7, nil}, testStream{8, nil}), started{streams: []stream{{node: 7}, {node: 8}}}, nil},
		{"no streams", map[string]dbus.Variant{}, started{}, errNoStream},
		{"empty streams", startResults(), started{}, errNoStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStart(wire(t, tc.results))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && !equalStarted(got, tc.want) {
				t.Errorf("parseStart = %+v, want %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []map[string]dbus.Variant{
		{"streams": dbus.MakeVariant("no")},
		{"streams": dbus.MakeVariant([]struct{ A, B, C uint32 }{{1, 2, 3}})},
		{"streams": dbus.MakeVariant([]struct {
			A string
			B map[string]dbus.Variant
		}{{"x", nil}})},
	} {
		if _, err := parseStart(wire(t, bad)); err == nil || errors.Is(err, errNoStream) {
			t.Errorf("parseStart(%v) = %v, want an error about its form", bad, err)
		}
	}
}

// wire returns results as they come off the bus (structs as []any).
func wire(t *testing.T, results map[string]dbus.Variant) map[string]dbus.Variant {
	t.Helper()
	r, ok := decodeResults(encodeResults(results))
	if !ok {
		t.Fatalf("%v does not survive the D-Bus encoding", results)
	}
	return r
}

func equalStarted(a, b started) bool {
	if a.devices != b.devices || a.restoreToken != b.restoreToken || len(a.streams) != len(b.streams) {
		return false
	}
	for i := range a.streams {
		if a.streams[i] != b.streams[i] {
			return false
		}
	}
	return true
}

// encodeResults encodes a Response's results (a{sv}) as a D-Bus message
// body, little-endian; decodeResults reads such a body back.
func encodeResults(results map[string]dbus.Variant) []byte {
	header, _ := responseHeader()
	var buf bytes.Buffer
	msg := responseMessage(results)
	if err := msg.EncodeTo(&buf, binary.LittleEndian); err != nil {
		panic(err)
	}
	return buf.Bytes()[len(header):]
}

func responseMessage(results map[string]dbus.Variant) *dbus.Message {
	return &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(objectPath),
		dbus.FieldInterface: dbus.MakeVariant(ifaceRequest),
		dbus.FieldMember:    dbus.MakeVariant("Response"),
		dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(results)),
	}, Body: []any{results}}
}

// responseHeader returns the header of a message with an a{sv} body (up to
// the body), and where its body length is.
func responseHeader() ([]byte, int) {
	var buf bytes.Buffer
	if err := responseMessage(map[string]dbus.Variant{}).EncodeTo(&buf, binary.LittleEndian); err != nil {
		panic(err)
	}
	raw := buf.Bytes()
	n := binary.LittleEndian.Uint32(raw[4:8])
	return raw[:len(raw)-int(n)], 4
}

func decodeResults(body []byte) (map[string]dbus.Variant, bool) {
	header, at := responseHeader()
	msg := append([]byte(nil), header...)
	binary.LittleEndian.PutUint32(msg[at:], uint32(len(body)))
	m, err := dbus.DecodeMessage(bytes.NewReader(append(msg, body...)))
	if err != nil || len(m.Body) != 1 {
		return nil, false
	}
	r, ok := m.Body[0].(map[string]dbus.Variant)
	return r, ok
}

// startSeeds are Start results as portals send them, for the fuzzer.
func startSeeds() []map[string]dbus.Variant {
	gnome := startResults(testStream{44, map[string]dbus.Variant{
		"size": dbus.MakeVariant(xy{1920, 1080}), "position": dbus.MakeVariant(xy{0, 0}), "source_type": dbus.MakeVariant(uint32(1)),
		"id": dbus.MakeVariant("0"), "mapping_id": dbus.MakeVariant("5f2e"),
	}})
	gnome["devices"] = dbus.MakeVariant(uint32(3))
	gnome["restore_token"] = dbus.MakeVariant("5f2e9c1d-1bd2-4a4e-8dd5-3b53e3e0c1a4")
	gnome["clipboard_enabled"] = dbus.MakeVariant(false)
	kde := startResults(testStream{61, map[string]dbus.Variant{"size": dbus.MakeVariant(xy{2560, 1440}), "source_type": dbus.MakeVariant(uint32(1))}})
	return []map[string]dbus.Variant{
		gnome, kde,
		startResults(testStream{7, nil}, testStream{8, map[string]dbus.Variant{"size": dbus.MakeVariant(xy{-1, 5})}}),
		{"streams": dbus.MakeVariant("no")},
		{},
	}
}

// FuzzParseStart checks that no Response body (a{sv}) makes parseStart
// panic, and that what it accepts is plausible.
func FuzzParseStart(f *testing.F) {
	for _, s := range startSeeds() {
		f.Add(encodeResults(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		results, ok := decodeResults(body)
		if !ok {
			return
		}
		st, err := parseStart(results)
		if err != nil {
			return
		}
		if len(st.streams) == 0 {
			t.Fatal("no stream and no error")
		}
		for _, s := range st.streams {
			if s.w < 0 || s.h < 0 || s.w > maxSide || s.h > maxSide || (s.w == 0) != (s.h == 0) {
				t.Fatalf("size %dx%d accepted", s.w, s.h)
			}
		}
	})
}

// TestSeedsDecode checks that the fuzzer's seeds survive the round trip
// through the D-Bus encoding.
func TestSeedsDecode(t *testing.T) {
	for i, s := range startSeeds() {
		r, ok := decodeResults(encodeResults(s))
		if !ok || len(r) != len(s) {
			t.Errorf("seed %d: decoded %v, %v", i, r, ok)
		}
	}
	st, err := parseStart(wire(t, startSeeds()[0]))
	if err != nil || st.streams[0].node != 44 || st.streams[0].w != 1920 || st.devices != 3 {
		t.Errorf("GNOME seed: %+v, %v", st, err)
	}
}

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTokensFile checks the token file's format against its golden file,
// both ways.
func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "portal-tokens.json")
	tk := loadTokens(path, slog.New(slog.DiscardHandler))
	tk.set(kindScreenCast, "5f2e9c1d-1bd2-4a4e-8dd5-3b53e3e0c1a4")
	tk.set(kindRemoteDesktop, "0b7a")
	if err := tk.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tokens.golden")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("token file:\n%s\nwant:\n%s", got, want)
	}
	back := loadTokens(golden, slog.New(slog.DiscardHandler))
	if back.get(kindScreenCast) != "5f2e9c1d-1bd2-4a4e-8dd5-3b53e3e0c1a4" || back.get(kindRemoteDesktop) != "0b7a" {
		t.Errorf("golden file read back as %+v", back)
	}
	for _, bad := range []string{`{"version": 2, "tokens": {"screencast": "x"}}`, `[]`, ``} {
		p := filepath.Join(dir, "bad.json")
		os.WriteFile(p, []byte(bad), 0o600)
		if tk := loadTokens(p, slog.New(slog.DiscardHandler)); tk.get(kindScreenCast) != "" {
			t.Errorf("%q gave tokens %+v", bad, tk)
		}
	}
}
