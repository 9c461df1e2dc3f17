package session_test

import (
	"testing"

	"github.com/gethelp/gethelp/session"
)

// What one side sends is numbered and kept until acknowledged; what the
// other side gets twice (sent again after a resume) is delivered once.
func TestChatsAcrossAResume(t *testing.T) {
	var out, in session.Chats
	var delivered []string
	var acks []session.Message
	receive := func(m session.Message) {
		fresh, ack := in.Arrived(m)
		if fresh {
			delivered = append(delivered, m.Text)
		}
		acks = append(acks, ack)
	}
	a := out.Number(session.Message{Type: session.TypeChat, Text: "a"})
	b := out.Number(session.Message{Type: session.TypeChat, Text: "b"})
	c := out.Number(session.Message{Type: session.TypeChat, Text: "c"})
	if a.ID != 1 || b.ID != 2 || c.ID != 3 {
		t.Fatalf("ids %d %d %d", a.ID, b.ID, c.ID)
	}
	receive(a)
	receive(b) // c is lost with the connection; b's ack too
	out.Acked(acks[0].ID)
	if got := out.Unacked(); len(got) != 2 || got[0].Text != "b" || got[1].Text != "c" {
		t.Fatalf("unacked after the loss: %+v", got)
	}
	for _, m := range out.Unacked() { // the resumed session sends them again
		receive(m)
	}
	for _, ack := range acks {
		out.Acked(ack.ID)
	}
	if got := out.Unacked(); len(got) != 0 {
		t.Errorf("still unacked: %+v", got)
	}
	if want := []string{"a", "b", "c"}; len(delivered) != 3 || delivered[0] != want[0] || delivered[1] != want[1] || delivered[2] != want[2] {
		t.Errorf("delivered %q, want %q", delivered, want)
	}
	// A peer that does not number its chat is delivered as is, and not
	// acknowledged.
	if fresh, ack := in.Arrived(session.Message{Type: session.TypeChat, Text: "old"}); !fresh || ack.Type != "" {
		t.Errorf("unnumbered chat: fresh %v ack %+v", fresh, ack)
	}
}
