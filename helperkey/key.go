package helperkey

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LineType is the first field of a public key line.
const LineType = "gethelp-helper-ed25519"

const (
	// MaxLineLen bounds a public key line, in bytes.
	MaxLineLen = 512
	// MaxNameLen bounds the name in a public key line, in runes.
	MaxNameLen = 100
)

// Errors. Parsing errors wrap ErrBadLine or ErrBadFingerprint and say what
// is wrong in one line.
var (
	ErrBadLine        = errors.New("helperkey: not a helper key line")
	ErrBadFingerprint = errors.New("helperkey: not a key fingerprint")
	ErrNotEd25519     = errors.New("helperkey: the key is not an Ed25519 key")
)

// PublicKey is a helper's public key and whose it is.
type PublicKey struct {
	Key  ed25519.PublicKey // always ed25519.PublicKeySize bytes
	Name string            // may be empty; see the package doc
}

// ParseLine reads one public key line. Errors wrap ErrBadLine.
func ParseLine(line string) (PublicKey, error) {
	if len(line) > MaxLineLen {
		return PublicKey{}, fmt.Errorf("%w: longer than %d bytes", ErrBadLine, MaxLineLen)
	}
	if !utf8.ValidString(line) {
		return PublicKey{}, fmt.Errorf("%w: not valid UTF-8", ErrBadLine)
	}
	f := strings.FieldsFunc(strings.TrimRight(line, "\r\n"), isBlank)
	switch {
	case len(f) == 0:
		return PublicKey{}, fmt.Errorf("%w: the line is empty", ErrBadLine)
	case f[0] != LineType:
		return PublicKey{}, fmt.Errorf("%w: it starts with %.40q, not %s", ErrBadLine, f[0], LineType)
	case len(f) == 1:
		return PublicKey{}, fmt.Errorf("%w: the key is missing after %s", ErrBadLine, LineType)
	}
	b64, name := f[1], strings.Join(f[2:], " ")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: the key is not base64", ErrBadLine)
	}
	if len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("%w: the key is %d bytes, an Ed25519 key is %d", ErrBadLine, len(raw), ed25519.PublicKeySize)
	}
	name, err = CheckName(name)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %v", ErrBadLine, err)
	}
	return PublicKey{Key: ed25519.PublicKey(raw), Name: name}, nil
}

// CheckName returns name with runs of spaces and tabs made single spaces,
// or an error when it has control or invisible formatting characters or
// more than MaxNameLen runes.
func CheckName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", errors.New("the name is not valid UTF-8")
	}
	name = strings.Join(strings.FieldsFunc(name, isBlank), " ")
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return "", fmt.Errorf("the name is %d characters long, at most %d are allowed", n, MaxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError {
			return "", fmt.Errorf("the name holds the character %U, which cannot be shown safely", r)
		}
	}
	return name, nil
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

// String returns the key's line: LineType, the key and the name.
func (k PublicKey) String() string {
	s := LineType + " " + base64.StdEncoding.EncodeToString(k.Key)
	if k.Name != "" {
		s += " " + k.Name
	}
	return s
}

// SPKI returns the key's DER SubjectPublicKeyInfo, as TLS carries it.
func (k PublicKey) SPKI() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil { // only for a key of the wrong length
		return nil
	}
	return der
}

// Fingerprint returns the key's fingerprint ("SHA256:…").
func (k PublicKey) Fingerprint() string { return Fingerprint(k.SPKI()) }

// Label is how the person is shown the key's owner: its name, or the
// start of its fingerprint when it has none.
func (k PublicKey) Label() string {
	if k.Name != "" {
		return k.Name
	}
	return "helper " + k.Fingerprint()[:7+12]
}

// Fingerprint returns the fingerprint of a DER SubjectPublicKeyInfo
// ("SHA256:" and 43 base64 characters).
func Fingerprint(spki []byte) string {
	sum := sha256.Sum256(spki)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ParseFingerprint reads a fingerprint as Fingerprint writes it, or as 64
// hexadecimal digits (colons, spaces and a "sha256:" prefix allowed), and
// returns it as Fingerprint writes it. Errors wrap ErrBadFingerprint.
func ParseFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if b64, ok := strings.CutPrefix(s, "SHA256:"); ok && len(b64) == 43 {
		if sum, err := base64.RawStdEncoding.DecodeString(b64); err == nil && len(sum) == sha256.Size {
			return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum), nil
		}
	}
	h := strings.TrimPrefix(strings.ToLower(s), "sha256:")
	h = strings.NewReplacer(":", "", " ", "").Replace(h)
	if sum, err := hex.DecodeString(h); err == nil && len(sum) == sha256.Size {
		return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum), nil
	}
	return "", fmt.Errorf("%w: %.80q is neither SHA256: and 43 base64 characters nor 64 hexadecimal digits", ErrBadFingerprint, s)
}

// FromSPKI returns the Ed25519 key in a DER SubjectPublicKeyInfo, or an
// error wrapping ErrNotEd25519.
func FromSPKI(spki []byte) (ed25519.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEd25519, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: it is a %T", ErrNotEd25519, k)
	}
	return pub, nil
}

// Allowlist is a set of helper keys: the administrator's "Offer Remote
// Assistance Helpers". Its zero value allows nobody.
type Allowlist struct {
	keys map[string]PublicKey // by string(Key)
}

// ParseAllowlist reads the key lines of a policy. It refuses a bad line
// and a key listed twice, naming the line (from 1). Errors wrap
// ErrBadLine.
func ParseAllowlist(lines []string) (Allowlist, error) {
	a := Allowlist{keys: make(map[string]PublicKey, len(lines))}
	for i, l := range lines {
		k, err := ParseLine(l)
		if err != nil {
			return Allowlist{}, fmt.Errorf("helper %d: %w", i+1, err)
		}
		if prev, dup := a.keys[string(k.Key)]; dup {
			return Allowlist{}, fmt.Errorf("helper %d: %w: the same key as %q is listed twice", i+1, ErrBadLine, prev.Label())
		}
		a.keys[string(k.Key)] = k
	}
	return a, nil
}

// Len returns how many keys the list holds.
func (a Allowlist) Len() int { return len(a.keys) }

// Lookup returns the listed key whose DER SubjectPublicKeyInfo is spki.
func (a Allowlist) Lookup(spki []byte) (PublicKey, bool) {
	pub, err := FromSPKI(spki)
	if err != nil {
		return PublicKey{}, false
	}
	k, ok := a.keys[string(pub)]
	return k, ok
}
