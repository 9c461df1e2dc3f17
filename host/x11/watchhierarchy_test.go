package x11

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// watchLog collects a KeyWatcher's log for checks.
type watchLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *watchLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *watchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits up to d for a line of the log that contains all of parts.
func (l *watchLog) waitFor(d time.Duration, parts ...string) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(l.String(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return true
			}
		}
	}
	return false
}

// xiChangeHierarchyAddMaster encodes XIChangeHierarchy (XI2proto.txt
// "XIChangeHierarchy"; xXIChangeHierarchyReq, xXIAddMasterInfo) with one
// AddMaster, which creates a master pointer "name pointer", a master
// keyboard "name keyboard" and their XTEST slaves "name XTEST pointer",
// "name XTEST keyboard":
//
//	0  CARD8   major opcode of XInputExtension
//	1  CARD8   43, X_XIChangeHierarchy
//	2  CARD16  request length in 4-byte units
//	4  CARD8   num_changes: 1
//	5          3 bytes unused
//	8  CARD16  type: 1, AddMaster
//	10 CARD16  length of the change in 4-byte units: 2 + padded name
//	12 CARD16  name_len
//	14 BOOL    send_core
//	15 BOOL    enable
//	16 STRING8 name, padded to a multiple of 4
func xiChangeHierarchyAddMaster(opcode byte, name string) []byte {
	b := make([]byte, 16+pad4(len(name)))
	b[0], b[1] = opcode, 43
	le.PutUint16(b[2:], uint16(len(b)/4))
	b[4] = 1
	le.PutUint16(b[8:], 1)
	le.PutUint16(b[10:], uint16((len(b)-8)/4))
	le.PutUint16(b[12:], uint16(len(name)))
	b[14], b[15] = 1, 1
	copy(b[16:], name)
	return b
}

// xiChangeHierarchyAttachSlave encodes XIChangeHierarchy with one
// AttachSlave (xXIAttachSlaveInfo), which attaches slave to master:
//
//	0  CARD8   major opcode of XInputExtension
//	1  CARD8   43, X_XIChangeHierarchy
//	2  CARD16  request length in 4-byte units: 4
//	4  CARD8   num_changes: 1
//	5          3 bytes unused
//	8  CARD16  type: 3, AttachSlave
//	10 CARD16  length of the change in 4-byte units: 2
//	12 CARD16  deviceid of the slave
//	14 CARD16  new_master
func xiChangeHierarchyAttachSlave(opcode byte, slave, master uint16) []byte {
	b := make([]byte, 16)
	b[0], b[1] = opcode, 43
	le.PutUint16(b[2:], 4)
	b[4] = 1
	le.PutUint16(b[8:], 3)
	le.PutUint16(b[10:], 2)
	le.PutUint16(b[12:], slave)
	le.PutUint16(b[14:], master)
	return b
}

// xiSetClientPointer encodes XISetClientPointer (XI2proto.txt
// "XISetClientPointer"; xXISetClientPointerReq), which sets the master
// pointer whose paired keyboard the core requests of a client (XTEST's
// FakeInput among them) use:
//
//	0  CARD8   major opcode of XInputExtension
//	1  CARD8   44, X_XISetClientPointer
//	2  CARD16  request length in 4-byte units: 3
//	4  WINDOW  win: None for the requesting client
//	8  CARD16  deviceid of a master pointer
//	10         2 bytes unused
func xiSetClientPointer(opcode byte, pointer uint16) []byte {
	b := make([]byte, 12)
	b[0], b[1] = opcode, 44
	le.PutUint16(b[2:], 3)
	le.PutUint16(b[8:], pointer)
	return b
}

// Devices added while the watcher runs: a new master, with its own XTEST
// keyboard, which must count as injection; and the physical keyboard
// moved to that master, which must still count.
func TestWatchKeysNewMaster(t *testing.T) {
	d := StartNested(t, 800, 600)
	logs := &watchLog{}
	w, err := WatchKeys(d.Inner, WatchOptions{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		w.Close()
		if t.Failed() {
			t.Logf("watcher log:\n%s", logs)
		}
	}()

	c, err := xgb.NewConnDisplay(d.Inner)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := xtest.Init(c); err != nil {
		t.Fatal(err)
	}
	ext, err := xproto.QueryExtension(c, uint16(len("XInputExtension")), "XInputExtension").Reply()
	if err != nil || !ext.Present {
		t.Fatalf("XInputExtension: %v", err)
	}
	xi := ext.MajorOpcode
	request := func(b []byte) []byte { // with a reply
		t.Helper()
		cookie := c.NewCookie(true, true)
		c.NewRequest(b, cookie)
		r, err := cookie.Reply()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := func(b []byte) { // without
		t.Helper()
		cookie := c.NewCookie(true, false)
		c.NewRequest(b, cookie)
		if err := cookie.Check(); err != nil {
			t.Fatal(err)
		}
	}
	request(xiQueryVersionRequest(xi, 2, 2)) // XI2 requests need it first
	check(xiChangeHierarchyAddMaster(xi, "gethelp test"))
	devs, err := parseXIQueryDeviceReply(request(xiQueryDeviceRequest(xi, xiAllDevices)))
	if err != nil {
		t.Fatal(err)
	}
	byName := make(map[string]xiDevice)
	for _, dev := range devs {
		byName[dev.name] = dev
	}
	pointer, okP := byName["gethelp test pointer"]
	keyboard, okK := byName["gethelp test keyboard"]
	physical, okX := byName["Xephyr virtual keyboard"]
	if !okP || !okK || !okX {
		t.Fatalf("devices %+v lack the new master or Xephyr's keyboard", devs)
	}

	// Core XTEST input from this client now goes through the new
	// master's XTEST keyboard, a device the watcher did not know at start.
	check(xiSetClientPointer(xi, pointer.id))
	setup := xproto.Setup(c)
	km, err := xproto.GetKeyboardMapping(c, setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)).Reply()
	if err != nil {
		t.Fatal(err)
	}
	syms := make([]uint32, len(km.Keysyms))
	for i, s := range km.Keysyms {
		syms[i] = uint32(s)
	}
	var escape byte
	for code := range escapeKeycodes(byte(setup.MinKeycode), int(km.KeysymsPerKeycode), syms) {
		escape = byte(code)
	}
	root := setup.DefaultScreen(c).Root
	for _, typ := range []byte{xproto.KeyPress, xproto.KeyRelease} {
		if err := xtest.FakeInputChecked(c, typ, escape, 0, root, 0, 0, 0).Check(); err != nil {
			t.Fatal(err)
		}
	}
	if !logs.waitFor(5*time.Second, "Escape injected through XTEST: ignored", `device="gethelp test XTEST keyboard"`) {
		t.Fatal("the watcher did not see Escape from the new master's XTEST keyboard as injected")
	}
	select {
	case <-w.Escapes():
		t.Fatal("Escape from the new master's XTEST keyboard reported")
	case <-time.After(500 * time.Millisecond):
	}

	// The physical keyboard on the new master.
	check(xiChangeHierarchyAttachSlave(xi, physical.id, keyboard.id))
	d.Type("Escape")
	select {
	case <-w.Escapes():
	case <-time.After(10 * time.Second):
		t.Fatal("no Escape reported from the physical keyboard on the new master")
	}
	if !logs.waitFor(time.Second, "Escape pressed on a physical keyboard", `device="Xephyr virtual keyboard"`) {
		t.Error("the report does not name Xephyr's keyboard")
	}
}
