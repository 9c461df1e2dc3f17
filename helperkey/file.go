package helperkey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// pemType is the key file's PEM block, PKCS #8.
const pemType = "PRIVATE KEY"

// ErrExists is returned by PrivateKey.Save when the file exists and force
// is false.
var ErrExists = errors.New("helperkey: a key file already exists")

// PrivateKey is a helper's identity.
type PrivateKey struct {
	Key  ed25519.PrivateKey
	Name string // whose key it is, as CheckName allows; may be empty
}

// Generate makes a new key named name. It returns an error when name is
// not one CheckName accepts.
func Generate(name string) (PrivateKey, error) {
	name, err := CheckName(name)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: %v", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: generating a key: %w", err)
	}
	return PrivateKey{Key: priv, Name: name}, nil
}

// Public returns the key's public half, with its name.
func (k PrivateKey) Public() PublicKey {
	return PublicKey{Key: k.Key.Public().(ed25519.PublicKey), Name: k.Name}
}

// Save writes the key to path with mode 0600, creating its directory with
// mode 0700. It refuses to replace an existing file (ErrExists) unless
// force is set; the file is replaced whole, never half written.
func (k PrivateKey) Save(path string, force bool) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return fmt.Errorf("helperkey: encoding the key: %w", err)
	}
	block := &pem.Block{Type: pemType, Bytes: der}
	if k.Name != "" {
		block.Headers = map[string]string{"Name": k.Name}
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s (use --force to replace it: the old key stops working everywhere it is allowed)", ErrExists, path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("helperkey: creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".helper-key-*")
	if err != nil {
		return fmt.Errorf("helperkey: writing the key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("helperkey: writing the key: %w", err)
	}
	err = pem.Encode(tmp, block)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("helperkey: writing the key: %w", err)
	}
	if force {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	if err != nil {
		return fmt.Errorf("helperkey: saving the key as %s: %w", path, err)
	}
	return nil
}

// Load reads a key file written by Save. On Unix it refuses a file that
// others may read or write. A missing file gives an error wrapping
// fs.ErrNotExist.
func Load(path string) (PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return PrivateKey{}, fmt.Errorf("helperkey: the key file %s may be read or changed by other users (mode %04o); make it private with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: reading %s: %w", path, err)
	}
	k, err := parsePEM(data)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("helperkey: %s: %v", path, err)
	}
	return k, nil
}

func parsePEM(data []byte) (PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemType {
		return PrivateKey{}, fmt.Errorf("no %q PEM block", pemType)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return PrivateKey{}, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return PrivateKey{}, fmt.Errorf("a %T, not an Ed25519 key", key)
	}
	name, err := CheckName(block.Headers["Name"])
	if err != nil {
		return PrivateKey{}, err
	}
	return PrivateKey{Key: priv, Name: name}, nil
}

// Certificate returns a self-signed TLS certificate for the key, to
// present as a client certificate when offering help.
func (k PrivateKey) Certificate() (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("helperkey: generating a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "gethelp helper"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Key.Public(), k.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("helperkey: creating a certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("helperkey: parsing a certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k.Key, Leaf: leaf}, nil
}
