package x11

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The requests byte for byte, as libXi sends them (XI2proto.h).
func TestXIRequestEncoding(t *testing.T) {
	cookie := []byte("0123456789abcdef")
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"XIQueryVersion 2.2", xiQueryVersionRequest(131, 2, 2), "83 2f 0200 0200 0200"},
		{"XIQueryDevice all", xiQueryDeviceRequest(131, xiAllDevices), "83 30 0200 0000 0000"},
		{"XISelectEvents raw keys and hierarchy", xiSelectEventsRequest(131, 0x000004e5, []xiEventMask{
			{xiAllMasterDevices, 1<<xiRawKeyPress | 1<<xiRawKeyRelease},
			{xiAllDevices, 1 << xiHierarchyChanged},
		}), "83 2e 0700 e5040000 0200 0000" + // header: 7 words, window, 2 masks
			"0100 0100 00600000" + // XIAllMasterDevices, 1 word: bits 13 and 14
			"0000 0100 00080000"}, // XIAllDevices, 1 word: bit 11
		{"setup without authorisation", setupRequest("", nil), "6c 00 0b00 0000 0000 0000 0000"},
		{"setup with a cookie", setupRequest("MIT-MAGIC-COOKIE-1", cookie),
			"6c 00 0b00 0000 1200 1000 0000" + hex.EncodeToString([]byte("MIT-MAGIC-COOKIE-1")) + "0000" + hex.EncodeToString(cookie)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.want)
			if !bytes.Equal(tt.got, want) {
				t.Errorf("got  % x\nwant % x", tt.got, want)
			}
			if len(tt.got)%4 != 0 {
				t.Errorf("%d bytes: not whole 4-byte units", len(tt.got))
			}
		})
	}
}

// deviceInfo encodes one DEVICEINFO with classes of the given lengths in
// 4-byte units.
func deviceInfo(id, use, attachment uint16, name string, classes ...int) []byte {
	b := make([]byte, 12+pad4(len(name)))
	le.PutUint16(b[0:], id)
	le.PutUint16(b[2:], use)
	le.PutUint16(b[4:], attachment)
	le.PutUint16(b[6:], uint16(len(classes)))
	le.PutUint16(b[8:], uint16(len(name)))
	b[10] = 1
	copy(b[12:], name)
	for i, n := range classes {
		c := make([]byte, max(4, 4*n)) // (a class of length 0 still has its header)
		le.PutUint16(c[0:], uint16(i))
		le.PutUint16(c[2:], uint16(n))
		b = append(b, c...)
	}
	return b
}

// reply wraps body in a reply header with n devices.
func reply(n uint16, body ...[]byte) []byte {
	b := make([]byte, 32)
	b[0], b[1] = 1, xiQueryDeviceOp
	le.PutUint16(b[8:], n)
	for _, p := range body {
		b = append(b, p...)
	}
	le.PutUint32(b[4:], uint32((len(b)-32)/4))
	return b
}

func TestParseXIQueryDeviceReply(t *testing.T) {
	vck := deviceInfo(3, xiMasterKeyboard, 2, "Virtual core keyboard", 2, 9)
	xtst := deviceInfo(5, xiSlaveKeyboard, 3, "Virtual core XTEST keyboard", 66)
	kbd := deviceInfo(6, xiSlaveKeyboard, 3, "Xephyr virtual keyboard", 66)
	good := reply(3, vck, xtst, kbd)
	devs, err := parseXIQueryDeviceReply(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []xiDevice{
		{3, xiMasterKeyboard, 2, true, "Virtual core keyboard"},
		{5, xiSlaveKeyboard, 3, true, "Virtual core XTEST keyboard"},
		{6, xiSlaveKeyboard, 3, true, "Xephyr virtual keyboard"},
	}
	if fmt.Sprint(devs) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", devs, want)
	}
	var xtestNames []string
	for _, d := range devs {
		if isXTEST(d) {
			xtestNames = append(xtestNames, d.name)
		}
	}
	if fmt.Sprint(xtestNames) != "[Virtual core XTEST keyboard]" {
		t.Errorf("XTEST devices %q, want only Virtual core XTEST keyboard", xtestNames)
	}

	bad := []struct {
		name string
		b    []byte
	}{
		{"short header", good[:31]},
		{"more devices than sent", reply(4, vck, xtst, kbd)},
		{"cut in a name", good[:32+12+3]},
		{"cut in a class", good[:len(good)-4]},
		{"class of length 0", reply(1, deviceInfo(7, xiSlaveKeyboard, 3, "x", 0))},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseXIQueryDeviceReply(tt.b); !errors.Is(err, errShort) {
				t.Errorf("error %v, want errShort", err)
			}
		})
	}
}

