package x11

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The XInput 2 wire formats the key watcher builds and parses by hand:
// xgb v1.1.1 has no XInput package. The references are to XI2proto.txt
// (xorgproto, specs/XI2proto.txt: sections "Requests", "Events") and to
// the C structures of XI2proto.h that give the byte encoding. All numbers
// are little-endian: xgb opens every connection with byte order 'l', and
// the server then speaks little-endian to it.

// XInput 2 request minor opcodes (XI2proto.h: X_XI*).
const (
	xiSelectEventsOp = 46 // X_XISelectEvents
	xiQueryVersionOp = 47 // X_XIQueryVersion
	xiQueryDeviceOp  = 48 // X_XIQueryDevice
)

// Device ids and uses (XI2proto.txt "Data types": DEVICE, DEVICEUSE; XI2.h).
const (
	xiAllDevices       = 0
	xiAllMasterDevices = 1

	xiMasterPointer  = 1
	xiMasterKeyboard = 2
	xiSlavePointer   = 3
	xiSlaveKeyboard  = 4
	xiFloatingSlave  = 5
)

// XInput 2 event types (XI2.h: XI_*); an event mask selects type T with
// bit T.
const (
	xiHierarchyChanged = 11
	xiRawKeyPress      = 13
	xiRawKeyRelease    = 14
)

// Core protocol numbers.
const (
	genericEvent       = 35 // GenericEvent (the X Generic Event Extension, XGE)
	mappingNotify      = 34 // MappingNotify
	mappingKeyboard    = 1  // MappingNotify request: Keyboard
	keysymEscape       = 0xff1b
	maxResponseUnits   = 1 << 24 // 64 MiB: longer replies or events are taken for a broken stream
	setupRequestLength = 12      // fixed part of the connection setup request
)

var le = binary.LittleEndian

// errShort says a reply or event is shorter than its fixed part or than
// the lengths inside it claim.
var errShort = errors.New("x11: truncated XInput reply or event")

// xiQueryVersionRequest encodes XIQueryVersion (XI2proto.txt
// "XIQueryVersion"; xXIQueryVersionReq), 8 bytes:
//
//	0  CARD8   major opcode of XInputExtension (from QueryExtension)
//	1  CARD8   47, X_XIQueryVersion
//	2  CARD16  request length in 4-byte units: 2
//	4  CARD16  major_version the client supports
//	6  CARD16  minor_version
func xiQueryVersionRequest(opcode byte, major, minor uint16) []byte {
	b := make([]byte, 8)
	b[0], b[1] = opcode, xiQueryVersionOp
	le.PutUint16(b[2:], 2)
	le.PutUint16(b[4:], major)
	le.PutUint16(b[6:], minor)
	return b
}

// parseXIQueryVersionReply decodes the reply to XIQueryVersion
// (xXIQueryVersionReply), 32 bytes:
//
//	0  CARD8   1, Reply
//	1  CARD8   47, X_XIQueryVersion
//	2  CARD16  sequence number
//	4  CARD32  reply length: 0
//	8  CARD16  major_version: the highest the server supports, but no
//	           higher than asked
//	10 CARD16  minor_version
//	12         20 bytes unused
func parseXIQueryVersionReply(b []byte) (major, minor uint16, err error) {
	if len(b) < 32 {
		return 0, 0, errShort
	}
	return le.Uint16(b[8:]), le.Uint16(b[10:]), nil
}

// xiEventMask is one EVENTMASK of XISelectEvents: the XI2 event types
// (bit T for type T) selected for a device, or for XIAllDevices or
// XIAllMasterDevices.
type xiEventMask struct {
	deviceid uint16
	mask     uint32
}

// xiSelectEventsRequest encodes XISelectEvents (XI2proto.txt
// "XISelectEvents"; xXISelectEventsReq followed by xXIEventMask and its
// mask words), 12 bytes and 8 for each mask:
//
//	0  CARD8   major opcode of XInputExtension
//	1  CARD8   46, X_XISelectEvents
//	2  CARD16  request length in 4-byte units: 3 + 2 per mask
//	4  WINDOW  window
//	8  CARD16  num_masks
//	10         2 bytes unused
//	12 EVENTMASK, num_masks times:
//	   0  CARD16  deviceid (or 0 XIAllDevices, 1 XIAllMasterDevices)
//	   2  CARD16  mask_len in 4-byte units: 1 here
//	   4  CARD32  mask: bit T selects event type T (XISetMask sets bit
//	              T%8 of byte T/8, which is this little-endian word)
//
// Each mask replaces the client's previous mask for that device on that
// window; a mask with XI_HierarchyChanged is only allowed for
// XIAllDevices (BadValue otherwise).
func xiSelectEventsRequest(opcode byte, window uint32, masks []xiEventMask) []byte {
	b := make([]byte, 12+8*len(masks))
	b[0], b[1] = opcode, xiSelectEventsOp
	le.PutUint16(b[2:], uint16(len(b)/4))
	le.PutUint32(b[4:], window)
	le.PutUint16(b[8:], uint16(len(masks)))
	for i, m := range masks {
		p := b[12+8*i:]
		le.PutUint16(p[0:], m.deviceid)
		le.PutUint16(p[2:], 1)
		le.PutUint32(p[4:], m.mask)
	}
	return b
}

