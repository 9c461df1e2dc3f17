package agentlink_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gethelp/gethelp/agentlink"
)

// FuzzReadMessage: no input makes the decoder panic or read past the
// frame, and what it accepts survives a round trip unchanged. The seed
// corpus is in testdata/fuzz/FuzzReadMessage.
func FuzzReadMessage(f *testing.F) {
	for _, m := range golden() {
		b, err := agentlink.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		m, err := agentlink.ReadMessage(r)
		if err != nil {
			if !errors.Is(err, agentlink.ErrMalformed) && !errors.Is(err, agentlink.ErrTooLarge) && err != io.EOF {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if m.Type == "" {
			t.Fatal("accepted a message without a type")
		}
		if used := len(data) - r.Len(); used > agentlink.MaxMessageSize+4 {
			t.Fatalf("read %d bytes", used)
		}
		enc, err := agentlink.Encode(m)
		if errors.Is(err, agentlink.ErrTooLarge) {
			return // escaping can make the JSON longer than what came in
		}
		if err != nil {
			t.Fatalf("cannot encode what was decoded: %v", err)
		}
		back, err := agentlink.ReadMessage(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("cannot decode what was encoded: %v\n%s", err, enc)
		}
		enc2, err := agentlink.Encode(back)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip not stable: %v\n%s\n%s", err, enc, enc2)
		}
	})
}
