package agentlink

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// NewCertificate makes a fresh Ed25519 key and a self-signed certificate
// for it. The key lives only in memory; use LoadOrCreateKey for a key that
// must outlive the process (the bot's, the agent's).
func NewCertificate() (tls.Certificate, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: generating a key: %w", err)
	}
	return certificateFor(priv)
}

// certificateFor self-signs a certificate for key. Its dates do not matter:
// peers trust the key (its pin), never the certificate's validity.
func certificateFor(key ed25519.PrivateKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: generating a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "gethelp agent link"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(100 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: creating a certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: parsing a certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// keyPEMType is the PEM block LoadOrCreateKey writes: PKCS #8, as
// "openssl genpkey -algorithm ed25519" does.
const keyPEMType = "PRIVATE KEY"

// LoadOrCreateKey returns a certificate for the Ed25519 private key in the
// PEM file at path, creating the key (and the directory, mode 0700) when
// the file does not exist. The file is written with mode 0600 and never
// rewritten. On Unix a key file that others may read or write is refused:
// the key is the computer's identity. Two processes creating it at once
// end up with the same key.
func LoadOrCreateKey(path string) (tls.Certificate, error) {
	cert, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return cert, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: creating the key's directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: generating a key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: encoding the key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: keyPEMType, Bytes: der})
	// Write a temporary file and link it into place, so that nobody ever
	// reads half a key and a concurrent creator's key is never replaced.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".agent-key-*")
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: writing the key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return tls.Certificate{}, fmt.Errorf("agentlink: writing the key: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: writing the key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return tls.Certificate{}, fmt.Errorf("agentlink: saving the key as %s: %w", path, err)
	}
	return loadKey(path) // ours, or the one another process saved first
}

func loadKey(path string) (tls.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return tls.Certificate{}, err
		}
		return tls.Certificate{}, fmt.Errorf("agentlink: reading the key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: reading the key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return tls.Certificate{}, fmt.Errorf("agentlink: the key file %s may be read or changed by other users (mode %04o); make it private with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: reading the key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != keyPEMType {
		return tls.Certificate{}, fmt.Errorf("agentlink: %s holds no %q PEM block", path, keyPEMType)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agentlink: %s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return tls.Certificate{}, fmt.Errorf("agentlink: %s holds a %T, not an Ed25519 key", path, k)
	}
	return certificateFor(priv)
}

// Pin returns the SHA-256 of the certificate's SubjectPublicKeyInfo: what
// an agent pins of the bot (written in hex in its config) and, in hex, the
// agent's key as the bot knows it (AgentKey). It returns the zero value
// for a certificate that cannot be parsed.
func Pin(cert tls.Certificate) [32]byte {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return [32]byte{}
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return [32]byte{}
		}
	}
	return pinOf(leaf)
}

func pinOf(cert *x509.Certificate) [32]byte { return sha256.Sum256(cert.RawSubjectPublicKeyInfo) }

// AgentKey is how the bot names an agent's key: the lowercase hex of
// Pin(cert). Conn.AgentKey returns the same for the peer's certificate.
func AgentKey(cert tls.Certificate) string {
	p := Pin(cert)
	return hex.EncodeToString(p[:])
}

// ErrBadPin is returned by ParsePin.
var ErrBadPin = errors.New("agentlink: a pin is 64 hexadecimal digits (the SHA-256 of the bot's public key)")

// ParsePin reads a pin written in hex (upper or lower case; colons, spaces
// and a "sha256:" prefix allowed). Errors wrap ErrBadPin.
func ParsePin(s string) ([32]byte, error) {
	var pin [32]byte
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	s = strings.NewReplacer(":", "", " ", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(pin) {
		return pin, fmt.Errorf("%w, got %q", ErrBadPin, s)
	}
	copy(pin[:], b)
	if pin == ([32]byte{}) {
		return pin, fmt.Errorf("%w, got all zeros", ErrBadPin)
	}
	return pin, nil
}
