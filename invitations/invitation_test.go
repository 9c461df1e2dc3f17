package invitations_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/invitations"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// examplePin is sha256("gethelp example host key"), the pin in testdata.
var examplePin = [32]byte{
	0xbe, 0x01, 0xd0, 0x67, 0x37, 0x68, 0x0f, 0x14, 0xf3, 0x13, 0x0b, 0x24, 0xd5, 0xaa, 0x73, 0x23,
	0xba, 0x23, 0x83, 0x1d, 0xc4, 0xe3, 0x70, 0x60, 0x24, 0xa1, 0x4f, 0x5d, 0xda, 0x89, 0xb4, 0xa4,
}

// example returns the invitation in testdata/valid.gethelp.
func example() *invitations.Invitation {
	return &invitations.Invitation{
		ID:       "7Q2M9KX4TR",
		HostName: "Alice's laptop",
		Created:  time.Date(2026, 11, 24, 19, 30, 0, 0, time.UTC),
		Expires:  time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC),
		Pin:      examplePin,
		Addresses: []netip.AddrPort{
			netip.MustParseAddrPort("192.168.1.5:40123"),
			netip.MustParseAddrPort("[2001:db8::1]:40123"),
		},
		Rendezvous: "bot.example.com:3478",
	}
}

func readValid(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "valid.gethelp"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// equalInvitation reports how a and b differ, or "" when they are equal.
// Times must be equal instants and in UTC.
func equalInvitation(a, b *invitations.Invitation) string {
	var d []string
	if a.ID != b.ID {
		d = append(d, fmt.Sprintf("ID %q != %q", a.ID, b.ID))
	}
	if a.HostName != b.HostName {
		d = append(d, fmt.Sprintf("HostName %q != %q", a.HostName, b.HostName))
	}
	if !a.Created.Equal(b.Created) || a.Created.Location() != time.UTC || b.Created.Location() != time.UTC {
		d = append(d, fmt.Sprintf("Created %v != %v", a.Created, b.Created))
	}
	if !a.Expires.Equal(b.Expires) || a.Expires.Location() != time.UTC || b.Expires.Location() != time.UTC {
		d = append(d, fmt.Sprintf("Expires %v != %v", a.Expires, b.Expires))
	}
	if a.Pin != b.Pin {
		d = append(d, fmt.Sprintf("Pin %x != %x", a.Pin, b.Pin))
	}
	if len(a.Addresses) != len(b.Addresses) {
		d = append(d, fmt.Sprintf("Addresses %v != %v", a.Addresses, b.Addresses))
	} else {
		for i := range a.Addresses {
			if a.Addresses[i] != b.Addresses[i] {
				d = append(d, fmt.Sprintf("Addresses[%d] %v != %v", i, a.Addresses[i], b.Addresses[i]))
			}
		}
	}
	if a.Rendezvous != b.Rendezvous {
		d = append(d, fmt.Sprintf("Rendezvous %q != %q", a.Rendezvous, b.Rendezvous))
	}
	return strings.Join(d, "; ")
}

// withInv returns example() changed by fn.
func withInv(fn func(*invitations.Invitation)) *invitations.Invitation {
	inv := example()
	fn(inv)
	return inv
}

func TestParse(t *testing.T) {
	valid := readValid(t)
	// edit returns valid with old (which must occur) replaced by new.
	edit := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("test bug: %q not in valid.gethelp", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	addresses := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "address: 10.0.0.%d:40123\n", i+1)
		}
		return b.String()
	}
	manyAddrs := func(n int) []netip.AddrPort {
		var aps []netip.AddrPort
		for i := range n {
			aps = append(aps, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 40123))
		}
		return aps
	}
	const addrLines = "address: 192.168.1.5:40123\naddress: [2001:db8::1]:40123\n"

	tests := []struct {
		name    string
		in      string
		want    *invitations.Invitation // when the file is valid
		wantErr error                   // sentinel, when it is not
		wantMsg string                  // substring of the error message
	}{
		{name: "golden valid file", in: valid, want: example()},
		{
			name: "CRLF and BOM accepted",
			in:   "\ufeff" + strings.ReplaceAll(valid, "\n", "\r\n"),
			want: example(),
		},
		{
			name: "comment and blank lines accepted",
			in: "\n  # leading comment\n\n" +
				strings.ReplaceAll(valid, "\n", "\n\n\t# between lines: key: value\n   \n"),
			want: example(),
		},
		{
			name: "white space around keys and values",
			in:   edit("host-name: Alice's laptop", "  host-name\t:   Alice's laptop  \t"),
			want: example(),
		},
		{name: "no final newline", in: strings.TrimSuffix(valid, "\n"), want: example()},
		{
			name: "longest line, CRLF not counted",
			in:   edit("# It holds", "#"+strings.Repeat("x", 1023)+"\r\n# It holds"),
			want: example(),
		},
		{name: "keys in another order", in: edit("id: 7Q2M9KX4TR\nhost-name: Alice's laptop\n", "host-name: Alice's laptop\nid: 7Q2M9KX4TR\n"), want: example()},
		{
			name: "no rendezvous",
			in:   edit("rendezvous: bot.example.com:3478\n", ""),
			want: withInv(func(inv *invitations.Invitation) { inv.Rendezvous = "" }),
		},
		{
			name: "time with offset read into UTC",
			in:   edit("created: 2026-11-24T19:30:00Z", "created: 2026-11-24T20:30:00+01:00"),
			want: example(),
		},
		{
			name: "16 addresses",
			in:   edit(addrLines, addresses(16)),
			want: withInv(func(inv *invitations.Invitation) { inv.Addresses = manyAddrs(16) }),
		},
		{
			name: "64-rune host name",
			in:   edit("host-name: Alice's laptop", "host-name: "+strings.Repeat("é", 64)),
			want: withInv(func(inv *invitations.Invitation) { inv.HostName = strings.Repeat("é", 64) }),
		},
		{
			name: "IPv6 rendezvous",
			in:   edit("rendezvous: bot.example.com:3478", "rendezvous: [2001:db8::2]:3478"),
			want: withInv(func(inv *invitations.Invitation) { inv.Rendezvous = "[2001:db8::2]:3478" }),
		},
		{
			name: "IPv4 rendezvous",
			in:   edit("rendezvous: bot.example.com:3478", "rendezvous: 203.0.113.7:3478"),
			want: withInv(func(inv *invitations.Invitation) { inv.Rendezvous = "203.0.113.7:3478" }),
		},

		// Version line.
		{
			name:    "unknown version",
			in:      edit("gethelp-invitation: 1", "gethelp-invitation: 2"),
			wantErr: invitations.ErrUnknownVersion,
			wantMsg: "invitations: unsupported invitation version 2 (this gethelp reads version 1; update gethelp)",
		},
		{
			name:    "version not a number",
			in:      edit("gethelp-invitation: 1", "gethelp-invitation: one"),
			wantErr: invitations.ErrMalformed,
			wantMsg: `line 3: bad gethelp-invitation: version "one" is not a number`,
		},
		{
			name:    "version line not first",
			in:      edit("gethelp-invitation: 1\nid: 7Q2M9KX4TR\n", "id: 7Q2M9KX4TR\ngethelp-invitation: 1\n"),
			wantErr: invitations.ErrMalformed,
			wantMsg: `line 3: not a gethelp invitation: the first line must be "gethelp-invitation: 1", found key "id"`,
		},
		{
			name:    "duplicate version line",
			in:      edit("id: 7Q2M9KX4TR\n", "id: 7Q2M9KX4TR\ngethelp-invitation: 1\n"),
			wantErr: invitations.ErrMalformed,
			wantMsg: `line 5: duplicate key "gethelp-invitation" (first on line 3)`,
		},
		{name: "empty file", in: "", wantErr: invitations.ErrMalformed, wantMsg: "not a gethelp invitation"},
		{name: "only comments", in: "# nothing\n\n", wantErr: invitations.ErrMalformed, wantMsg: "not a gethelp invitation"},

		// Required keys.
		{name: "missing id", in: edit("id: 7Q2M9KX4TR\n", ""), wantErr: invitations.ErrMalformed, wantMsg: `invitations: missing required key "id"`},
		{name: "missing host-name", in: edit("host-name: Alice's laptop\n", ""), wantErr: invitations.ErrMalformed, wantMsg: `missing required key "host-name"`},
		{name: "missing created", in: edit("created: 2026-11-24T19:30:00Z\n", ""), wantErr: invitations.ErrMalformed, wantMsg: `missing required key "created"`},
		{name: "missing expires", in: edit("expires: 2026-11-25T01:30:00Z\n", ""), wantErr: invitations.ErrMalformed, wantMsg: `missing required key "expires"`},
		{name: "missing pin-sha256", in: edit("pin-sha256: vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=\n", ""), wantErr: invitations.ErrMalformed, wantMsg: `missing required key "pin-sha256"`},
		{name: "missing address", in: edit(addrLines, ""), wantErr: invitations.ErrMalformed, wantMsg: `missing required key "address"`},

		// Keys and lines.
		{name: "unknown key", in: edit("id: 7Q2M9KX4TR\n", "id: 7Q2M9KX4TR\ncolour: blue\n"), wantErr: invitations.ErrMalformed, wantMsg: `line 5: unknown key "colour"`},
		{name: "key in other case", in: edit("id: 7Q2M9KX4TR", "ID: 7Q2M9KX4TR"), wantErr: invitations.ErrMalformed, wantMsg: `line 4: unknown key "ID"`},
		{name: "duplicate id", in: edit("id: 7Q2M9KX4TR\n", "id: 7Q2M9KX4TR\nid: 7Q2M9KX4TS\n"), wantErr: invitations.ErrMalformed, wantMsg: `line 5: duplicate key "id" (first on line 4)`},
		{name: "duplicate rendezvous", in: valid + "rendezvous: other.example.com:3478\n", wantErr: invitations.ErrMalformed, wantMsg: `line 12: duplicate key "rendezvous" (first on line 11)`},
		{name: "line without colon", in: edit("id: 7Q2M9KX4TR", "id 7Q2M9KX4TR"), wantErr: invitations.ErrMalformed, wantMsg: `line 4: expected "key: value", found "id 7Q2M9KX4TR"`},
		{name: "line too long", in: edit("# It holds", "#"+strings.Repeat("x", 1024)+"\n# It holds"), wantErr: invitations.ErrMalformed, wantMsg: "line 2: line is 1025 bytes long; at most 1024 are allowed"},
		{name: "file too large", in: valid + strings.Repeat("#\n", 8*1024), wantErr: invitations.ErrMalformed, wantMsg: "an invitation is at most 16384"},
		{name: "invalid UTF-8", in: edit("Alice's", "Alice\xff"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: not valid UTF-8 text"},
		{name: "NUL byte", in: edit("Alice's", "Alice\x00"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: contains control character U+0000"},

		// id.
		{name: "id too short", in: edit("id: 7Q2M9KX4TR", "id: 7Q2M9KX4T"), wantErr: invitations.ErrMalformed, wantMsg: `line 4: bad id: "7Q2M9KX4T" is not 10 characters from`},
		{name: "id with O", in: edit("id: 7Q2M9KX4TR", "id: 7Q2M9KX4TO"), wantErr: invitations.ErrMalformed, wantMsg: "line 4: bad id"},
		{name: "id lower case", in: edit("id: 7Q2M9KX4TR", "id: 7q2m9kx4tr"), wantErr: invitations.ErrMalformed, wantMsg: "line 4: bad id"},

		// host-name.
		{name: "host-name with control char", in: edit("Alice's laptop", "Alice's\alaptop"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: contains control character U+0007"},
		{name: "host-name with CR", in: edit("Alice's laptop", "Alice's\rlaptop"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: contains control character U+000D"},
		{name: "host-name with bidi override", in: edit("Alice's laptop", "Alice's \u202Epotpal"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: contains control character U+202E"},
		{name: "host-name empty", in: edit("host-name: Alice's laptop", "host-name:"), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: empty"},
		{name: "host-name too long", in: edit("Alice's laptop", strings.Repeat("a", 65)), wantErr: invitations.ErrMalformed, wantMsg: "line 5: bad host-name: 65 characters long; at most 64"},

		// created and expires.
		{name: "expires before created", in: edit("expires: 2026-11-25T01:30:00Z", "expires: 2026-11-24T01:30:00Z"), wantErr: invitations.ErrMalformed, wantMsg: "line 7: bad expires: 2026-11-24T01:30:00Z is not after created 2026-11-24T19:30:00Z"},
		{name: "expires equal to created", in: edit("expires: 2026-11-25T01:30:00Z", "expires: 2026-11-24T19:30:00Z"), wantErr: invitations.ErrMalformed, wantMsg: "line 7: bad expires"},
		{name: "created not RFC 3339", in: edit("created: 2026-11-24T19:30:00Z", "created: 24 Nov 2026 19:30"), wantErr: invitations.ErrMalformed, wantMsg: `line 6: bad created: "24 Nov 2026 19:30" is not an RFC 3339 time`},
		{name: "created with fraction", in: edit("created: 2026-11-24T19:30:00Z", "created: 2026-11-24T19:30:00.5Z"), wantErr: invitations.ErrMalformed, wantMsg: "line 6: bad created: not a whole second"},
		{name: "expires year out of range", in: edit("created: 2026-11-24T19:30:00Z", "created: 1999-11-24T19:30:00Z"), wantErr: invitations.ErrMalformed, wantMsg: "line 6: bad created: year 1999 is outside 2000–9999"},

		// pin-sha256.
		{name: "bad pin length", in: edit("vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=", "AAAAAAAAAAAAAAAAAAAAAA=="), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256: not 32 bytes of base64 (16 bytes)"},
		{name: "bad base64", in: edit("vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=", "vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJt*Q="), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256: not 32 bytes of base64"},
		{name: "URL-safe base64", in: edit("vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=", "LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE="), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256"},
		{name: "pin without padding", in: edit("tKQ=", "tKQ"), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256"},
		{name: "pin with non-zero padding bits", in: edit("tKQ=", "tKR="), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256"},
		{name: "pin all zeros", in: edit("vgHQZzdoDxTzEwsk1apzI7ojgx3E43BgJKFPXdqJtKQ=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), wantErr: invitations.ErrMalformed, wantMsg: "line 8: bad pin-sha256: all zeros"},

		// address.
		{name: "address without port", in: edit("address: 192.168.1.5:40123", "address: 192.168.1.5"), wantErr: invitations.ErrMalformed, wantMsg: `line 9: bad address: "192.168.1.5" is not IP:port`},
		{name: "address with host name", in: edit("address: 192.168.1.5:40123", "address: alice.example.com:40123"), wantErr: invitations.ErrMalformed, wantMsg: "line 9: bad address"},
		{name: "IPv6 address without brackets", in: edit("address: [2001:db8::1]:40123", "address: 2001:db8::1:40123"), wantErr: invitations.ErrMalformed, wantMsg: "line 10: bad address"},
		{name: "zone in IPv6", in: edit("address: [2001:db8::1]:40123", "address: [fe80::1%eth0]:40123"), wantErr: invitations.ErrMalformed, wantMsg: `line 10: bad address: IPv6 zone "eth0" is not allowed`},
		{name: "port 0", in: edit("address: 192.168.1.5:40123", "address: 192.168.1.5:0"), wantErr: invitations.ErrMalformed, wantMsg: "line 9: bad address: port 0"},
		{name: "port too large", in: edit("address: 192.168.1.5:40123", "address: 192.168.1.5:65536"), wantErr: invitations.ErrMalformed, wantMsg: "line 9: bad address"},
		{name: "unspecified address", in: edit("address: 192.168.1.5:40123", "address: 0.0.0.0:40123"), wantErr: invitations.ErrMalformed, wantMsg: "line 9: bad address: 0.0.0.0 is the unspecified address"},
		{name: "duplicate address", in: edit("address: [2001:db8::1]:40123", "address: 192.168.1.5:40123"), wantErr: invitations.ErrMalformed, wantMsg: "line 10: duplicate address 192.168.1.5:40123 (first on line 9)"},
		{name: "too many addresses", in: edit(addrLines, addresses(17)), wantErr: invitations.ErrMalformed, wantMsg: "line 25: too many addresses: at most 16"},

		// rendezvous.
		{name: "rendezvous without port", in: edit("bot.example.com:3478", "bot.example.com"), wantErr: invitations.ErrMalformed, wantMsg: `line 11: bad rendezvous: "bot.example.com" has no port`},
		{name: "rendezvous port 0", in: edit("bot.example.com:3478", "bot.example.com:0"), wantErr: invitations.ErrMalformed, wantMsg: `line 11: bad rendezvous: port "0" is not 1–65535`},
		{name: "rendezvous bad name", in: edit("bot.example.com:3478", "bot_example.com:3478"), wantErr: invitations.ErrMalformed, wantMsg: `line 11: bad rendezvous: "bot_example.com" is not a DNS name or IP address`},
		{name: "rendezvous IPv6 without brackets", in: edit("bot.example.com:3478", "2001:db8::2:3478"), wantErr: invitations.ErrMalformed, wantMsg: "line 11: bad rendezvous"},
		{name: "rendezvous zone", in: edit("bot.example.com:3478", "[fe80::1%eth0]:3478"), wantErr: invitations.ErrMalformed, wantMsg: "line 11: bad rendezvous"},
		{name: "rendezvous mistyped IPv4", in: edit("bot.example.com:3478", "192.168.1.300:3478"), wantErr: invitations.ErrMalformed, wantMsg: "line 11: bad rendezvous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := invitations.Parse([]byte(tt.in))
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if d := equalInvitation(got, tt.want); d != "" {
					t.Fatalf("Parse: %s", d)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want error wrapping %v", tt.wantErr)
			}
			if got != nil {
				t.Errorf("Parse returned %+v with error", got)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Parse error %q does not wrap %v", err, tt.wantErr)
			}
			checkMessage(t, err)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

// checkMessage checks that err reads as a message of this package: one line
// with the package prefix.
func checkMessage(t testing.TB, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "invitations: ") {
		t.Errorf("error %q lacks the package prefix", msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q is not one line", msg)
	}
}

// Errors of other kinds must not wrap ErrMalformed and vice versa, so that
// callers can tell "update gethelp" from "the file is damaged".
func TestParseErrorKinds(t *testing.T) {
	valid := readValid(t)
	_, err := invitations.Parse([]byte(strings.Replace(valid, "gethelp-invitation: 1", "gethelp-invitation: 2", 1)))
	if errors.Is(err, invitations.ErrMalformed) {
		t.Errorf("unknown version error %q wraps ErrMalformed", err)
	}
	_, err = invitations.Parse([]byte(strings.Replace(valid, "id: ", "ID: ", 1)))
	if errors.Is(err, invitations.ErrUnknownVersion) {
		t.Errorf("malformed error %q wraps ErrUnknownVersion", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		inv  *invitations.Invitation
	}{
		{"example", example()},
		{"no rendezvous", withInv(func(inv *invitations.Invitation) { inv.Rendezvous = "" })},
		{"one address", withInv(func(inv *invitations.Invitation) { inv.Addresses = inv.Addresses[1:] })},
		{"16 addresses", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = nil
			for i := range 16 {
				inv.Addresses = append(inv.Addresses, netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i + 1)}), uint16(1+i)))
			}
		})},
		{"unicode host name", withInv(func(inv *invitations.Invitation) { inv.HostName = "Ärztin's PC — 🖥️ #2: büro" })},
		{"IPv4-mapped address", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = []netip.AddrPort{netip.MustParseAddrPort("[::ffff:192.0.2.1]:1")}
		})},
		{"times in another zone", withInv(func(inv *invitations.Invitation) {
			loc := time.FixedZone("UTC+5", 5*3600)
			inv.Created = inv.Created.In(loc)
			inv.Expires = inv.Expires.In(loc)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.inv.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got, err := invitations.Parse(data)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, data)
			}
			want := *tt.inv
			want.Created, want.Expires = want.Created.UTC(), want.Expires.UTC()
			if d := equalInvitation(got, &want); d != "" {
				t.Fatalf("Parse(Marshal(x)) != x: %s", d)
			}
			again, err := got.Marshal()
			if err != nil {
				t.Fatalf("Marshal again: %v", err)
			}
			if !bytes.Equal(data, again) {
				t.Errorf("Marshal not stable:\n%s\n---\n%s", data, again)
			}
		})
	}
}

func TestMarshalGolden(t *testing.T) {
	got, err := example().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "marshal.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal differs from %s (run go test -update if the change is intended):\n%s\n--- want:\n%s", golden, got, want)
	}
	// The hand-written example and the documented one are what Marshal writes.
	if valid := readValid(t); string(got) != valid {
		t.Errorf("Marshal differs from testdata/valid.gethelp:\n%s\n--- valid.gethelp:\n%s", got, valid)
	}
}

func TestMarshalValidates(t *testing.T) {
	tests := []struct {
		name    string
		inv     *invitations.Invitation
		wantMsg string
	}{
		{"zero invitation", &invitations.Invitation{}, "bad id"},
		{"bad id", withInv(func(inv *invitations.Invitation) { inv.ID = "../etc" }), `bad id: "../etc"`},
		{"newline in host name", withInv(func(inv *invitations.Invitation) { inv.HostName = "Alice\nid: X" }), "bad host-name: contains control character U+000A"},
		{"host name with outer space", withInv(func(inv *invitations.Invitation) { inv.HostName = " Alice" }), "bad host-name: starts or ends with white space"},
		{"zero created", withInv(func(inv *invitations.Invitation) { inv.Created = time.Time{} }), "bad created: not set"},
		{"fractional expires", withInv(func(inv *invitations.Invitation) { inv.Expires = inv.Expires.Add(time.Millisecond) }), "bad expires: not a whole second"},
		{"expires before created", withInv(func(inv *invitations.Invitation) { inv.Expires = inv.Created.Add(-time.Hour) }), "bad expires"},
		{"zero pin", withInv(func(inv *invitations.Invitation) { inv.Pin = [32]byte{} }), "bad pin-sha256: all zeros"},
		{"no address", withInv(func(inv *invitations.Invitation) { inv.Addresses = nil }), `missing required key "address"`},
		{"invalid address", withInv(func(inv *invitations.Invitation) { inv.Addresses = []netip.AddrPort{{}} }), "bad address: no IP address"},
		{"zone", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = []netip.AddrPort{netip.MustParseAddrPort("[fe80::1%eth0]:1")}
		}), "bad address: IPv6 zone"},
		{"port 0", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:0")}
		}), "bad address: port 0"},
		{"duplicate address", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = append(inv.Addresses, inv.Addresses[0])
		}), "duplicate address 192.168.1.5:40123"},
		{"17 addresses", withInv(func(inv *invitations.Invitation) {
			inv.Addresses = nil
			for i := range 17 {
				inv.Addresses = append(inv.Addresses, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 1))
			}
		}), "too many addresses (17)"},
		{"bad rendezvous", withInv(func(inv *invitations.Invitation) { inv.Rendezvous = "bot.example.com:3478\nid: X" }), "bad rendezvous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.inv.Marshal()
			if err == nil {
				t.Fatalf("Marshal succeeded:\n%s", data)
			}
			if !errors.Is(err, invitations.ErrMalformed) {
				t.Errorf("error %q does not wrap ErrMalformed", err)
			}
			checkMessage(t, err)
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestCheckExpiry(t *testing.T) {
	inv := example()
	tests := []struct {
		name    string
		now     time.Time
		wantErr bool
	}{
		{"before created", inv.Created.Add(-time.Hour), false},
		{"just before expiry", inv.Expires.Add(-time.Second), false},
		{"at expiry", inv.Expires, true},
		{"after expiry", inv.Expires.Add(24 * time.Hour), true},
		{"after expiry in another zone", inv.Expires.In(time.FixedZone("X", -8*3600)).Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := inv.CheckExpiry(tt.now)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckExpiry: %v", err)
				}
				return
			}
			if !errors.Is(err, invitations.ErrExpired) {
				t.Fatalf("CheckExpiry = %v, want error wrapping ErrExpired", err)
			}
			const want = "invitations: invitation 7Q2M9KX4TR expired at 2026-11-25 01:30 UTC"
			if err.Error() != want {
				t.Errorf("CheckExpiry = %q, want %q", err, want)
			}
		})
	}
}

func TestPinOf(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gethelp host"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := invitations.PinOf(cert), sha256.Sum256(spki); got != want {
		t.Errorf("PinOf = %x, want SHA-256 of the SPKI %x", got, want)
	}
}
