package invitations

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Version is the version of the invitation file format that this package
// reads and writes (the gethelp-invitation line).
const Version = 1

// FileExtension is the extension of invitation files.
const FileExtension = ".gethelp"

// Limits of the file format.
const (
	maxFileSize      = 16 << 10 // bytes, whole file
	maxLineLen       = 1024     // bytes, one line without its line ending
	maxAddresses     = 16
	maxHostNameRunes = 64
	minYear          = 2000 // created and expires lie in [minYear, maxYear], UTC
	maxYear          = 9999
)

// File keys, in the order Marshal writes them.
const (
	keyVersion    = "gethelp-invitation"
	keyID         = "id"
	keyHostName   = "host-name"
	keyCreated    = "created"
	keyExpires    = "expires"
	keyPin        = "pin-sha256"
	keyAddress    = "address"
	keyRendezvous = "rendezvous"
)

// pinEncoding is the only accepted spelling of a pin: standard base64 with
// padding, and zero padding bits so that every pin has exactly one spelling.
var pinEncoding = base64.StdEncoding.Strict()

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Invitation is what a host publishes so that a helper can reach it: where
// it listens and which key it will present. It holds no secret.
//
// An Invitation returned by Parse satisfies every rule of the file format
// (see the package documentation); Marshal checks the same rules.
type Invitation struct {
	ID         string           // 10 characters from Alphabet
	HostName   string           // shown to the helper: 1–64 runes, no control characters
	Created    time.Time        // UTC, whole seconds
	Expires    time.Time        // UTC, whole seconds, after Created
	Pin        [32]byte         // SHA-256 of the host certificate's SubjectPublicKeyInfo; see PinOf
	Addresses  []netip.AddrPort // 1–16 distinct candidate addresses of the host
	Rendezvous string           // optional host:port of the rendezvous service; "" when unset
}

// PinOf returns the pin of cert: the SHA-256 of its DER-encoded
// SubjectPublicKeyInfo. Pinning the key rather than the certificate lets the
// host reissue its certificate without invalidating invitations.
func PinOf(cert *x509.Certificate) [32]byte {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

// CheckExpiry returns nil while the invitation is valid at now, and an error
// wrapping ErrExpired from the moment now reaches inv.Expires. It does not
// look at Created: the host's clock and the helper's may disagree by a few
// minutes, and an invitation "from the future" is harmless.
func (inv *Invitation) CheckExpiry(now time.Time) error {
	if now.Before(inv.Expires) {
		return nil
	}
	return &invError{
		msg:  fmt.Sprintf("invitation %s expired at %s", inv.ID, inv.Expires.UTC().Format("2006-01-02 15:04 UTC")),
		kind: ErrExpired,
	}
}

// Parse reads an invitation file. It checks the format only: it does not
// look at the clock (see CheckExpiry). Parse never panics.
//
// Errors: one wrapping ErrUnknownVersion when the file is of another
// version; otherwise one wrapping ErrMalformed, whose one-line message names
// the line and the key at fault where there is one.
func Parse(data []byte) (*Invitation, error) {
	if len(data) > maxFileSize {
		return nil, malformed(0, "file is %d bytes; an invitation is at most %d", len(data), maxFileSize)
	}
	data = bytes.TrimPrefix(data, utf8BOM)

	var (
		inv         Invitation
		sawVersion  bool
		lineOf      = make(map[string]int) // key → line where it was (first) seen
		haveAddress = make(map[netip.AddrPort]int)
	)
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if len(line) > maxLineLen {
			return nil, malformed(n, "line is %d bytes long; at most %d are allowed", len(line), maxLineLen)
		}
		if !utf8.ValidString(line) {
			return nil, malformed(n, "not valid UTF-8 text")
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, malformed(n, "expected \"key: value\", found %s", quote(line))
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)

		if !sawVersion {
			if key != keyVersion {
				return nil, malformed(n, "not a gethelp invitation: the first line must be \"%s: %d\", found key %s", keyVersion, Version, quote(key))
			}
			if err := checkVersion(n, value); err != nil {
				return nil, err
			}
			sawVersion = true
			lineOf[key] = n
			continue
		}

		if key != keyAddress {
			if first, dup := lineOf[key]; dup {
				return nil, malformed(n, "duplicate key %s (first on line %d)", quote(key), first)
			}
		}
		var err error
		switch key {
		case keyVersion:
			// Not reached: the version line was seen, so this is a duplicate.
		case keyID:
			inv.ID = value
			err = checkID(value)
		case keyHostName:
			inv.HostName = value
			err = checkHostName(value)
		case keyCreated:
			inv.Created, err = parseTime(value)
		case keyExpires:
			inv.Expires, err = parseTime(value)
		case keyPin:
			inv.Pin, err = parsePin(value)
		case keyAddress:
			if len(inv.Addresses) == maxAddresses {
				return nil, malformed(n, "too many addresses: at most %d are allowed", maxAddresses)
			}
			var ap netip.AddrPort
			ap, err = parseAddress(value)
			if err == nil {
				if first, dup := haveAddress[ap]; dup {
					return nil, malformed(n, "duplicate address %s (first on line %d)", ap, first)
				}
				haveAddress[ap] = n
				inv.Addresses = append(inv.Addresses, ap)
			}
		case keyRendezvous:
			inv.Rendezvous = value
			err = checkRendezvous(value)
		default:
			return nil, malformed(n, "unknown key %s", quote(key))
		}
		if err != nil {
			return nil, malformed(n, "bad %s: %v", key, err)
		}
		if _, seen := lineOf[key]; !seen {
			lineOf[key] = n
		}
	}

	if !sawVersion {
		return nil, malformed(0, "not a gethelp invitation: no \"%s: %d\" line", keyVersion, Version)
	}
	for _, key := range []string{keyID, keyHostName, keyCreated, keyExpires, keyPin, keyAddress} {
		if _, ok := lineOf[key]; !ok {
			return nil, malformed(0, "missing required key %s", quote(key))
		}
	}
	if err := checkTimes(inv.Created, inv.Expires); err != nil {
		return nil, malformed(lineOf[keyExpires], "bad %s: %v", keyExpires, err)
	}
	return &inv, nil
}