func TestParseXIEvents(t *testing.T) {
	const xi = 131
	// A RawKeyPress of keycode 9 from device 6 through master 3, as Xorg
	// sends it: 2 words of valuator mask, no values.
	raw := unhex(t, "23 83 1500 02000000 0d00 0300 40e24700 09000000 0600 0200 00000000 00000000 00000000 00000000")
	k, ok := parseXIRawKey(raw, xi)
	if !ok || k != (xiRawKey{press: true, deviceid: 3, sourceid: 6, time: 0x47e240, keycode: 9}) {
		t.Errorf("RawKeyPress parsed as %+v, %v", k, ok)
	}
	release := bytes.Clone(raw)
	release[8] = xiRawKeyRelease
	if k, ok := parseXIRawKey(release, xi); !ok || k.press {
		t.Errorf("RawKeyRelease parsed as %+v, %v", k, ok)
	}
	if _, ok := parseXIRawKey(raw, xi+1); ok {
		t.Error("a GenericEvent of another extension parsed as a raw key")
	}
	if _, ok := parseXIRawKey(raw[:31], xi); ok {
		t.Error("a short event parsed as a raw key")
	}
	motion := bytes.Clone(raw)
	motion[8] = 17 // RawMotion
	if _, ok := parseXIRawKey(motion, xi); ok {
		t.Error("RawMotion parsed as a raw key")
	}

	hier := make([]byte, 32+12)
	hier[0], hier[1], hier[8] = genericEvent, xi, xiHierarchyChanged
	if !isXIHierarchyChanged(hier, xi) || isXIHierarchyChanged(raw, xi) {
		t.Error("isXIHierarchyChanged wrong")
	}

	mapping := make([]byte, 32)
	mapping[0], mapping[4] = mappingNotify, mappingKeyboard
	pointer := bytes.Clone(mapping)
	pointer[4] = 2
	if !isKeyboardMappingNotify(mapping) || isKeyboardMappingNotify(pointer) || isKeyboardMappingNotify(raw) {
		t.Error("isKeyboardMappingNotify wrong")
	}

	v := make([]byte, 32)
	v[0], v[1] = 1, xiQueryVersionOp
	le.PutUint16(v[8:], 2)
	le.PutUint16(v[10:], 4)
	if major, minor, err := parseXIQueryVersionReply(v); err != nil || major != 2 || minor != 4 {
		t.Errorf("XIQueryVersion reply: %d.%d, %v", major, minor, err)
	}
}

func TestEscapeKeycodes(t *testing.T) {
	// Keycodes 8…11, 2 keysyms each: 9 is Escape, 11 has it second.
	syms := []uint32{0, 0, keysymEscape, 0, 'a', 'A', 'b', keysymEscape}
	got := escapeKeycodes(8, 2, syms)
	if fmt.Sprint(got) != "map[9:true 11:true]" {
		t.Errorf("escapeKeycodes = %v, want 9 and 11", got)
	}
	if got := escapeKeycodes(8, 0, syms); len(got) != 0 {
		t.Errorf("with 0 keysyms per keycode: %v", got)
	}
}

func TestIsRepeat(t *testing.T) {
	tests := []struct {
		name string
		last keyState
		now  uint32
		want bool
	}{
		{"server repeat", keyState{down: true, time: 1000}, 1660, true},
		{"pressed again long after a lost release", keyState{down: true, time: 1000}, 2000, false},
		{"forwarded repeat", keyState{down: false, time: 1000}, 1000, true},
		{"forwarded repeat a millisecond later", keyState{down: false, time: 1000}, 1002, true},
		{"quick second tap", keyState{down: false, time: 1000}, 1030, false},
		{"over the clock's wrap", keyState{down: true, time: 0xffffff00}, 0x10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isRepeat(tt.last, tt.now); got != tt.want {
				t.Errorf("isRepeat(%+v, %d) = %v", tt.last, tt.now, got)
			}
		})
	}
}

// streamConn is a net.Conn that reads a fixed stream and records writes.
type streamConn struct {
	net.Conn
	r io.Reader
	w bytes.Buffer
}

