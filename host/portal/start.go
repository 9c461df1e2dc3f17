package portal

import (
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// maxSide bounds a stream's width and height as the portal reports them:
// a size beyond it is not believed.
const maxSide = 1 << 15

// started is what the portal's Start answered.
type started struct {
	streams      []stream
	devices      uint32 // deviceKeyboard|devicePointer granted (RemoteDesktop)
	restoreToken string // "" when none was given
}

// stream is one PipeWire stream of a started session.
type stream struct {
	node       uint32 // the PipeWire node to read
	w, h       int    // in the compositor's (logical) coordinates; 0 when not given
	x, y       int    // position in the compositor's space
	sourceType uint32 // sourceMonitor, window (2) or virtual (4); 0 when not given
}

// errNoStream is returned by parseStart when the portal started no stream.
var errNoStream = errors.New("portal: the desktop started no screen stream")

// parseStart reads the results of ScreenCast.Start or RemoteDesktop.Start:
//
//	streams        a(ua{sv})  node id and properties: size (ii), position (ii), source_type u
//	devices        u          RemoteDesktop: the devices the person allowed
//	restore_token  s          given when persist_mode was asked and granted
//
// Properties of a wrong type, and sizes that are not positive or beyond
// maxSide, are ignored (as if absent). It returns errNoStream when there is
// no stream, and a one-line error when streams is not an array of
// (node, properties).
func parseStart(results map[string]dbus.Variant) (started, error) {
	var st started
	if v, ok := results["devices"]; ok {
		st.devices, _ = v.Value().(uint32)
	}
	if v, ok := results["restore_token"]; ok {
		st.restoreToken, _ = v.Value().(string)
	}
	v, ok := results["streams"]
	if !ok {
		return st, errNoStream
	}
	list, ok := v.Value().([][]any)
	if !ok {
		return st, fmt.Errorf("portal: the desktop's streams are a %s, not a(ua{sv})", v.Signature())
	}
	for _, fields := range list {
		if len(fields) != 2 {
			return st, fmt.Errorf("portal: a stream of %d fields, not (ua{sv})", len(fields))
		}
		node, ok1 := fields[0].(uint32)
		props, ok2 := fields[1].(map[string]dbus.Variant)
		if !ok1 || !ok2 {
			return st, errors.New("portal: a stream that is not (ua{sv})")
		}
		s := stream{node: node}
		if w, h, ok := pair(props["size"]); ok && w > 0 && h > 0 && w <= maxSide && h <= maxSide {
			s.w, s.h = w, h
		}
		if x, y, ok := pair(props["position"]); ok && x > -maxSide && y > -maxSide && x < maxSide && y < maxSide {
			s.x, s.y = x, y
		}
		if t, ok := props["source_type"]; ok {
			s.sourceType, _ = t.Value().(uint32)
		}
		st.streams = append(st.streams, s)
	}
	if len(st.streams) == 0 {
		return st, errNoStream
	}
	return st, nil
}

// pair reads an (ii) property.
func pair(v dbus.Variant) (int, int, bool) {
	f, ok := v.Value().([]any)
	if !ok || len(f) != 2 {
		return 0, 0, false
	}
	a, ok1 := f[0].(int32)
	b, ok2 := f[1].(int32)
	return int(a), int(b), ok1 && ok2
}