// checkVersion checks the value of the gethelp-invitation line.
func checkVersion(line int, value string) error {
	if value == "" || strings.TrimLeft(value, "0123456789") != "" {
		return malformed(line, "bad %s: version %s is not a number", keyVersion, quote(value))
	}
	if v := strings.TrimLeft(value, "0"); v != strconv.Itoa(Version) {
		if v == "" {
			v = "0"
		}
		return &invError{
			msg:  fmt.Sprintf("unsupported invitation version %s (this gethelp reads version %d; update gethelp)", v, Version),
			kind: ErrUnknownVersion,
		}
	}
	return nil
}

// Marshal returns inv in the invitation file format. It first checks inv
// against the rules that Parse applies, and returns an error wrapping
// ErrMalformed when inv breaks one; then Parse(Marshal(inv)) equals inv
// (times compared with time.Time.Equal and returned in UTC).
func (inv *Invitation) Marshal() ([]byte, error) {
	if err := inv.validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# gethelp invitation: open it with `gethelp viewer open FILE`.\n")
	b.WriteString("# It holds no secret; the password reaches you separately.\n")
	fmt.Fprintf(&b, "%s: %d\n", keyVersion, Version)
	fmt.Fprintf(&b, "%s: %s\n", keyID, inv.ID)
	fmt.Fprintf(&b, "%s: %s\n", keyHostName, inv.HostName)
	fmt.Fprintf(&b, "%s: %s\n", keyCreated, formatTime(inv.Created))
	fmt.Fprintf(&b, "%s: %s\n", keyExpires, formatTime(inv.Expires))
	fmt.Fprintf(&b, "%s: %s\n", keyPin, pinEncoding.EncodeToString(inv.Pin[:]))
	for _, ap := range inv.Addresses {
		fmt.Fprintf(&b, "%s: %s\n", keyAddress, ap)
	}
	if inv.Rendezvous != "" {
		fmt.Fprintf(&b, "%s: %s\n", keyRendezvous, inv.Rendezvous)
	}
	return b.Bytes(), nil
}

// validate checks inv against the rules of the file format.
func (inv *Invitation) validate() error {
	bad := func(key string, err error) error { return malformed(0, "bad %s: %v", key, err) }
	if err := checkID(inv.ID); err != nil {
		return bad(keyID, err)
	}
	if err := checkHostName(inv.HostName); err != nil {
		return bad(keyHostName, err)
	}
	if err := checkTime(inv.Created); err != nil {
		return bad(keyCreated, err)
	}
	if err := checkTime(inv.Expires); err != nil {
		return bad(keyExpires, err)
	}
	if err := checkTimes(inv.Created, inv.Expires); err != nil {
		return bad(keyExpires, err)
	}
	if err := checkPin(inv.Pin); err != nil {
		return bad(keyPin, err)
	}
	switch {
	case len(inv.Addresses) == 0:
		return malformed(0, "missing required key %s", quote(keyAddress))
	case len(inv.Addresses) > maxAddresses:
		return malformed(0, "too many addresses (%d): at most %d are allowed", len(inv.Addresses), maxAddresses)
	}
	seen := make(map[netip.AddrPort]bool, len(inv.Addresses))
	for _, ap := range inv.Addresses {
		if err := checkAddress(ap); err != nil {
			return bad(keyAddress, err)
		}
		if seen[ap] {
			return malformed(0, "duplicate address %s", ap)
		}
		seen[ap] = true
	}
	if inv.Rendezvous != "" {
		if err := checkRendezvous(inv.Rendezvous); err != nil {
			return bad(keyRendezvous, err)
		}
	}
	return nil
}

