package session

import (
	"encoding/json"
	"fmt"
	"time"
)

// Message types.
const (
	TypeHello   = "hello"
	TypeWelcome = "welcome"
	TypeReject  = "reject"
	TypeChat    = "chat"
	TypeChatAck = "chat_ack" // ID: every chat message up to this one of the sender's arrived
	TypeBye     = "bye"

	// Screen sharing.
	TypeScreenAck = "screen_ack" // viewer: update Seq is applied
	TypeBandwidth = "bandwidth"  // either side: Level is the new setting
	TypeMonitors  = "monitors"   // host: the monitors it can share
	TypeMonitor   = "monitor"    // viewer: show Monitor (-1: all)
	TypePointer   = "pointer"    // host: the pointer is at X, Y
	TypeCursor    = "cursor"     // host: the pointer's new shape
	TypeSharing   = "sharing"    // host: Paused says whether sharing is paused; Privacy why the view is blanked

	// Consent.
	TypeRequestControl = "request_control" // viewer: asks for control
	TypeReleaseControl = "release_control" // viewer: gives control back
	TypeConsent        = "consent"         // host: Capabilities now granted; By and Text say what changed
	TypeClipboard      = "clipboard"       // either side: the clipboard's new Text
)

// Capabilities the person can grant, each separately; none is on until the
// person says so.
const (
	CapControl      = "control"       // the helper's mouse and keyboard reach the desktop
	CapAdminPrompts = "admin_prompts" // ...also while an administrator prompt is up
	CapFiles        = "files"         // the helper may offer files (each still needs accepting)
	CapClipboard    = "clipboard"     // clipboard text flows both ways
)

// Privacy reasons in a sharing message.
const (
	PrivacySecurePrompt = "secure_prompt" // an administrator or password prompt is on screen
)

// Who ended or changed consent, in a consent message's By.
const (
	ByGrant      = "grant"      // the person granted
	ByDeny       = "deny"       // the person declined a request
	ByEscape     = "esc"        // the person pressed ESC
	ByButton     = "button"     // the person pressed Stop in their window
	ByHelper     = "helper"     // the helper gave control back
	ByDisconnect = "disconnect" // the session ended
	ByPolicy     = "policy"     // an administrator's policy or the person's settings forbid it
	ByUnable     = "unable"     // this computer cannot do it (no input method)
)

// MaxChatText is the longest chat message, in bytes, that Send accepts.
const MaxChatText = 16 << 10

// Message is one control-channel message. Which fields are set depends on
// Type; unknown types are delivered to the application, which ignores what
// it does not understand, so later versions can add messages.
type Message struct {
	Type string `json:"type"`
	// Time is when the sender created the message.
	Time time.Time `json:"time,omitzero"`

	// hello
	Version    int    `json:"version,omitempty"`
	Invitation string `json:"invitation,omitempty"`
	Proof      []byte `json:"proof,omitempty"`
	Offer      bool   `json:"offer,omitempty"` // an offer of help: no invitation, no proof (see the package doc)

	// welcome: a secret the viewer resumes this session with after losing
	// the connection; hello: the secret of the session it resumes.
	Resume []byte `json:"resume,omitempty"`
	// chat, chat_ack: the sender's number of the chat message (1, 2, 3…
	// within a session and its resumptions), so that a resumed session
	// sends again what did not arrive, and nothing twice.
	ID uint64 `json:"id,omitempty"`

	// hello (the viewer's name), welcome (the host's name), chat (the author)
	Name string `json:"name,omitempty"`

	// reject
	Code         RejectCode `json:"code,omitempty"`
	AttemptsLeft int        `json:"attempts_left,omitempty"`

	// chat (the text), reject and bye (a human-readable reason)
	Text string `json:"text,omitempty"`

	Seq      uint32         `json:"seq,omitempty"`      // screen_ack
	Level    string         `json:"level,omitempty"`    // bandwidth
	Monitors []MonitorInfo  `json:"monitors,omitempty"` // monitors
	Monitor  *int           `json:"monitor,omitempty"`  // monitor, monitors (the one shown; -1: all)
	X        int            `json:"x,omitempty"`        // pointer
	Y        int            `json:"y,omitempty"`        // pointer
	Visible  bool           `json:"visible,omitempty"`  // pointer
	Cursor   *CursorMessage `json:"cursor,omitempty"`   // cursor
	Paused   bool           `json:"paused,omitempty"`   // sharing
	Privacy  string         `json:"privacy,omitempty"`  // sharing: why the view is blanked ("" when it is not)

	Capabilities []string `json:"capabilities,omitempty"` // consent: everything granted now (none when absent)
	By           string   `json:"by,omitempty"`           // consent: what changed it
}

// MonitorInfo describes one monitor of the host, in screen pixels.
type MonitorInfo struct {
	Name    string `json:"name"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
	W       int    `json:"w"`
	H       int    `json:"h"`
	Primary bool   `json:"primary,omitempty"`
}

// CursorMessage is a pointer shape: W*H pixels of non-premultiplied RGBA.
type CursorMessage struct {
	Serial uint32 `json:"serial"`
	W      int    `json:"w"`
	H      int    `json:"h"`
	HotX   int    `json:"hot_x"`
	HotY   int    `json:"hot_y"`
	RGBA   []byte `json:"rgba"`
}

func decodeMessage(p []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(p, &m); err != nil {
		return Message{}, fmt.Errorf("%w: message is not valid JSON: %v", ErrBadFrame, err)
	}
	if m.Type == "" {
		return Message{}, fmt.Errorf("%w: message has no type", ErrBadFrame)
	}
	return m, nil
}
