package host

import "context"

// Injector delivers the helper's input to the person's desktop.
// Implementations: host/x11 (XTEST); later Wayland and Windows.
type Injector interface {
	// Inject performs one input event. Key, button and text events are
	// performed in the order given and never dropped; the caller may drop
	// stale pointer moves (latest wins).
	Inject(ctx context.Context, e InputEvent) error
	Close() error
}

// InputKind says what an InputEvent does.
type InputKind uint8

// Input event kinds.
const (
	InputPointer InputKind = iota + 1 // move the pointer to X, Y
	InputButton                       // press (Down) or release Button at X, Y
	InputWheel                        // scroll by DX, DY notches (positive: right, down)
	InputKey                          // press (Down) or release Key
	InputText                         // type Text: press and release each character
)

// InputEvent is one input action of the helper, in the shared image's
// coordinates.
type InputEvent struct {
	Kind   InputKind
	X, Y   int
	Button int  // 1 left, 2 middle, 3 right, 8 back, 9 forward
	Down   bool // InputButton, InputKey: pressed (true) or released
	DX, DY int  // InputWheel
	// Key names a key as the browser's KeyboardEvent.key does: a printable
	// character ("a", "A", "ü", "€") or a named key ("Enter", "Escape",
	// "Backspace", "Tab", "ArrowLeft", "F5", "Control", "Shift", "Alt",
	// "Meta", "Home", "PageDown", "Delete", ...).
	Key  string
	Text string // InputText: any Unicode text; '\n' is Return
}

// KeyWatcher reports keys the person presses on their own keyboard, telling
// them apart from the input the session injects.
type KeyWatcher interface {
	// Escapes returns a channel that receives a value each time the person
	// presses Escape on a physical keyboard (never for Escape injected by
	// an Injector). It is closed when the watcher is closed or fails.
	Escapes() <-chan struct{}
	Close() error
}