// xiQueryDeviceRequest encodes XIQueryDevice (XI2proto.txt
// "XIQueryDevice"; xXIQueryDeviceReq), 8 bytes:
//
//	0  CARD8   major opcode of XInputExtension
//	1  CARD8   48, X_XIQueryDevice
//	2  CARD16  request length in 4-byte units: 2
//	4  CARD16  deviceid, or 0 XIAllDevices, 1 XIAllMasterDevices
//	6          2 bytes unused
func xiQueryDeviceRequest(opcode byte, deviceid uint16) []byte {
	b := make([]byte, 8)
	b[0], b[1] = opcode, xiQueryDeviceOp
	le.PutUint16(b[2:], 2)
	le.PutUint16(b[4:], deviceid)
	return b
}

// xiDevice is what the watcher needs of one DEVICEINFO.
type xiDevice struct {
	id         uint16
	use        uint16 // xiMasterPointer … xiFloatingSlave
	attachment uint16 // a slave's master, a master's paired master
	enabled    bool
	name       string
}

// parseXIQueryDeviceReply decodes the reply to XIQueryDevice
// (xXIQueryDeviceReply, then xXIDeviceInfo records):
//
//	0  CARD8   1, Reply
//	1  CARD8   48, X_XIQueryDevice
//	2  CARD16  sequence number
//	4  CARD32  reply length in 4-byte units after the first 32 bytes
//	8  CARD16  num_devices
//	10         22 bytes unused
//	32 DEVICEINFO, num_devices times:
//	   0  CARD16  deviceid
//	   2  CARD16  use: 1 MasterPointer, 2 MasterKeyboard, 3 SlavePointer,
//	              4 SlaveKeyboard, 5 FloatingSlave
//	   4  CARD16  attachment
//	   6  CARD16  num_classes
//	   8  CARD16  name_len in bytes
//	   10 BOOL    enabled
//	   11         1 byte unused
//	   12 STRING8 name, padded to a multiple of 4 bytes
//	   …  CLASS, num_classes times, each starting with
//	      CARD16 type, CARD16 length of the whole class in 4-byte units
//
// The classes are skipped by their lengths.
func parseXIQueryDeviceReply(b []byte) ([]xiDevice, error) {
	if len(b) < 32 {
		return nil, errShort
	}
	n := int(le.Uint16(b[8:]))
	devs := make([]xiDevice, 0, n)
	p := b[32:]
	for range n {
		if len(p) < 12 {
			return nil, errShort
		}
		d := xiDevice{
			id:         le.Uint16(p[0:]),
			use:        le.Uint16(p[2:]),
			attachment: le.Uint16(p[4:]),
			enabled:    p[10] != 0,
		}
		classes := int(le.Uint16(p[6:]))
		nameLen := int(le.Uint16(p[8:]))
		p = p[12:]
		if len(p) < pad4(nameLen) {
			return nil, errShort
		}
		d.name = string(p[:nameLen])
		p = p[pad4(nameLen):]
		for range classes {
			if len(p) < 4 {
				return nil, errShort
			}
			size := 4 * int(le.Uint16(p[2:]))
			if size < 4 || len(p) < size {
				return nil, errShort
			}
			p = p[size:]
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// xiRawKey is a RawKeyPress or RawKeyRelease event.
type xiRawKey struct {
	press    bool
	deviceid uint16 // the master keyboard (raw events are selected for XIAllMasterDevices)
	sourceid uint16 // the slave device that generated it: a keyboard or an XTEST device
	time     uint32 // server milliseconds
	keycode  uint32
}

// parseXIRawKey decodes a RawKeyPress or RawKeyRelease event
// (XI2proto.txt "RawEvent"; xXIRawEvent), a GenericEvent of 32 bytes and
// more:
//
//	0  CARD8   35, GenericEvent
//	1  CARD8   extension: the major opcode of XInputExtension
//	2  CARD16  sequence number
//	4  CARD32  length in 4-byte units after the first 32 bytes
//	8  CARD16  evtype: 13 RawKeyPress, 14 RawKeyRelease
//	10 CARD16  deviceid
//	12 CARD32  time
//	16 CARD32  detail: the keycode
//	20 CARD16  sourceid (XI 2.1 and later; undefined for 2.0 clients)
//	22 CARD16  valuators_len in 4-byte units
//	24 CARD32  flags (the X server leaves XIKeyRepeat out of raw events)
//	28         4 bytes unused
//	32         valuator mask and values, none for keys
//
// ok is false for any other event.
func parseXIRawKey(b []byte, xiOpcode byte) (ev xiRawKey, ok bool) {
	if len(b) < 32 || b[0]&0x7f != genericEvent || b[1] != xiOpcode {
		return ev, false
	}
	switch le.Uint16(b[8:]) {
	case xiRawKeyPress:
		ev.press = true
	case xiRawKeyRelease:
	default:
		return ev, false
	}
	ev.deviceid = le.Uint16(b[10:])
	ev.time = le.Uint32(b[12:])
	ev.keycode = le.Uint32(b[16:])
	ev.sourceid = le.Uint16(b[20:])
	return ev, true
}

// isXIHierarchyChanged reports whether b is a HierarchyChanged event
// (XI2proto.txt "HierarchyEvent"; xXIHierarchyEvent), a GenericEvent
// whose evtype (CARD16 at byte 8) is 11. What changed follows it:
//
//	12 CARD32  time
//	16 CARD32  flags: the union of the infos' flags (MasterAdded 1<<0,
//	           MasterRemoved 1<<1, SlaveAdded 1<<2, SlaveRemoved 1<<3,
//	           SlaveAttached 1<<4, SlaveDetached 1<<5, DeviceEnabled 1<<6,
//	           DeviceDisabled 1<<7)
//	20 CARD16  num_info
//	22         10 bytes unused
//	32 HIERARCHYINFO of 12 bytes, num_info times
//
// The watcher reads the devices afresh on any change, so it needs no
// more than the type.
func isXIHierarchyChanged(b []byte, xiOpcode byte) bool {
	return len(b) >= 32 && b[0]&0x7f == genericEvent && b[1] == xiOpcode && le.Uint16(b[8:]) == xiHierarchyChanged
}

// isKeyboardMappingNotify reports whether b is a core MappingNotify
// event about the keyboard (X11 protocol, "MappingNotify"), which the
// server sends to every client without selection:
//
//	0  CARD8   34, MappingNotify
//	1          unused
//	2  CARD16  sequence number
//	4  CARD8   request: 0 Modifier, 1 Keyboard, 2 Pointer
//	5  KEYCODE first-keycode
//	6  CARD8   count
//	7          25 bytes unused
func isKeyboardMappingNotify(b []byte) bool {
	return len(b) >= 32 && b[0]&0x7f == mappingNotify && b[4] == mappingKeyboard
}

// setupRequest encodes the connection setup request (X11 protocol,
// "Connection Setup"), which the watcher sends in place of xgb's:
//
//	0  CARD8   byte order: 0x6c 'l', little-endian
//	1          unused
//	2  CARD16  protocol-major-version: 11
//	4  CARD16  protocol-minor-version: 0
//	6  CARD16  n, length of authorization-protocol-name
//	8  CARD16  d, length of authorization-protocol-data
//	10         2 bytes unused
//	12 STRING8 authorization-protocol-name, padded to a multiple of 4
//	…  STRING8 authorization-protocol-data, padded to a multiple of 4
func setupRequest(authName string, authData []byte) []byte {
	b := make([]byte, setupRequestLength+pad4(len(authName))+pad4(len(authData)))
	b[0] = 'l'
	le.PutUint16(b[2:], 11)
	le.PutUint16(b[6:], uint16(len(authName)))
	le.PutUint16(b[8:], uint16(len(authData)))
	copy(b[setupRequestLength:], authName)
	copy(b[setupRequestLength+pad4(len(authName)):], authData)
	return b
}

// escapeKeycodes returns the keycodes that carry the Escape keysym in
// any column of the core keyboard mapping: keysyms holds perKeycode
// keysyms for each keycode from first on (GetKeyboardMapping's reply).
func escapeKeycodes(first byte, perKeycode int, keysyms []uint32) map[uint32]bool {
	codes := make(map[uint32]bool)
	if perKeycode <= 0 {
		return codes
	}
	for i, sym := range keysyms {
		if sym == keysymEscape {
			codes[uint32(first)+uint32(i/perKeycode)] = true
		}
	}
	return codes
}

func pad4(n int) int { return (n + 3) &^ 3 }

// useName names a DEVICEUSE for logs.
func useName(use uint16) string {
	switch use {
	case xiMasterPointer:
		return "master pointer"
	case xiMasterKeyboard:
		return "master keyboard"
	case xiSlavePointer:
		return "slave pointer"
	case xiSlaveKeyboard:
		return "slave keyboard"
	case xiFloatingSlave:
		return "floating slave"
	}
	return fmt.Sprintf("use %d", use)
}
