package agentlink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gethelp/gethelp/agentlink"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "agent-key.pem")
	first, err := agentlink.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if b, _ := pem.Decode(data); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("not a PKCS #8 PEM key:\n%s", data)
	}
	again, err := agentlink.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if agentlink.AgentKey(first) != agentlink.AgentKey(again) {
		t.Fatal("the key changed when loaded again")
	}
	if after, _ := os.ReadFile(path); string(after) != string(data) {
		t.Fatal("the key file was rewritten")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent-key.pem")
	keys := make([]string, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			c, err := agentlink.LoadOrCreateKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = agentlink.AgentKey(c)
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] {
			t.Fatalf("processes racing to create the key got different keys: %v", keys)
		}
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	cases := []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"not pem", []byte("hello"), 0o600, "PEM"},
		{"wrong block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), 0o600, "PEM"},
		{"not ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), 0o600, "not an Ed25519 key"},
		{"garbage key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600, "agentlink:"},
	}
	if runtime.GOOS != "windows" {
		_, good, _ := newKeyFile(t)
		cases = append(cases, struct {
			name string
			data []byte
			mode os.FileMode
			want string
		}{"readable by others", good, 0o644, "chmod 600"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent-key.pem")
			if err := os.WriteFile(path, tc.data, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := agentlink.LoadOrCreateKey(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
			if after, _ := os.ReadFile(path); string(after) != string(tc.data) {
				t.Fatal("a refused key file was overwritten")
			}
		})
	}
}

// newKeyFile creates a key file and returns its path, contents and key.
func newKeyFile(t *testing.T) (string, []byte, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.pem")
	c, err := agentlink.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data, agentlink.AgentKey(c)
}

func TestPinAndAgentKey(t *testing.T) {
	c := newCert(t)
	pin := agentlink.Pin(c)
	if pin == ([32]byte{}) {
		t.Fatal("zero pin")
	}
	key := agentlink.AgentKey(c)
	if key != hex.EncodeToString(pin[:]) || key != strings.ToLower(key) || len(key) != 64 {
		t.Fatalf("AgentKey %q is not the lowercase hex of the pin", key)
	}
	c.Leaf = nil
	if agentlink.Pin(c) != pin {
		t.Fatal("Pin differs without a parsed leaf")
	}
}

func TestParsePin(t *testing.T) {
	c := newCert(t)
	pin := agentlink.Pin(c)
	h := hex.EncodeToString(pin[:])
	var colons []string
	for i := 0; i < len(h); i += 2 {
		colons = append(colons, h[i:i+2])
	}
	good := []string{h, strings.ToUpper(h), "sha256:" + h, strings.Join(colons, ":"), "  " + h + "\n"}
	for _, s := range good {
		got, err := agentlink.ParsePin(s)
		if err != nil || got != pin {
			t.Errorf("ParsePin(%q) = %x, %v", s, got, err)
		}
	}
	bad := []string{"", "abc", h[:62], h + "00", strings.Repeat("0", 64), strings.Repeat("zz", 32)}
	for _, s := range bad {
		if _, err := agentlink.ParsePin(s); !errors.Is(err, agentlink.ErrBadPin) {
			t.Errorf("ParsePin(%q): got %v, want ErrBadPin", s, err)
		}
	}
}

func TestIdentityString(t *testing.T) {
	cases := []struct {
		name string
		id   agentlink.Identity
		want string
	}{
		{"full", agentlink.Identity{Network: "slack", Workspace: "Acme", UserID: "U1", DisplayName: "Bob Smith", Email: "bob@example.com"}, "Bob Smith <bob@example.com> (slack, workspace Acme)"},
		{"no name", agentlink.Identity{Network: "discord", UserID: "1234"}, "1234 (discord)"},
		{"escapes dropped", agentlink.Identity{Network: "slack", UserID: "U1", DisplayName: "Bob\x1b[2J\nSmith\u202e"}, "Bob[2JSmith (slack)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.id.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
