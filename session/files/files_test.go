package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/gethelp/gethelp/session/files"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// writeRandom writes size bytes derived from seed to dir/name.
func writeRandom(t *testing.T, dir, name string, size int, seed byte) string {
	t.Helper()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{seed}).Read(data)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func offerFile(t *testing.T, path string) files.Offer {
	t.Helper()
	o, err := files.OfferFile(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func accept(context.Context, files.Offer) error { return nil }

type outcome struct {
	res files.Result
	err error
}

type options struct {
	decide       func(context.Context, files.Offer) error
	wrapSender   func(net.Conn) io.ReadWriter // default: the conn itself
	sendProgress files.Progress
	recvProgress files.Progress
}

// transfer sends path over a fresh net.Pipe into in, each side closing its
// end when it returns, as the real callers do with a QUIC stream.
func transfer(t *testing.T, in *files.Inbox, path string, offer files.Offer, o options) (send, recv outcome) {
	t.Helper()
	if o.decide == nil {
		o.decide = accept
	}
	a, b := net.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer b.Close()
		recv.res, recv.err = in.Receive(t.Context(), b, o.decide, o.recvProgress)
	})
	var rw io.ReadWriter = a
	if o.wrapSender != nil {
		rw = o.wrapSender(a)
	}
	send.res, send.err = files.Send(t.Context(), rw, path, offer, o.sendProgress)
	a.Close()
	wg.Wait()
	return send, recv
}

func mustSucceed(t *testing.T, send, recv outcome) {
	t.Helper()
	if send.err != nil || recv.err != nil {
		t.Fatalf("send: %v; receive: %v", send.err, recv.err)
	}
}

func sameContent(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ", a, b)
	}
}

// dirNames lists dir, hidden entries included; a missing dir is empty.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func partialPath(in *files.Inbox, o files.Offer) string {
	return filepath.Join(in.Dir, files.PartialDir, o.ID+".part")
}

// progressLog records Progress calls.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]int64
}

func (p *progressLog) record(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, [2]int64{done, total})
}

