package files_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/session/files"
)

var update = flag.Bool("update", false, "rewrite testdata/wire.golden")

// helloOffer is the offer for a file "hello.txt" holding "hello, world\n".
func helloOffer(t *testing.T) files.Offer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(path, []byte("hello, world\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return offerFile(t, path)
}

// TestOfferID recomputes Offer.ID by the formula in doc.go, independently
// of the package's code.
func TestOfferID(t *testing.T) {
	o := helloOffer(t)
	content := sha256.Sum256([]byte("hello, world\n"))
	if o.SHA256 != hex.EncodeToString(content[:]) {
		t.Fatalf("SHA256 %s", o.SHA256)
	}
	var b []byte
	b = append(b, "gethelp/files v1 id\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len("hello.txt")))
	b = append(b, "hello.txt"...)
	b = binary.BigEndian.AppendUint64(b, 13)
	b = append(b, content[:]...)
	id := sha256.Sum256(b)
	if want := hex.EncodeToString(id[:16]); o.ID != want {
		t.Errorf("ID %s, want %s", o.ID, want)
	}
}

// TestWireGolden pins the bytes of each message. Run with -update after a
// deliberate change, and bump the version if old peers cannot read it.
func TestWireGolden(t *testing.T) {
	o := helloOffer(t)
	var out bytes.Buffer
	fmt.Fprintf(&out, "# gethelp session/files wire format, version %d: each message is a\n", files.WireVersion)
	fmt.Fprintf(&out, "# 4-byte big-endian length (in hex here) and that many bytes of JSON.\n")
	fmt.Fprintf(&out, "# The offer is for hello.txt holding \"hello, world\\n\" (13 bytes).\n")
	for _, m := range []struct {
		name string
		msg  any
	}{
		{"offer", files.OfferMessageForTest(o)},
		{"answer, accept from the start", files.AcceptMessageForTest(0)},
		{"answer, accept resuming at byte 5", files.AcceptMessageForTest(5)},
		{"answer, declined by the person", files.DeclineMessageForTest("declined", "")},
		{"answer, too large", files.DeclineMessageForTest("too_large", "13 bytes, the limit is 10")},
		{"answer, bad name", files.DeclineMessageForTest("bad_name", `"con.txt" is a Windows device name`)},
		{"answer, busy", files.DeclineMessageForTest("busy", "")},
		{"answer, protocol", files.DeclineMessageForTest("protocol", "offer id does not match its name, size and sha256")},
		{"answer, failed", files.DeclineMessageForTest("failed", "could not store the file")},
		{"done, ok", files.DoneMessageForTest(true, "", "")},
		{"done, hash mismatch", files.DoneMessageForTest(false, "verify", "")},
		{"done, failed", files.DoneMessageForTest(false, "failed", "could not store the file")},
	} {
		var buf bytes.Buffer
		if err := files.WriteMessageForTest(&buf, m.msg); err != nil {
			t.Fatal(err)
		}
		wire := buf.Bytes()
		fmt.Fprintf(&out, "\n%s\n%x %s\n", m.name, wire[:4], wire[4:])

		back, err := files.ReadMessageForTest(bytes.NewReader(wire))
		if err != nil || !reflect.DeepEqual(back, m.msg) {
			t.Errorf("%s: read back %#v, %v", m.name, back, err)
		}
	}
	golden := filepath.Join("testdata", "wire.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("wire bytes differ from %s (run with -update if intended):\n%s", golden, out.Bytes())
	}
}

func frame(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

func TestReadMessageJunk(t *testing.T) {
	okID := "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"nothing", nil, io.EOF},
		{"short header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"cut body", frame(`{"type":"done","v":1,"ok":true}`)[:10], io.ErrUnexpectedEOF},
		{"empty", frame(""), files.ErrProtocol},
		{"too long", binary.BigEndian.AppendUint32(nil, files.MaxMessage+1), files.ErrProtocol},
		{"huge", []byte{0xff, 0xff, 0xff, 0xff}, files.ErrProtocol},
		{"not JSON", frame("hello\nworld"), files.ErrProtocol},
		{"array", frame(`[1,2]`), files.ErrProtocol},
		{"null", frame(`null`), files.ErrProtocol},
		{"trailing junk", frame(`{"type":"done","v":1} x`), files.ErrProtocol},
		{"no version", frame(`{"type":"done","ok":true}`), files.ErrProtocol},
		{"version 2", frame(`{"type":"done","v":2}`), files.ErrProtocol},
		{"unknown type", frame(`{"type":"hello\n","v":1}`), files.ErrProtocol},
		{"size as string", frame(`{"type":"offer","v":1,"id":"` + okID + `","name":"a","size":"1","sha256":"` + someHash + `"}`), files.ErrProtocol},
		{"size float", frame(`{"type":"offer","v":1,"id":"` + okID + `","name":"a","size":1.5,"sha256":"` + someHash + `"}`), files.ErrProtocol},
		{"upper-case id", frame(`{"type":"offer","v":1,"id":"` + strings.ToUpper(okID) + `","name":"a","size":1,"sha256":"` + someHash + `"}`), files.ErrProtocol},
		{"negative offset", frame(`{"type":"answer","v":1,"accept":true,"offset":-5}`), files.ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := files.ReadMessageForTest(bytes.NewReader(tc.input))
			if !errors.Is(err, tc.want) || m != nil {
				t.Fatalf("got %#v, %v; want %v", m, err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error %q is not one line", err)
			}
		})
	}
}

// FuzzReadMessage feeds junk to the message decoder. It must not panic,
// must not read past one message, must give one-line errors, and whatever
// it accepts must survive re-encoding.
func FuzzReadMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		m, err := files.ReadMessageForTest(r)
		if read := len(data) - r.Len(); read > 4+files.MaxMessage {
			t.Fatalf("read %d bytes", read)
		}
		if err != nil {
			if m != nil {
				t.Fatalf("message %#v with error %v", m, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := files.WriteMessageForTest(&buf, m); err != nil {
			if errors.Is(err, files.ErrProtocol) {
				return // escaping grew it past MaxMessage: refused, fine
			}
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		back, err := files.ReadMessageForTest(&buf)
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("re-encoded %#v read back as %#v, %v", m, back, err)
		}
	})
}
