package helperkey_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/helperkey"
)

// A fixed key: the golden vector for the line and the fingerprint.
var (
	testKey  = ed25519.NewKeyFromSeed(make([]byte, 32))
	testPub  = testKey.Public().(ed25519.PublicKey)
	testB64  = base64.StdEncoding.EncodeToString(testPub)
	testLine = "gethelp-helper-ed25519 " + testB64 + " Bob Smith (help desk)"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		wantName   string
		wantErr    string // "" for success
	}{
		{"with name", testLine, "Bob Smith (help desk)", ""},
		{"no name", "gethelp-helper-ed25519 " + testB64, "", ""},
		{"unpadded base64", "gethelp-helper-ed25519 " + strings.TrimRight(testB64, "=") + " bob", "bob", ""},
		{"tabs and spaces", "\t gethelp-helper-ed25519\t" + testB64 + "   bob   at  desk \r\n", "bob at desk", ""},
		{"unicode name", "gethelp-helper-ed25519 " + testB64 + " Jürgen Ø", "Jürgen Ø", ""},
		{"empty", "", "", "empty"},
		{"blank", "  \t ", "", "empty"},
		{"ssh key", "ssh-ed25519 " + testB64 + " bob", "", "not gethelp-helper-ed25519"},
		{"type only", "gethelp-helper-ed25519", "", "missing"},
		{"not base64", "gethelp-helper-ed25519 !!!! bob", "", "not base64"},
		{"short key", "gethelp-helper-ed25519 " + base64.StdEncoding.EncodeToString(testPub[:31]), "", "31 bytes"},
		{"control in name", "gethelp-helper-ed25519 " + testB64 + " bob\x1b[31m", "", "U+001B"},
		{"bidi override in name", "gethelp-helper-ed25519 " + testB64 + " bob\u202egnp.exe", "", "U+202E"},
		{"newline in name", "gethelp-helper-ed25519 " + testB64 + " bob\nalice", "", "U+000A"},
		{"line separator in name", "gethelp-helper-ed25519 " + testB64 + " bob\u2028alice", "", "U+2028"},
		{"long name", "gethelp-helper-ed25519 " + testB64 + " " + strings.Repeat("é", 101), "", "101 characters"},
		{"long line", "gethelp-helper-ed25519 " + testB64 + " " + strings.Repeat("a", 600), "", "longer than"},
		{"invalid utf-8", "gethelp-helper-ed25519 " + testB64 + " \xff", "", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := helperkey.ParseLine(tc.line)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, helperkey.ErrBadLine) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseLine(%q) = %v, want an ErrBadLine saying %q", tc.line, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tc.line, err)
			}
			if !k.Key.Equal(testPub) || k.Name != tc.wantName {
				t.Errorf("got key %x name %q, want %x %q", k.Key, k.Name, testPub, tc.wantName)
			}
			again, err := helperkey.ParseLine(k.String())
			if err != nil || !again.Key.Equal(k.Key) || again.Name != k.Name {
				t.Errorf("String() %q does not parse back: %+v, %v", k.String(), again, err)
			}
		})
	}
}

func TestLineAndFingerprintGolden(t *testing.T) {
	k := helperkey.PublicKey{Key: testPub, Name: "Bob Smith (help desk)"}
	const wantLine = "gethelp-helper-ed25519 O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik= Bob Smith (help desk)"
	if k.String() != wantLine {
		t.Errorf("String() = %q, want %q", k.String(), wantLine)
	}
	sum := sha256.Sum256(k.SPKI())
	want := "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
	if k.Fingerprint() != want || len(want) != 7+43 {
		t.Errorf("Fingerprint() = %q, want %q", k.Fingerprint(), want)
	}
	pub, err := helperkey.FromSPKI(k.SPKI())
	if err != nil || !pub.Equal(testPub) {
		t.Errorf("FromSPKI(SPKI()) = %x, %v", pub, err)
	}
	if got := (helperkey.PublicKey{Key: testPub}).Label(); !strings.HasPrefix(got, "helper SHA256:") || !strings.HasPrefix(want, strings.TrimPrefix(got, "helper ")) {
		t.Errorf("Label without a name = %q", got)
	}
	if k.Label() != k.Name {
		t.Errorf("Label() = %q, want the name", k.Label())
	}
}

func TestParseFingerprint(t *testing.T) {
	k := helperkey.PublicKey{Key: testPub}
	fp := k.Fingerprint()
	sum := sha256.Sum256(k.SPKI())
	hx := hex.EncodeToString(sum[:])
	for _, in := range []string{fp, " " + fp + "\n", hx, strings.ToUpper(hx), "sha256:" + hx} {
		got, err := helperkey.ParseFingerprint(in)
		if err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %q, %v; want %q", in, got, err, fp)
		}
	}
	for _, in := range []string{"", "SHA256:", fp[:len(fp)-1], hx[:62], "md5:" + hx, fp + "x"} {
		if _, err := helperkey.ParseFingerprint(in); !errors.Is(err, helperkey.ErrBadFingerprint) {
			t.Errorf("ParseFingerprint(%q) = %v, want ErrBadFingerprint", in, err)
		}
	}
}