func (p *progressLog) check(t *testing.T, side string, total int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) == 0 {
		t.Fatalf("%s: progress never called", side)
	}
	if last := p.calls[len(p.calls)-1]; last != [2]int64{total, total} {
		t.Errorf("%s: last progress %v, want [%d %d]", side, last, total, total)
	}
	for i := 1; i < len(p.calls); i++ {
		if p.calls[i][0] < p.calls[i-1][0] || p.calls[i][1] != total {
			t.Errorf("%s: progress went %v then %v", side, p.calls[i-1], p.calls[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	src := t.TempDir()
	path := writeRandom(t, src, "report.pdf", 3<<20+12345, 1)
	offer := offerFile(t, path)

	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	if offer.SHA256 != hex.EncodeToString(sum[:]) || offer.Size != int64(len(data)) || offer.Name != "report.pdf" {
		t.Fatalf("offer %+v does not describe the file", offer)
	}

	in := &files.Inbox{Dir: filepath.Join(t.TempDir(), "inbox")}
	var asked files.Offer
	var sp, rp progressLog
	send, recv := transfer(t, in, path, offer, options{
		decide:       func(_ context.Context, o files.Offer) error { asked = o; return nil },
		sendProgress: sp.record,
		recvProgress: rp.record,
	})
	mustSucceed(t, send, recv)

	if asked != offer {
		t.Errorf("decide saw %+v, want %+v", asked, offer)
	}
	if want := filepath.Join(in.Dir, "report.pdf"); recv.res.Path != want {
		t.Errorf("received into %q, want %q", recv.res.Path, want)
	}
	if send.res.Path != "" || send.res.Offer != offer || recv.res.Offer != offer {
		t.Errorf("results: send %+v, receive %+v", send.res, recv.res)
	}
	if send.res.ResumedFrom != 0 || recv.res.ResumedFrom != 0 {
		t.Errorf("fresh transfer resumed from %d/%d", send.res.ResumedFrom, recv.res.ResumedFrom)
	}
	sameContent(t, path, recv.res.Path)
	got, _ := os.ReadFile(recv.res.Path)
	if s := sha256.Sum256(got); s != sum {
		t.Error("SHA-256 of the received file differs")
	}
	sp.check(t, "sender", offer.Size)
	rp.check(t, "receiver", offer.Size)

	if names := dirNames(t, in.Dir); !slices.Equal(names, []string{"report.pdf"}) {
		t.Errorf("inbox holds %q, want only report.pdf (no partial directory left)", names)
	}
	st, err := os.Stat(recv.res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("received file has mode %v, want 0600", st.Mode().Perm())
	}
}

func TestEmptyFile(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "empty.txt", 0, 0)
	in := &files.Inbox{Dir: t.TempDir()}
	send, recv := transfer(t, in, path, offerFile(t, path), options{})
	mustSucceed(t, send, recv)
	sameContent(t, path, recv.res.Path)
}

func TestDecline(t *testing.T) {
	errBusyUser := errors.New("the person closed the prompt")
	for _, tc := range []struct {
		name   string
		answer error
	}{
		{"ErrDeclined", files.ErrDeclined},
		{"other error", errBusyUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRandom(t, t.TempDir(), "a.bin", 100<<10, 2)
			in := &files.Inbox{Dir: filepath.Join(t.TempDir(), "inbox")}
			send, recv := transfer(t, in, path, offerFile(t, path), options{
				decide: func(context.Context, files.Offer) error { return tc.answer },
			})
			if !errors.Is(send.err, files.ErrDeclined) {
				t.Errorf("send: %v, want ErrDeclined", send.err)
			}
			if !errors.Is(recv.err, files.ErrDeclined) || !errors.Is(recv.err, tc.answer) {
				t.Errorf("receive: %v, want ErrDeclined and %v", recv.err, tc.answer)
			}
			if names := dirNames(t, in.Dir); names != nil {
				t.Errorf("inbox holds %q after a decline", names)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "big.bin", 2000, 3)
	in := &files.Inbox{Dir: filepath.Join(t.TempDir(), "inbox"), MaxSize: 1999}
	asked := false
	send, recv := transfer(t, in, path, offerFile(t, path), options{
		decide: func(context.Context, files.Offer) error { asked = true; return nil },
	})
	if !errors.Is(send.err, files.ErrTooLarge) || !errors.Is(recv.err, files.ErrTooLarge) {
		t.Errorf("send: %v; receive: %v; want ErrTooLarge on both", send.err, recv.err)
	}
	if asked {
		t.Error("the person was asked about a file over the limit")
	}
	if names := dirNames(t, in.Dir); names != nil {
		t.Errorf("inbox holds %q", names)
	}

	in.MaxSize = 2000 // exactly at the limit is fine
	send, recv = transfer(t, in, path, offerFile(t, path), options{})
	mustSucceed(t, send, recv)
}

var errBroken = errors.New("test: link broke")

// breakAfter passes through the first left bytes written, then closes the
// connection and fails.
type breakAfter struct {
	net.Conn
	left int
}

func (b *breakAfter) Write(p []byte) (int, error) {
	if len(p) <= b.left {
		n, err := b.Conn.Write(p)
		b.left -= n
		return n, err
	}
	n, _ := b.Conn.Write(p[:b.left])
	b.left -= n
	b.Conn.Close()
	return n, errBroken
}

// interrupted runs a transfer that breaks after n bytes and returns the
// length of the partial file it leaves.
func interrupted(t *testing.T, in *files.Inbox, path string, offer files.Offer, n int) int64 {
	t.Helper()
	send, recv := transfer(t, in, path, offer, options{
		wrapSender: func(c net.Conn) io.ReadWriter { return &breakAfter{Conn: c, left: n} },
	})
	if !errors.Is(send.err, errBroken) {
		t.Fatalf("send: %v, want the broken link", send.err)
	}
	if !errors.Is(recv.err, io.ErrUnexpectedEOF) {
		t.Fatalf("receive: %v, want unexpected EOF", recv.err)
	}
	st, err := os.Stat(partialPath(in, offer))
	if err != nil {
		t.Fatalf("partial file after a broken transfer: %v", err)
	}
	if st.Size() <= 0 || st.Size() >= offer.Size {
		t.Fatalf("partial file holds %d of %d bytes", st.Size(), offer.Size)
	}
	return st.Size()
}

func TestResume(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "movie.mkv", 3<<20, 4)
	offer := offerFile(t, path)
	in := &files.Inbox{Dir: t.TempDir()}

	have := interrupted(t, in, path, offer, 1<<20+777)
	if names := dirNames(t, in.Dir); !slices.Equal(names, []string{files.PartialDir}) {
		t.Fatalf("inbox holds %q after a broken transfer", names)
	}

	// The same file offered again, as after a reconnect: same ID.
	again := offerFile(t, path)
	if again.ID != offer.ID {
		t.Fatalf("ID changed between offers: %s, %s", offer.ID, again.ID)
	}
	var rp progressLog
	send, recv := transfer(t, in, path, again, options{recvProgress: rp.record})
	mustSucceed(t, send, recv)
	if send.res.ResumedFrom != have || recv.res.ResumedFrom != have {
		t.Errorf("resumed from %d (sender) and %d (receiver), want %d", send.res.ResumedFrom, recv.res.ResumedFrom, have)
	}
	rp.check(t, "receiver", offer.Size)
	if rp.calls[0][0] < have {
		t.Errorf("first progress %v is before the resumed prefix %d", rp.calls[0], have)
	}
	sameContent(t, path, recv.res.Path)
	if _, err := os.Stat(partialPath(in, offer)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file after success: %v", err)
	}
	if names := dirNames(t, in.Dir); !slices.Equal(names, []string{"movie.mkv"}) {
		t.Errorf("inbox holds %q", names)
	}
}

func TestCorruptPartial(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "data.bin", 1<<20, 5)
	offer := offerFile(t, path)
	in := &files.Inbox{Dir: t.TempDir()}
	interrupted(t, in, path, offer, 300<<10)

	part := partialPath(in, offer)
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 1000); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, 1000); err != nil {
		t.Fatal(err)
	}
	f.Close()

	send, recv := transfer(t, in, path, offer, options{})
	if !errors.Is(send.err, files.ErrVerify) || !errors.Is(recv.err, files.ErrVerify) {
		t.Fatalf("send: %v; receive: %v; want ErrVerify on both", send.err, recv.err)
	}
	if _, err := os.Stat(part); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file after a hash mismatch: %v", err)
	}
	if names := dirNames(t, in.Dir); names != nil {
		t.Errorf("inbox holds %q after a hash mismatch", names)
	}

	// The next attempt starts afresh and succeeds.
	send, recv = transfer(t, in, path, offer, options{})
	mustSucceed(t, send, recv)
	if recv.res.ResumedFrom != 0 {
		t.Errorf("resumed from %d after the partial was discarded", recv.res.ResumedFrom)
	}
	sameContent(t, path, recv.res.Path)
}

