package helperkey

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrHostKeyChanged is wrapped by the error KnownHosts.Check returns when a
// computer answers with another key than the one remembered for it.
var ErrHostKeyChanged = errors.New("helperkey: the computer's key changed")

// KnownHosts is the helper's file of the computers it has met and their
// keys' fingerprints, one "HOST:PORT FINGERPRINT" line each; lines starting
// with '#' are comments. A missing file knows no computer.
type KnownHosts struct {
	Path string
}

// Lookup returns the fingerprint remembered for host ("" when none). A
// line that cannot be read is an error naming the file and the line.
func (k KnownHosts) Lookup(host string) (string, error) {
	lines, err := k.read()
	if err != nil {
		return "", err
	}
	for _, l := range lines {
		if l.host == host {
			return l.fp, nil
		}
	}
	return "", nil
}

// Check compares the fingerprint a computer answered with to the one
// remembered for host. It returns known == false when none is remembered,
// and an error wrapping ErrHostKeyChanged when another is.
func (k KnownHosts) Check(host, fingerprint string) (known bool, err error) {
	want, err := k.Lookup(host)
	if err != nil || want == "" {
		return false, err
	}
	if want != fingerprint {
		return true, fmt.Errorf("%w: %s answered with the key %s, but it had the key %s; if the person reinstalled gethelp, check the new key with them and connect with --pin %s; otherwise someone may be pretending to be that computer", ErrHostKeyChanged, host, fingerprint, want, fingerprint)
	}
	return true, nil
}

// Remember records fingerprint for host, replacing what was remembered for
// it. The file is replaced whole, with mode 0600.
func (k KnownHosts) Remember(host, fingerprint string) error {
	if strings.ContainsAny(host, " \t\r\n#") || host == "" {
		return fmt.Errorf("helperkey: %q cannot be a known host", host)
	}
	if _, err := ParseFingerprint(fingerprint); err != nil {
		return err
	}
	data, err := os.ReadFile(k.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("helperkey: reading %s: %w", k.Path, err)
	}
	var out bytes.Buffer
	if len(data) == 0 {
		out.WriteString("# Computers this helper has offered help to, and their keys (gethelp viewer offer).\n")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && f[0] == host {
			continue
		}
		out.WriteString(sc.Text() + "\n")
	}
	fmt.Fprintf(&out, "%s %s\n", host, fingerprint)
	dir := filepath.Dir(k.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("helperkey: creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".known-hosts-*")
	if err != nil {
		return fmt.Errorf("helperkey: writing %s: %w", k.Path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(out.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), k.Path)
	}
	if err != nil {
		return fmt.Errorf("helperkey: writing %s: %w", k.Path, err)
	}
	return nil
}

type knownHost struct{ host, fp string }

func (k KnownHosts) read() ([]knownHost, error) {
	data, err := os.ReadFile(k.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helperkey: reading %s: %w", k.Path, err)
	}
	var out []knownHost
	for i, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("helperkey: %s line %d: want HOST:PORT FINGERPRINT", k.Path, i+1)
		}
		fp, err := ParseFingerprint(f[1])
		if err != nil {
			return nil, fmt.Errorf("helperkey: %s line %d: %v", k.Path, i+1, err)
		}
		out = append(out, knownHost{f[0], fp})
	}
	return out, nil
}
