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
	TypeBye     = "bye"
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

	// hello (the viewer's name), welcome (the host's name), chat (the author)
	Name string `json:"name,omitempty"`

	// reject
	Code         RejectCode `json:"code,omitempty"`
	AttemptsLeft int        `json:"attempts_left,omitempty"`

	// chat (the text), reject and bye (a human-readable reason)
	Text string `json:"text,omitempty"`
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