func TestNeverOverwrite(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		src := t.TempDir()
		in := &files.Inbox{Dir: t.TempDir()}
		var got []string
		for i, name := range []string{"a.txt", "a.txt", "backup.tar.gz", "backup.tar.gz", "README", "README"} {
			// Different contents, so each is a new transfer, not a resume.
			path := writeRandom(t, filepath.Join(src), name, 1000+i, byte(10+i))
			send, recv := transfer(t, in, path, offerFile(t, path), options{})
			mustSucceed(t, send, recv)
			sameContent(t, path, recv.res.Path)
			got = append(got, filepath.Base(recv.res.Path))
		}
		want := []string{"a.txt", "a (1).txt", "backup.tar.gz", "backup (1).tar.gz", "README", "README (1)"}
		if !slices.Equal(got, want) {
			t.Errorf("names %q, want %q", got, want)
		}
	})
	t.Run("existing file untouched", func(t *testing.T) {
		in := &files.Inbox{Dir: t.TempDir()}
		mine := []byte("the person's own a.txt\n")
		if err := os.WriteFile(filepath.Join(in.Dir, "a.txt"), mine, 0o644); err != nil {
			t.Fatal(err)
		}
		path := writeRandom(t, t.TempDir(), "a.txt", 5000, 20)
		send, recv := transfer(t, in, path, offerFile(t, path), options{})
		mustSucceed(t, send, recv)
		if want := filepath.Join(in.Dir, "a (1).txt"); recv.res.Path != want {
			t.Errorf("received into %q, want %q", recv.res.Path, want)
		}
		sameContent(t, path, recv.res.Path)
		if b, _ := os.ReadFile(filepath.Join(in.Dir, "a.txt")); !bytes.Equal(b, mine) {
			t.Error("the existing a.txt changed")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		in := &files.Inbox{Dir: t.TempDir()}
		src := t.TempDir()
		const n = 8
		var wg sync.WaitGroup
		results := make([]outcome, n)
		paths := make([]string, n)
		for i := range n {
			dir := filepath.Join(src, fmt.Sprint(i))
			os.Mkdir(dir, 0o700)
			paths[i] = writeRandom(t, dir, "a.txt", 200<<10, byte(30+i))
			offer := offerFile(t, paths[i])
			wg.Go(func() {
				send, recv := transfer(t, in, paths[i], offer, options{})
				if send.err != nil {
					recv.err = errors.Join(recv.err, send.err)
				}
				results[i] = recv
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, r := range results {
			if r.err != nil {
				t.Fatalf("transfer %d: %v", i, r.err)
			}
			sameContent(t, paths[i], r.res.Path)
			seen[filepath.Base(r.res.Path)] = true
		}
		for i := range n {
			name := "a.txt"
			if i > 0 {
				name = fmt.Sprintf("a (%d).txt", i)
			}
			if !seen[name] {
				t.Errorf("no file landed as %q; got %v", name, seen)
			}
		}
	})
}

func TestBusy(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "same.bin", 1000, 40)
	offer := offerFile(t, path)
	in := &files.Inbox{Dir: t.TempDir()}
	asking := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	var first outcome
	wg.Go(func() {
		var recv outcome
		first, recv = transfer(t, in, path, offer, options{decide: func(context.Context, files.Offer) error {
			close(asking)
			<-release
			return nil
		}})
		if recv.err != nil {
			first.err = errors.Join(first.err, recv.err)
		}
	})
	<-asking
	send, recv := transfer(t, in, path, offer, options{})
	close(release)
	wg.Wait()
	if !errors.Is(send.err, files.ErrBusy) || !errors.Is(recv.err, files.ErrBusy) {
		t.Errorf("second transfer: send %v, receive %v, want ErrBusy", send.err, recv.err)
	}
	if first.err != nil {
		t.Errorf("first transfer: %v", first.err)
	}
}

func TestChanged(t *testing.T) {
	dir := t.TempDir()
	path := writeRandom(t, dir, "log.txt", 10000, 50)
	offer := offerFile(t, path)
	if err := os.WriteFile(path, []byte("shorter now"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Send fails before writing anything: run it alone.
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := files.Send(t.Context(), a, path, offer, nil); !errors.Is(err, files.ErrChanged) {
		t.Errorf("send after the file shrank: %v, want ErrChanged", err)
	}

	// Same size, different bytes: the receiver's hash catches it.
	writeRandom(t, dir, "log.txt", 10000, 51)
	in := &files.Inbox{Dir: t.TempDir()}
	send, recv := transfer(t, in, path, offer, options{})
	if !errors.Is(send.err, files.ErrVerify) || !errors.Is(recv.err, files.ErrVerify) {
		t.Errorf("send: %v; receive: %v; want ErrVerify", send.err, recv.err)
	}
}

// rawPeer plays a sender by hand on the wire.
type rawPeer struct {
	t *testing.T
	c net.Conn
}

func (p rawPeer) writeJSON(v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	p.writeFrame(b)
}

func (p rawPeer) writeFrame(b []byte) {
	p.t.Helper()
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	if _, err := p.c.Write(append(msg, b...)); err != nil {
		p.t.Fatal(err)
	}
}

func (p rawPeer) readJSON() map[string]any {
	p.t.Helper()
	var n uint32
	if err := binary.Read(p.c, binary.BigEndian, &n); err != nil {
		p.t.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.c, b); err != nil {
		p.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		p.t.Fatal(err)
	}
	return m
}

const someHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256 of nothing

func TestHostileOffers(t *testing.T) {
	okID := "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name   string
		offer  map[string]any
		reason string
		want   error
	}{
		{"parent path", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "../../evil", "size": 4, "sha256": someHash}, "bad_name", files.ErrBadName},
		{"absolute path", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "/tmp/evil", "size": 4, "sha256": someHash}, "bad_name", files.ErrBadName},
		{"hidden", map[string]any{"type": "offer", "v": 1, "id": okID, "name": ".bashrc", "size": 4, "sha256": someHash}, "bad_name", files.ErrBadName},
		{"alternate stream", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "a.txt:x", "size": 4, "sha256": someHash}, "bad_name", files.ErrBadName},
		{"id as a path", map[string]any{"type": "offer", "v": 1, "id": "../../../../tmp/evil", "name": "a.txt", "size": 4, "sha256": someHash}, "protocol", files.ErrProtocol},
		{"id not derived", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "a.txt", "size": 4, "sha256": someHash}, "protocol", files.ErrProtocol},
		{"negative size", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "a.txt", "size": -1, "sha256": someHash}, "protocol", files.ErrProtocol},
		{"bad hash", map[string]any{"type": "offer", "v": 1, "id": okID, "name": "a.txt", "size": 4, "sha256": "zz"}, "protocol", files.ErrProtocol},
		{"version 2", map[string]any{"type": "offer", "v": 2, "id": okID, "name": "a.txt", "size": 4, "sha256": someHash}, "protocol", files.ErrProtocol},
		{"answer first", map[string]any{"type": "answer", "v": 1, "accept": true}, "protocol", files.ErrProtocol},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			in := &files.Inbox{Dir: filepath.Join(root, "x", "y", "inbox")}
			a, b := net.Pipe()
			var recv outcome
			var wg sync.WaitGroup
			wg.Go(func() {
				defer b.Close()
				recv.res, recv.err = in.Receive(t.Context(), b, func(context.Context, files.Offer) error {
					t.Error("decide called for a hostile offer")
					return nil
				}, nil)
			})
			p := rawPeer{t, a}
			p.writeJSON(tc.offer)
			ans := p.readJSON()
			a.Close()
			wg.Wait()
			if ans["type"] != "answer" || ans["accept"] != false || ans["reason"] != tc.reason {
				t.Errorf("answer %v, want a decline with reason %q", ans, tc.reason)
			}
			if !errors.Is(recv.err, tc.want) {
				t.Errorf("receive: %v, want %v", recv.err, tc.want)
			}
			var found []string
			filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if path != root {
					found = append(found, path)
				}
				return err
			})
			if found != nil {
				t.Errorf("wrote %q", found)
			}
		})
	}
}

