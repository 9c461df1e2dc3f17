package session

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MaxInputFrame is the largest input frame a host accepts.
const MaxInputFrame = 8 << 10

// Input kinds, as they travel.
const (
	InputMove   = "move"   // pointer to X, Y
	InputButton = "button" // Button pressed (Down) or released at X, Y
	InputWheel  = "wheel"  // scroll DX, DY notches (positive: right, down)
	InputKey    = "key"    // Key pressed (Down) or released
	InputText   = "text"   // type Text
)

// Limits of one input event.
const (
	MaxInputText  = 4 << 10 // bytes of text in one "text" event
	maxKeyName    = 32      // bytes of a key name
	maxWheel      = 1000    // notches per axis
	maxButton     = 9
	maxCoordinate = 1 << 16
)

// Input is one input event of the helper, sent on ChannelInput, one frame
// each, as a JSON object. Coordinates are in the shared image's pixels (the
// monitor shown, or the whole screen). Key names follow the browser's
// KeyboardEvent.key: a printable character ("a", "ü") or a named key
// ("Enter", "Escape", "ArrowLeft", "F5", "Control").
type Input struct {
	Kind   string `json:"k"`
	X      int    `json:"x,omitempty"`
	Y      int    `json:"y,omitempty"`
	Button int    `json:"b,omitempty"`
	Down   bool   `json:"d,omitempty"`
	DX     int    `json:"dx,omitempty"`
	DY     int    `json:"dy,omitempty"`
	Key    string `json:"key,omitempty"`
	Text   string `json:"text,omitempty"`
}

// Check reports whether in is well formed, with a one-line error naming the
// problem (wrapping ErrBadFrame).
func (in Input) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: input: "+format, append([]any{ErrBadFrame}, a...)...)
	}
	switch in.Kind {
	case InputMove, InputButton:
		if in.X < 0 || in.Y < 0 || in.X >= maxCoordinate || in.Y >= maxCoordinate {
			return bad("position %d,%d is out of range", in.X, in.Y)
		}
		if in.Kind == InputButton && (in.Button < 1 || in.Button > maxButton) {
			return bad("button %d is not 1 to %d", in.Button, maxButton)
		}
	case InputWheel:
		if in.DX < -maxWheel || in.DX > maxWheel || in.DY < -maxWheel || in.DY > maxWheel {
			return bad("wheel %d,%d is more than %d notches", in.DX, in.DY, maxWheel)
		}
	case InputKey:
		if in.Key == "" || len(in.Key) > maxKeyName || !utf8.ValidString(in.Key) {
			return bad("key name %q is not a key", in.Key)
		}
	case InputText:
		if len(in.Text) > MaxInputText {
			return bad("text of %d bytes is longer than %d", len(in.Text), MaxInputText)
		}
		if !utf8.ValidString(in.Text) {
			return bad("text is not UTF-8")
		}
	default:
		return bad("unknown kind %q", in.Kind)
	}
	return nil
}

// AppendInput appends in's wire form to dst.
func AppendInput(dst []byte, in Input) ([]byte, error) {
	if err := in.Check(); err != nil {
		return dst, err
	}
	p, err := json.Marshal(in)
	if err != nil {
		return dst, fmt.Errorf("session: encoding input: %w", err)
	}
	return append(dst, p...), nil
}

// ParseInput decodes and checks one input frame.
func ParseInput(p []byte) (Input, error) {
	var in Input
	if err := json.Unmarshal(p, &in); err != nil {
		return Input{}, fmt.Errorf("%w: input is not valid JSON: %v", ErrBadFrame, err)
	}
	if err := in.Check(); err != nil {
		return Input{}, err
	}
	return in, nil
}
