package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Kinds of session, each with its own restore token: a ScreenCast
// session's token does not restore a RemoteDesktop session.
const (
	kindScreenCast    = "screencast"
	kindRemoteDesktop = "remotedesktop"
)

// tokensVersion is the version of the token file's format.
const tokensVersion = 1

// tokens is the token file (Options.TokenFile), JSON:
//
//	{"version": 1, "tokens": {"screencast": "…", "remotedesktop": "…"}}
//
// A token is what the portal's Start returned as restore_token; the
// portal accepts each once and gives a new one, which replaces it. The file
// is written with mode 0600: a token lets this program share the screen
// again without the desktop asking, until the person revokes it in the
// desktop's settings.
type tokens struct {
	Version int               `json:"version"`
	Tokens  map[string]string `json:"tokens"`
}

// loadTokens reads the token file; a missing, unreadable or unknown file
// gives no tokens (the desktop asks again), with a warning for the last
// two.
func loadTokens(path string, log *slog.Logger) *tokens {
	t := &tokens{Version: tokensVersion, Tokens: map[string]string{}}
	if path == "" {
		return t
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t
	}
	var f tokens
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err == nil && f.Version != tokensVersion {
		err = fmt.Errorf("version %d, not %d", f.Version, tokensVersion)
	}
	if err != nil {
		log.Warn("ignoring the portal's restore tokens: the desktop will ask", "file", path, "err", err)
		return t
	}
	for k, v := range f.Tokens {
		t.Tokens[k] = v
	}
	return t
}

func (t *tokens) get(kind string) string { return t.Tokens[kind] }

func (t *tokens) set(kind, token string) { t.Tokens[kind] = token }

// save writes the file atomically (a temporary file renamed over it),
// mode 0600, creating its directory (0700) if needed.
func (t *tokens) save(path string) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".portal-tokens-*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