func TestHostileStreams(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		want  error
	}{
		{"oversized", binary.BigEndian.AppendUint32(nil, 1<<30), files.ErrProtocol},
		{"junk", append(binary.BigEndian.AppendUint32(nil, 5), "hello"...), files.ErrProtocol},
		{"cut", append(binary.BigEndian.AppendUint32(nil, 50), `{"type":"offer"`...), io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &files.Inbox{Dir: t.TempDir()}
			a, b := net.Pipe()
			var wg sync.WaitGroup
			var err error
			wg.Go(func() {
				defer b.Close()
				_, err = in.Receive(t.Context(), b, accept, nil)
			})
			a.Write(tc.frame)
			a.Close() // also unblocks a best-effort answer
			wg.Wait()
			if !errors.Is(err, tc.want) {
				t.Errorf("receive: %v, want %v", err, tc.want)
			}
		})
	}
}

// A sender that writes before the answer is a protocol error, noticed while
// the person is still deciding.
func TestSenderSpeaksOutOfTurn(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "a.txt", 100, 60)
	offer := offerFile(t, path)
	in := &files.Inbox{Dir: t.TempDir()}
	a, b := net.Pipe()
	var wg sync.WaitGroup
	var err error
	var decideErr error
	wg.Go(func() {
		defer b.Close()
		_, err = in.Receive(t.Context(), b, func(ctx context.Context, _ files.Offer) error {
			<-ctx.Done()
			decideErr = ctx.Err()
			return decideErr
		}, nil)
	})
	p := rawPeer{t, a}
	p.writeJSON(map[string]any{"type": "offer", "v": 1, "id": offer.ID, "name": offer.Name, "size": offer.Size, "sha256": offer.SHA256})
	a.Write([]byte("early bytes"))
	wg.Wait()
	a.Close()
	if !errors.Is(err, files.ErrProtocol) {
		t.Errorf("receive: %v, want ErrProtocol", err)
	}
	if decideErr == nil {
		t.Error("decide's context was not cancelled")
	}
}

