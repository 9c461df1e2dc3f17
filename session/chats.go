package session

import (
	"slices"
	"sync"
)

// maxUnacked bounds the chat messages kept for sending again: a peer that
// never acknowledges cannot make a session hold more.
const maxUnacked = 256

// Chats makes chat survive a lost connection: it numbers the chat
// messages one side sends (Message.ID), keeps those the peer has not yet
// acknowledged, so that a resumed session sends them again (Unacked), and
// recognises what the peer sends again that already arrived. The peer
// acknowledges each chat message it receives with a chat_ack carrying its
// ID. The zero value is ready to use; it is safe for concurrent use.
type Chats struct {
	mu      sync.Mutex
	sent    uint64    // the last ID given
	unacked []Message // sent, not yet acknowledged, oldest first
	seen    uint64    // the peer's highest ID delivered
}

// Number gives m (a chat message) the next ID and keeps it until it is
// acknowledged.
func (c *Chats) Number(m Message) Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent++
	m.ID = c.sent
	c.unacked = append(c.unacked, m)
	if len(c.unacked) > maxUnacked {
		c.unacked = slices.Delete(c.unacked, 0, len(c.unacked)-maxUnacked)
	}
	return m
}

// Acked drops the messages up to id: the peer has them.
func (c *Chats) Acked(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unacked = slices.DeleteFunc(c.unacked, func(m Message) bool { return m.ID <= id })
}

// Unacked returns what the peer has not acknowledged, oldest first.
func (c *Chats) Unacked() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.unacked)
}

// Arrived reports whether the peer's chat message m is new (deliver it)
// rather than one sent again after a resume that had already arrived. It
// returns the acknowledgement to send back either way (the zero Message
// when m carries no ID, from a peer that does not number its chat).
func (c *Chats) Arrived(m Message) (fresh bool, ack Message) {
	if m.ID == 0 {
		return true, Message{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ack = Message{Type: TypeChatAck, ID: m.ID}
	if m.ID <= c.seen {
		return false, ack
	}
	c.seen = m.ID
	return true, ack
}
