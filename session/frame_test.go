package session

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
)

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		max  int
		want error // nil: success
	}{
		{"message", []byte{1, 0, 0, 0, 2, '{', '}'}, 10, nil},
		{"empty payload", []byte{1, 0, 0, 0, 0}, 10, nil},
		{"clean end", nil, 10, io.EOF},
		{"cut header", []byte{1, 0}, 10, io.ErrUnexpectedEOF},
		{"cut payload", []byte{1, 0, 0, 0, 5, 'a'}, 10, io.ErrUnexpectedEOF},
		{"too large", []byte{1, 0xff, 0xff, 0xff, 0xff}, 10, ErrFrameTooLarge},
		{"unknown type", []byte{9, 0, 0, 0, 0}, 10, ErrBadFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tt.in), tt.max)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("ReadFrame = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	in := Frame{Type: FrameMessage, Payload: []byte(`{"type":"chat","text":"hi"}`)}
	if err := WriteFrame(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFrame(&buf, MaxControlFrame)
	if err != nil || out.Type != in.Type || !bytes.Equal(out.Payload, in.Payload) {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
}

// FuzzDecode feeds arbitrary stream bytes through the preface, frame and
// message decoders: they must never panic, never allocate past the limit,
// and whatever decodes must re-encode to a frame that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("GH\x01\x01\x01\x00\x00\x00\x10{\"type\":\"chat\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		if _, err := readPreface(r); err != nil {
			return
		}
		for {
			fr, err := ReadFrame(r, 1024)
			if err != nil {
				return
			}
			if len(fr.Payload) > 1024 {
				t.Fatalf("payload of %d bytes past the limit", len(fr.Payload))
			}
			m, err := decodeMessage(fr.Payload)
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			if err := writeMessage(new(sync.Mutex), &buf, m); err != nil {
				t.Fatal(err)
			}
			fr2, err := ReadFrame(&buf, MaxControlFrame)
			if err != nil {
				t.Fatalf("re-encoded frame does not decode: %v", err)
			}
			if _, err := decodeMessage(fr2.Payload); err != nil {
				t.Fatalf("re-encoded message does not decode: %v", err)
			}
		}
	})
}
