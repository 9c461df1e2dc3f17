package files

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Offer describes one file as the sender offers it.
type Offer struct {
	// ID is the stable transfer id: 32 lowercase hex digits, the first 16
	// bytes of a SHA-256 over the name, the size and the content hash (see
	// the package documentation for the exact bytes). The same file offered
	// again, for instance after a reconnect, has the same ID; that is how
	// the receiver finds its partial file and resumes.
	ID string
	// Name is the base name as the sender offers it. The receiver checks it
	// with SanitizeName and never uses it as a path.
	Name string
	// Size is the length of the content in bytes, never negative.
	Size int64
	// SHA256 is the lowercase hex SHA-256 of the whole content.
	SHA256 string
}

// Progress is told how many of total bytes are in place: on the sender
// bytes sent, on the receiver bytes on disk, both counting a resumed prefix.
// It is called from the goroutine running Send or Receive, at most about 10
// times a second plus once with done == total when the last byte has moved,
// so it must return quickly. A nil Progress is never called.
type Progress func(done, total int64)

// Result is what a finished transfer did.
type Result struct {
	Offer Offer
	// Path is where the file landed on the receiver, inside Inbox.Dir; the
	// sender's Result has "".
	Path string
	// ResumedFrom is the byte offset the transfer started at: the length of
	// the partial file the receiver already had, 0 for a fresh transfer.
	ResumedFrom int64
}

// OfferFile reads the regular file at path once, streaming it through
// SHA-256, and returns its Offer, named after the path's last element. It
// returns ctx's error if ctx ends first, and an error wrapping the
// os.Open or read error otherwise. It does not check the name: the receiver
// does (SanitizeName).
func OfferFile(ctx context.Context, path string) (Offer, error) {
	f, err := os.Open(path)
	if err != nil {
		return Offer{}, fmt.Errorf("files: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return Offer{}, fmt.Errorf("files: %w", err)
	} else if !st.Mode().IsRegular() {
		return Offer{}, fmt.Errorf("files: %s is not a regular file", path)
	}
	h := sha256.New()
	n, err := copyContext(ctx, h, f, -1)
	if err != nil {
		return Offer{}, fmt.Errorf("files: hashing %s: %w", path, err)
	}
	o := Offer{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	o.ID = offerID(o.Name, o.Size, o.SHA256)
	return o, nil
}

// idDomain separates Offer.ID hashes from every other SHA-256 use.
const idDomain = "gethelp/files v1 id\x00"

// offerID derives Offer.ID:
//
//	SHA-256("gethelp/files v1 id\x00" || uint32be(len(name)) || name ||
//	        uint64be(size) || the 32 raw bytes of the content SHA-256)
//
// truncated to its first 16 bytes, in lowercase hex. sha256Hex must be
// valid hex; if it is not, the result matches no honest offer.
func offerID(name string, size int64, sha256Hex string) string {
	sum, _ := hex.DecodeString(sha256Hex)
	h := sha256.New()
	h.Write([]byte(idDomain))
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(len(name)))
	h.Write(n[:4])
	h.Write([]byte(name))
	binary.BigEndian.PutUint64(n[:], uint64(size))
	h.Write(n[:])
	h.Write(sum)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// copyContext copies from src to dst in chunks until src ends (limit < 0)
// or limit bytes have moved, checking ctx between chunks. With a limit, a
// src that ends early gives io.ErrUnexpectedEOF.
func copyContext(ctx context.Context, dst io.Writer, src io.Reader, limit int64) (int64, error) {
	buf := make([]byte, chunkSize)
	var n int64
	for limit < 0 || n < limit {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		p := buf
		if limit >= 0 && limit-n < int64(len(p)) {
			p = p[:limit-n]
		}
		k, err := src.Read(p)
		if k > 0 {
			if _, werr := dst.Write(p[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err == io.EOF {
			if limit >= 0 && n < limit {
				return n, io.ErrUnexpectedEOF
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// meter calls a Progress at most every progressEvery.
type meter struct {
	fn    Progress
	total int64
	last  time.Time
}

const progressEvery = 100 * time.Millisecond

func (m *meter) update(done int64) {
	if m.fn == nil {
		return
	}
	if now := time.Now(); now.Sub(m.last) >= progressEvery {
		m.last = now
		m.fn(done, m.total)
	}
}

func (m *meter) finish() {
	if m.fn != nil {
		m.fn(m.total, m.total)
	}
}