// pipeEnd is one end of a pair of io.Pipes: no deadlines, but a Close.
type pipeEnd struct {
	*io.PipeReader
	*io.PipeWriter
}

func (p pipeEnd) Close() error {
	p.PipeReader.Close()
	p.PipeWriter.Close()
	return nil
}

func ioPipes() (pipeEnd, pipeEnd) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return pipeEnd{ar, aw}, pipeEnd{br, bw}
}

func TestCancel(t *testing.T) {
	type stream interface {
		io.ReadWriteCloser
	}
	transports := []struct {
		name string
		pair func() (stream, stream)
	}{
		{"net.Pipe (deadlines)", func() (stream, stream) { a, b := net.Pipe(); return a, b }},
		{"io.Pipe (close)", func() (stream, stream) { a, b := ioPipes(); return a, b }},
	}
	for _, tr := range transports {
		t.Run(tr.name+"/receive waiting for the offer", func(t *testing.T) {
			a, b := tr.pair()
			defer a.Close()
			defer b.Close()
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				_, err := (&files.Inbox{Dir: t.TempDir()}).Receive(ctx, b, accept, nil)
				errc <- err
			}()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("receive: %v, want context.Canceled", err)
			}
		})
		t.Run(tr.name+"/send waiting for the answer", func(t *testing.T) {
			path := writeRandom(t, t.TempDir(), "a.bin", 1000, 70)
			offer := offerFile(t, path)
			a, b := tr.pair()
			defer a.Close()
			defer b.Close()
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				_, err := files.Send(ctx, a, path, offer, nil)
				errc <- err
			}()
			// Read the offer, so Send is past writing it, then cancel.
			if _, err := files.ReadMessageForTest(b); err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("send: %v, want context.Canceled", err)
			}
		})
	}
}

