package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/gethelp/gethelp/session"
)

// rawDial opens a QUIC connection to the host without the session layer, to
// play a hostile or broken viewer.
func rawDial(t *testing.T, c context.Context, h *host) *quic.Conn {
	t.Helper()
	qc, err := quic.DialAddr(c, h.ln.Addr().String(), &tls.Config{
		InsecureSkipVerify: true, NextProtos: []string{session.ALPN}, MinVersion: tls.VersionTLS13,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qc.CloseWithError(0, "") })
	return qc
}

func TestHostileOpenersAreDroppedAndTheHostGoesOn(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"bad magic", []byte("HTTP/1.1 200 OK\r\n")},
		{"wrong version", []byte{'G', 'H', 9, 1}},
		{"not the control channel", []byte{'G', 'H', 1, 7}},
		{"huge frame", []byte{'G', 'H', 1, 1, 1, 0xff, 0xff, 0xff, 0xff}},
		{"unknown frame type", []byte{'G', 'H', 1, 1, 9, 0, 0, 0, 0}},
		{"not JSON", append([]byte{'G', 'H', 1, 1, 1, 0, 0, 0, 3}, "abc"...)},
		{"chat before hello", append([]byte{'G', 'H', 1, 1, 1, 0, 0, 0, 15}, `{"type":"chat"}`...)},
	}
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qc := rawDial(t, c, h)
			st, err := qc.OpenStreamSync(c)
			if err != nil {
				t.Fatal(err)
			}
			st.Write(tt.data)
			select {
			case <-qc.Context().Done():
			case <-time.After(5 * time.Second):
				t.Fatal("host did not close the connection")
			}
			var appErr *quic.ApplicationError
			if err := context.Cause(qc.Context()); !errors.As(err, &appErr) || appErr.ErrorCode != 1 {
				t.Errorf("closed with %v, want application error 1 (protocol error)", err)
			}
		})
	}
	// The host still serves a real viewer.
	hostSide := h.serveOne(t, c)
	v, err := session.Dial(c, h.dialConfig(testPassword))
	if err != nil {
		t.Fatalf("Dial after hostile openers: %v", err)
	}
	hc := <-hostSide
	v.Close("")
	<-hc.Done()
}

func TestGarbageInsideASessionClosesOnlyThatSession(t *testing.T) {
	c := ctx(t)
	h := startHost(t, "127.0.0.1:0")
	hostSide := h.serveOne(t, c)
	// A viewer that authenticates properly, then misbehaves: it sends a
	// frame larger than the control channel allows.
	v, err := session.Dial(c, h.dialConfig(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	hc := <-hostSide
	big := make([]byte, session.MaxChatText+1)
	for i := range big {
		big[i] = 'a'
	}
	if err := v.Send(session.Message{Type: session.TypeChat, Text: string(big)}); err == nil {
		t.Fatal("Send accepted a chat message over the limit")
	}
	// Bypass Send's check: a raw oversized frame is a protocol error. The
	// write itself may fail: the host closes as soon as it reads the header.
	_ = session.SendRawForTest(v, session.Frame{Type: session.FrameMessage, Payload: make([]byte, session.MaxControlFrame+1)})
	_, err = hc.Receive(c)
	var ce *session.ClosedError
	if !errors.As(err, &ce) || ce.ByPeer {
		t.Fatalf("host side ended with %v, want a local protocol-error close", err)
	}
	if _, err := v.Receive(c); err == nil {
		t.Fatal("viewer still receiving after the host closed the session")
	}
	v.Close("")
}