func (c *streamConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// readAsXGB reads from r as xgb's reader does: the 8-byte head of the
// setup reply and its rest, then 32 bytes at a time and the rest of each
// reply. It returns the packets it read.
func readAsXGB(r io.Reader) ([][]byte, error) {
	head := make([]byte, 8)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	setup := make([]byte, 8+4*int(le.Uint16(head[6:])))
	copy(setup, head)
	if _, err := io.ReadFull(r, setup[8:]); err != nil {
		return nil, err
	}
	out := [][]byte{setup}
	for {
		b := make([]byte, 32)
		if _, err := io.ReadFull(r, b); err != nil {
			return out, err
		}
		if b[0] == 1 {
			if n := le.Uint32(b[4:]); n > 0 {
				buf := bytes.NewBuffer(b)
				if _, err := io.CopyN(buf, r, 4*int64(n)); err != nil {
					return out, err
				}
				b = buf.Bytes()
			}
		}
		out = append(out, b)
	}
}

func packet(kind byte, extra int, fill byte) []byte {
	b := bytes.Repeat([]byte{fill}, 32+4*extra)
	b[0] = kind
	le.PutUint32(b[4:], uint32(extra))
	return b
}

func TestFilterConn(t *testing.T) {
	setup := make([]byte, 8+4*3)
	setup[0] = 1
	le.PutUint16(setup[6:], 3)
	errPkt := packet(0, 0, 0xee)
	errPkt[4] = 0xff // an error's bytes 4–7 are the bad value, not a length
	replyA := packet(1, 5, 0xaa)
	core := packet(mappingNotify, 0, 0x11)
	core[4] = 0xff // nor are a core event's
	generic := packet(genericEvent, 7, 0x22)
	sent := packet(genericEvent|0x80, 0, 0x33)
	replyB := packet(1, 0, 0xbb)
	var stream []byte
	for _, p := range [][]byte{setup, errPkt, core, replyA, generic, sent, replyB} {
		stream = append(stream, p...)
	}

	raw := &streamConn{r: bytes.NewReader(stream)}
	q := newEventQueue()
	fc := newFilterConn(raw, []byte("OURS"), q)
	if n, err := fc.Write([]byte("xgb's setup")); n != len("xgb's setup") || err != nil {
		t.Errorf("first Write = %d, %v", n, err)
	}
	fc.Write([]byte("request"))
	if got := raw.w.String(); got != "OURSrequest" {
		t.Errorf("sent %q, want our setup request in place of xgb's, then the rest", got)
	}

	got, err := readAsXGB(fc)
	if !errors.Is(err, io.EOF) {
		t.Errorf("stream ended with %v, want io.EOF", err)
	}
	if want := [][]byte{setup, errPkt, replyA, replyB}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("xgb read\n%x\nwant\n%x", got, want)
	}
	evs, qerr := q.take()
	if want := [][]byte{core, generic, sent}; fmt.Sprint(evs) != fmt.Sprint(want) {
		t.Errorf("queued events\n%x\nwant\n%x", evs, want)
	}
	if !errors.Is(qerr, io.EOF) {
		t.Errorf("queue ended with %v, want io.EOF", qerr)
	}
	select {
	case <-q.wake:
	default:
		t.Error("the queue did not wake its reader")
	}
}

func TestFilterConnRefusesHugeResponses(t *testing.T) {
	setup := make([]byte, 8)
	huge := packet(genericEvent, 0, 0)
	le.PutUint32(huge[4:], maxResponseUnits+1)
	fc := newFilterConn(&streamConn{r: bytes.NewReader(append(setup, huge...))}, nil, newEventQueue())
	_, err := readAsXGB(fc)
	if err == nil || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "response of") {
		t.Errorf("reading a GenericEvent of 64 MiB and more: %v", err)
	}
}

