package agentlink_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/agentlink"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func frame(payload string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	return append(b, payload...)
}

func TestReadMessageRefuses(t *testing.T) {
	huge := binary.BigEndian.AppendUint32(nil, agentlink.MaxMessageSize+1)
	cases := []struct {
		name  string
		input []byte
		want  error
	}{
		{"zero length", frame(""), agentlink.ErrMalformed},
		{"too large", huge, agentlink.ErrTooLarge},
		{"max uint32", []byte{0xff, 0xff, 0xff, 0xff}, agentlink.ErrTooLarge},
		{"cut in prefix", []byte{0, 0}, agentlink.ErrMalformed},
		{"cut in body", frame(`{"type":"hello"}`)[:10], agentlink.ErrMalformed},
		{"not json", frame(`hello`), agentlink.ErrMalformed},
		{"array", frame(`[{"type":"hello"}]`), agentlink.ErrMalformed},
		{"string", frame(`"hello"`), agentlink.ErrMalformed},
		{"null", frame(`null`), agentlink.ErrMalformed},
		{"no type", frame(`{"name":"x"}`), agentlink.ErrMalformed},
		{"empty type", frame(`{"type":""}`), agentlink.ErrMalformed},
		{"type not a string", frame(`{"type":7}`), agentlink.ErrMalformed},
		{"trailing garbage", frame(`{"type":"hello"} x`), agentlink.ErrMalformed},
		{"two objects", frame(`{"type":"hello"}{"type":"hello"}`), agentlink.ErrMalformed},
		{"bad time", frame(`{"type":"hello","time":"yesterday"}`), agentlink.ErrMalformed},
		{"bad file", frame(`{"type":"invitation","file":"not base64!"}`), agentlink.ErrMalformed},
		{"wrong field type", frame(`{"type":"hello","version":"1"}`), agentlink.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agentlink.ReadMessage(bytes.NewReader(tc.input))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestReadMessageEOF(t *testing.T) {
	if _, err := agentlink.ReadMessage(bytes.NewReader(nil)); err != io.EOF {
		t.Fatalf("empty stream: got %v, want io.EOF", err)
	}
}

func TestReadMessageAccepts(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  agentlink.Message
	}{
		{"minimal", `{"type":"hello"}`, agentlink.Message{Type: "hello"}},
		{"unknown field ignored", `{"type":"hello","name":"pc","colour":"blue"}`, agentlink.Message{Type: "hello", Name: "pc"}},
		{"unknown type delivered", `{"type":"future_thing","text":"x"}`, agentlink.Message{Type: "future_thing", Text: "x"}},
		{"white space", " \n{ \"type\" : \"welcome\" }\n", agentlink.Message{Type: "welcome"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := agentlink.ReadMessage(bytes.NewReader(frame(tc.input)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, tc.want) {
				t.Fatalf("got %+v, want %+v", m, tc.want)
			}
		})
	}
}

func TestEncodeRefuses(t *testing.T) {
	if _, err := agentlink.Encode(agentlink.Message{}); !errors.Is(err, agentlink.ErrMalformed) {
		t.Errorf("no type: got %v", err)
	}
	big := agentlink.Message{Type: agentlink.TypeChat, Text: strings.Repeat("x", agentlink.MaxMessageSize)}
	if _, err := agentlink.Encode(big); !errors.Is(err, agentlink.ErrTooLarge) {
		t.Errorf("too large: got %v", err)
	}
}

// golden are messages of every type with every field their type uses.
func golden() []agentlink.Message {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	bob := &agentlink.Identity{Network: "slack", Workspace: "T0ACME", UserID: "U02BOB", DisplayName: "Bob Smith", Email: "bob@example.com"}
	ann := &agentlink.Identity{Network: "slack", Workspace: "T0ACME", UserID: "U01ANN", DisplayName: "Ann Lee", Email: "ann@example.com"}
	return []agentlink.Message{
		{Type: agentlink.TypeHello, Time: at, Name: "ann-laptop", Version: agentlink.Version},
		{Type: agentlink.TypeWelcome, Time: at, Links: []agentlink.Identity{*ann}},
		{Type: agentlink.TypeLinkRequest, Time: at},
		{Type: agentlink.TypeLinkCode, Time: at, Code: "K7PM-W3XQ", Expires: at.Add(10 * time.Minute)},
		{Type: agentlink.TypeLinked, Time: at, Identity: ann},
		{Type: agentlink.TypeUnlinked, Time: at, Identity: ann},
		{Type: agentlink.TypeConsentRequest, Time: at, Ticket: "T-1042", Requester: ann, Helper: bob, Description: "the printer again"},
		{Type: agentlink.TypeConsent, Time: at, Ticket: "T-1042", Accepted: true},
		{Type: agentlink.TypeConsent, Time: at, Ticket: "T-1043", Reason: "declined"},
		{Type: agentlink.TypeInvitation, Time: at, Ticket: "T-1042", File: []byte("gethelp-invitation: 1\n"), Password: "K7PM-W3XQ-R9TD", Expires: at.Add(time.Hour), InvitationID: "7Q2M9KX4TR"},
		{Type: agentlink.TypeResend, Time: at, Ticket: "T-1042"},
		{Type: agentlink.TypeCancel, Time: at, Ticket: "T-1042", Reason: "Ann cancelled the ticket"},
		{Type: agentlink.TypeChat, Time: at, Ticket: "T-1042", Author: "Ann Lee", Text: "thanks!", Source: "chat", Key: "slack:1700000000.000100"},
		{Type: agentlink.TypeChat, Time: at, Ticket: "T-1042", Author: "Bob", Text: "click Start", Source: "helper", Key: "a1b2c3d4e5f60718"},
		{Type: agentlink.TypeStatus, Time: at, Ticket: "T-1042", State: agentlink.StatusConnected, Text: "Bob"},
		{Type: agentlink.TypeStatus, Time: at, Ticket: "T-1042", State: agentlink.StatusEnded, Summary: &agentlink.Summary{
			Duration: 12*time.Minute + 3*time.Second, Path: agentlink.PathDirect, RTT: 23 * time.Millisecond,
			ScreenBytes: 48213377, Updates: 5120, Reason: "the helper disconnected",
		}},
		{Type: agentlink.TypeError, Time: at, Ticket: "T-1042", Text: "a helper is connected: nothing to resend"},
		{Type: agentlink.TypeBye, Time: at, Text: "the bot is shutting down"},
	}
}

// TestMessagesGolden pins the wire encoding: each line of the golden file
// is a frame's length prefix in hex, then its JSON.
func TestMessagesGolden(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("# agent link messages, version 1: length prefix (hex), JSON\n")
	for _, m := range golden() {
		b, err := agentlink.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&buf, "%x %s\n", b[:4], b[4:])
		back, err := agentlink.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%s: round trip gave\n%+v\nwant\n%+v", m.Type, back, m)
		}
	}
	path := filepath.Join("testdata", "messages.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("encoding changed; if on purpose, run go test -update\ngot:\n%s\nwant:\n%s", buf.Bytes(), want)
	}
}