// The check and parse functions below return errors that describe the
// problem with a value, without the key; the caller adds key and line.

func checkID(id string) error {
	if !validID(id) {
		return fmt.Errorf("%s is not %d characters from %s", quote(id), idLen, Alphabet)
	}
	return nil
}

func checkHostName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return errors.New("empty")
	case n > maxHostNameRunes:
		return fmt.Errorf("%d characters long; at most %d are allowed", n, maxHostNameRunes)
	case !utf8.ValidString(name):
		return errors.New("not valid UTF-8 text")
	case strings.TrimSpace(name) != name:
		return errors.New("starts or ends with white space")
	}
	for _, r := range name {
		if isHostNameControl(r) {
			return fmt.Errorf("contains control character %U", r)
		}
	}
	return nil
}

// isHostNameControl reports whether r may not appear in a host name: control
// characters, line and paragraph separators, and the bidirectional overrides
// and isolates that could make a name display as something else.
func isHostNameControl(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time like 2026-11-24T19:30:00Z", quote(s))
	}
	t = t.UTC()
	return t, checkTime(t)
}

func checkTime(t time.Time) error {
	if t.IsZero() {
		return errors.New("not set")
	}
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return fmt.Errorf("year %d is outside %d–%d", y, minYear, maxYear)
	}
	if t.Nanosecond() != 0 {
		return errors.New("not a whole second")
	}
	return nil
}

func checkTimes(created, expires time.Time) error {
	if !expires.After(created) {
		return fmt.Errorf("%s is not after created %s", formatTime(expires), formatTime(created))
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parsePin(s string) ([32]byte, error) {
	var pin [32]byte
	b, err := pinEncoding.DecodeString(s)
	if err != nil {
		return pin, errors.New("not 32 bytes of base64 (not valid standard base64 with padding)")
	}
	if len(b) != len(pin) {
		return pin, fmt.Errorf("not 32 bytes of base64 (%d bytes)", len(b))
	}
	copy(pin[:], b)
	return pin, checkPin(pin)
}

func checkPin(pin [32]byte) error {
	if pin == [32]byte{} {
		return errors.New("all zeros (not set)")
	}
	return nil
}

func parseAddress(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%s is not IP:port (IPv6 in brackets, like [2001:db8::1]:40123)", quote(s))
	}
	return ap, checkAddress(ap)
}

func checkAddress(ap netip.AddrPort) error {
	if err := checkIP(ap.Addr()); err != nil {
		return err
	}
	if ap.Port() == 0 {
		return errors.New("port 0; the port must be 1–65535")
	}
	return nil
}

func checkIP(ip netip.Addr) error {
	switch {
	case !ip.IsValid():
		return errors.New("no IP address")
	case ip.Zone() != "":
		return fmt.Errorf("IPv6 zone %s is not allowed", quote(ip.Zone()))
	case ip.IsUnspecified():
		return fmt.Errorf("%s is the unspecified address", ip)
	case ip.IsMulticast():
		return fmt.Errorf("%s is a multicast address", ip)
	}
	return nil
}

// checkRendezvous checks a host:port where host is a DNS name, an IPv4
// literal or a bracketed IPv6 literal.
func checkRendezvous(s string) error {
	var host, port string
	if rest, ok := strings.CutPrefix(s, "["); ok {
		h, p, ok := strings.Cut(rest, "]")
		if !ok || !strings.HasPrefix(p, ":") {
			return fmt.Errorf("%s is not host:port", quote(s))
		}
		ip, err := netip.ParseAddr(h)
		if err != nil || !ip.Is6() {
			return fmt.Errorf("%s is not an IPv6 address", quote(h))
		}
		if err := checkIP(ip); err != nil {
			return err
		}
		port = p[1:]
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return fmt.Errorf("%s has no port", quote(s))
		}
		host, port = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return fmt.Errorf("%s: an IPv6 address must be in brackets", quote(s))
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			if err := checkIP(ip); err != nil {
				return err
			}
		} else if !validDNSName(host) {
			return fmt.Errorf("%s is not a DNS name or IP address", quote(host))
		}
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("port %s is not 1–65535", quote(port))
	}
	return nil
}

// validDNSName reports whether name is a host name in the sense of RFC 1123:
// dot-separated labels of 1–63 letters, digits and hyphens, not starting or
// ending with a hyphen, at most 253 bytes, the last label not all digits (so
// that a mistyped IPv4 address is not taken for a name). A trailing dot is
// not accepted.
func validDNSName(name string) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.TrimLeft(labels[len(labels)-1], "0123456789") != ""
}