func TestAllowlist(t *testing.T) {
	other, err := helperkey.Generate("carol")
	if err != nil {
		t.Fatal(err)
	}
	a, err := helperkey.ParseAllowlist([]string{testLine, other.Public().String()})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 2 {
		t.Errorf("Len() = %d", a.Len())
	}
	k, ok := a.Lookup(helperkey.PublicKey{Key: testPub}.SPKI())
	if !ok || k.Name != "Bob Smith (help desk)" {
		t.Errorf("Lookup(bob) = %+v, %v", k, ok)
	}
	stranger, _ := helperkey.Generate("mallory")
	if _, ok := a.Lookup(stranger.Public().SPKI()); ok {
		t.Error("a key not on the list was found")
	}
	if _, ok := a.Lookup([]byte("garbage")); ok {
		t.Error("garbage was found")
	}
	if _, ok := (helperkey.Allowlist{}).Lookup(helperkey.PublicKey{Key: testPub}.SPKI()); ok {
		t.Error("the zero Allowlist allowed a key")
	}

	for _, tc := range []struct {
		name    string
		lines   []string
		wantErr string
	}{
		{"duplicate", []string{testLine, other.Public().String(), "gethelp-helper-ed25519 " + testB64 + " again"}, "helper 3"},
		{"bad line", []string{testLine, "ssh-rsa AAAA"}, "helper 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helperkey.ParseAllowlist(tc.lines)
			if !errors.Is(err, helperkey.ErrBadLine) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseAllowlist = %v, want ErrBadLine naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gethelp", "helper.key")
	k, err := helperkey.Generate("bob@example")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Save(path, false); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
	got, err := helperkey.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Key.Equal(k.Key) || got.Name != "bob@example" {
		t.Errorf("Load = %q %x, want the saved key", got.Name, got.Key.Public())
	}

	// Not replaced without force.
	k2, _ := helperkey.Generate("bob again")
	if err := k2.Save(path, false); !errors.Is(err, helperkey.ErrExists) {
		t.Errorf("Save over an existing key = %v, want ErrExists", err)
	}
	if got, _ := helperkey.Load(path); !got.Key.Equal(k.Key) {
		t.Error("the key was replaced without force")
	}
	if err := k2.Save(path, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := helperkey.Load(path); !got.Key.Equal(k2.Key) || got.Name != "bob again" {
		t.Error("force did not replace the key")
	}

	cert, err := k2.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if fp := helperkey.Fingerprint(cert.Leaf.RawSubjectPublicKeyInfo); fp != k2.Public().Fingerprint() {
		t.Errorf("certificate's key %s, want %s", fp, k2.Public().Fingerprint())
	}

	if _, err := helperkey.Load(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := helperkey.Generate("bad\x00name"); err == nil {
		t.Error("Generate accepted a name with a NUL")
	}
}

func TestKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	k, _ := helperkey.Generate("")
	good := filepath.Join(dir, "helper.key")
	if err := k.Save(good, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	for _, tc := range []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string
	}{
		{"readable by others", data, 0o644, "chmod 600"},
		{"not PEM", []byte("hello"), 0o600, "PEM"},
		{"wrong block", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600, "PEM"},
		{"bad name header", []byte(strings.Replace(string(data), "-----\n", "-----\nName: a\x07b\n\n", 1)), 0o600, "U+0007"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tc.mode != 0o600 {
				t.Skip("no Unix modes")
			}
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(p, tc.content, tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, tc.mode)
			_, err := helperkey.Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load = %v, want a one-line error saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestKnownHosts(t *testing.T) {
	kh := helperkey.KnownHosts{Path: filepath.Join(t.TempDir(), "gethelp", "known_hosts")}
	a := helperkey.PublicKey{Key: testPub}.Fingerprint()
	other, _ := helperkey.Generate("")
	b := other.Public().Fingerprint()

	if known, err := kh.Check("alice.example:3479", a); known || err != nil {
		t.Fatalf("Check on an empty file = %v, %v", known, err)
	}
	if err := kh.Remember("alice.example:3479", a); err != nil {
		t.Fatal(err)
	}
	if err := kh.Remember("[::1]:3479", b); err != nil {
		t.Fatal(err)
	}
	if known, err := kh.Check("alice.example:3479", a); !known || err != nil {
		t.Errorf("Check(same key) = %v, %v", known, err)
	}
	known, err := kh.Check("alice.example:3479", b)
	if !known || !errors.Is(err, helperkey.ErrHostKeyChanged) || !strings.Contains(err.Error(), "--pin "+b) {
		t.Errorf("Check(changed key) = %v, %v; want ErrHostKeyChanged suggesting --pin", known, err)
	}
	// Pinning the new key replaces the old one and keeps the others.
	if err := kh.Remember("alice.example:3479", b); err != nil {
		t.Fatal(err)
	}
	if fp, _ := kh.Lookup("alice.example:3479"); fp != b {
		t.Errorf("after Remember: %q, want %q", fp, b)
	}
	if fp, _ := kh.Lookup("[::1]:3479"); fp != b {
		t.Errorf("the other host was lost: %q", fp)
	}
	data, _ := os.ReadFile(kh.Path)
	if n := strings.Count(string(data), "alice.example:3479"); n != 1 {
		t.Errorf("alice is listed %d times:\n%s", n, data)
	}

	if err := kh.Remember("bad host", a); err == nil {
		t.Error("Remember accepted a host with a space")
	}
	if err := os.WriteFile(kh.Path, []byte("alice.example:3479\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kh.Lookup("alice.example:3479"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Lookup in a broken file = %v, want an error naming line 1", err)
	}
}