// FuzzFilterConn feeds arbitrary server bytes through the filter: it must
// neither panic nor hand xgb anything but whole replies and errors.
func FuzzFilterConn(f *testing.F) {
	f.Add([]byte{})
	f.Add(append(make([]byte, 8), packet(1, 2, 1)...))
	f.Add(append(make([]byte, 8), append(packet(genericEvent, 1, 2), packet(0, 0, 3)...)...))
	f.Add(append(make([]byte, 8), packet(genericEvent, 0x10000, 2)...))
	f.Fuzz(func(t *testing.T, stream []byte) {
		q := newEventQueue()
		got, _ := readAsXGB(newFilterConn(&streamConn{r: bytes.NewReader(stream)}, nil, q))
		for _, p := range got[min(1, len(got)):] {
			if p[0] > 1 {
				t.Fatalf("xgb got an event: % x", p[:4])
			}
		}
		evs, _ := q.take()
		for _, ev := range evs {
			if ev[0] < 2 || len(ev) < 32 {
				t.Fatalf("queued a non-event: % x", ev[:min(4, len(ev))])
			}
		}
	})
}

// FuzzParseXIQueryDeviceReply checks that no reply makes the parser panic.
func FuzzParseXIQueryDeviceReply(f *testing.F) {
	f.Add(reply(1, deviceInfo(5, xiSlaveKeyboard, 3, "Virtual core XTEST keyboard", 66)))
	f.Add(reply(2, deviceInfo(3, xiMasterKeyboard, 2, "k", 1, 2), deviceInfo(6, xiFloatingSlave, 0, "", 0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		devs, err := parseXIQueryDeviceReply(b)
		if err == nil && len(b) >= 32 && len(devs) != int(le.Uint16(b[8:])) {
			t.Fatalf("%d devices parsed, %d announced", len(devs), le.Uint16(b[8:]))
		}
	})
}

// xauthRecord encodes one Xauthority record.
func xauthRecord(family uint16, addr, number, name string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, family)
	for _, f := range [][]byte{[]byte(addr), []byte(number), []byte(name), data} {
		binary.Write(&b, binary.BigEndian, uint16(len(f)))
		b.Write(f)
	}
	return b.Bytes()
}

func TestFindXauthority(t *testing.T) {
	cookie := func(c byte) []byte { return bytes.Repeat([]byte{c}, 16) }
	const local, wild, inet = 256, 65535, 0
	file := bytes.Join([][]byte{
		xauthRecord(local, "otherhost", "7", "MIT-MAGIC-COOKIE-1", cookie(1)),
		xauthRecord(inet, "\x7f\x00\x00\x01", "7", "MIT-MAGIC-COOKIE-1", cookie(2)),
		xauthRecord(local, "myhost", "3", "MIT-MAGIC-COOKIE-1", cookie(3)),
		xauthRecord(local, "myhost", "7", "XDM-AUTHORIZATION-1", cookie(4)),
		xauthRecord(local, "myhost", "7", "MIT-MAGIC-COOKIE-1", cookie(5)),
		xauthRecord(wild, "", "8", "MIT-MAGIC-COOKIE-1", cookie(6)),
		xauthRecord(local, "myhost", "", "MIT-MAGIC-COOKIE-1", cookie(7)),
	}, nil)
	tests := []struct {
		host, number string
		want         []byte
	}{
		{"myhost", "7", cookie(5)},
		{"myhost", "3", cookie(3)},
		{"myhost", "8", cookie(6)},
		{"myhost", "9", cookie(7)},
		{"nohost", "9", nil},
		{"otherhost", "7", cookie(1)},
	}
	for _, tt := range tests {
		t.Run(tt.host+":"+tt.number, func(t *testing.T) {
			name, data := findXauthority(bytes.NewReader(file), tt.host, tt.number)
			if !bytes.Equal(data, tt.want) || (tt.want != nil) != (name == "MIT-MAGIC-COOKIE-1") {
				t.Errorf("got %q %x, want %x", name, data, tt.want)
			}
		})
	}
	if name, data := findXauthority(bytes.NewReader(file[:len(file)-3]), "nohost", "1"); name != "" || data != nil {
		t.Errorf("truncated file: %q %x", name, data)
	}
}

func TestDialDisplay(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "x")
	l, err := net.Listen("unix", sock+":5")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, host, number, err := dialDisplay(sock + ":5.0")
	if err != nil {
		t.Fatalf("dial a socket by path: %v", err)
	}
	c.Close()
	if host != "" || number != "5" {
		t.Errorf("host %q, number %q; want \"\", \"5\"", host, number)
	}
	for _, bad := range []string{"nonsense", ":", ":x", ":-1", "host:"} {
		if _, _, _, err := dialDisplay(bad); err == nil || !strings.Contains(err.Error(), "bad display string") {
			t.Errorf("dialDisplay(%q) = %v, want a bad display string", bad, err)
		}
	}
}