// The person is still deciding when the helper gives up: the prompt's
// context is cancelled and Receive returns.
func TestSenderGivesUpWhileDeciding(t *testing.T) {
	path := writeRandom(t, t.TempDir(), "a.bin", 1000, 80)
	offer := offerFile(t, path)
	in := &files.Inbox{Dir: t.TempDir()}
	a, b := net.Pipe()
	asking := make(chan struct{})
	var wg sync.WaitGroup
	var recvErr, decideErr error
	wg.Go(func() {
		defer b.Close()
		_, recvErr = in.Receive(t.Context(), b, func(ctx context.Context, _ files.Offer) error {
			close(asking)
			<-ctx.Done()
			decideErr = ctx.Err()
			return decideErr
		}, nil)
	})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := files.Send(ctx, a, path, offer, nil)
		a.Close()
		errc <- err
	}()
	<-asking
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("send: %v, want context.Canceled", err)
	}
	wg.Wait()
	if decideErr == nil {
		t.Error("decide's context was not cancelled when the sender left")
	}
	if !errors.Is(recvErr, io.ErrUnexpectedEOF) {
		t.Errorf("receive: %v, want the sender gone (unexpected EOF)", recvErr)
	}
	if names := dirNames(t, in.Dir); names != nil {
		t.Errorf("inbox holds %q", names)
	}
}
