package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// systemPolicyPath is the administrator's policy file. It must be owned by
// root and writable by nobody else.
const systemPolicyPath = "/etc/gethelp/policy.yaml"

// Config is the user's settings (config.example.yaml documents each one).
type Config struct {
	DisplayName   string   `yaml:"display_name"`
	HelperName    string   `yaml:"helper_name"`
	InvitationTTL Duration `yaml:"invitation_ttl"`
	Listen        string   `yaml:"listen"`
	SessionLogs   *bool    `yaml:"session_logs"`
	StateDir      string   `yaml:"state_dir"`
	// AllowControl: false keeps every session to viewing and chat.
	AllowControl *bool `yaml:"allow_control"`
	// EscStopsControl: false turns off taking control back with ESC.
	EscStopsControl *bool `yaml:"esc_stops_control"`
	// FilesDir is where received files land.
	FilesDir string `yaml:"files_dir"`
	// MaskedWindows are window classes the helper never sees.
	MaskedWindows []string `yaml:"masked_windows"`
	// SecurePrompts replaces the default list of password and
	// administrator prompt window classes.
	SecurePrompts []string `yaml:"secure_prompts"`
	// BotAddress and BotPin are where `gethelp host agent` finds the bot
	// and the key it must have.
	BotAddress string `yaml:"bot_address"`
	BotPin     string `yaml:"bot_pin"`
	// Rendezvous is the host:port that helps helpers find this computer
	// through NAT (the bot's rendezvous); "" for none.
	Rendezvous string `yaml:"rendezvous"`
	// Bot configures `gethelp bot`.
	Bot *BotConfig `yaml:"bot"`
}

// Policy is what an administrator allows. The zero value allows everything
// but offers of help, which are off until the administrator's policy turns
// them on.
type Policy struct {
	AllowRemoteAssistance *bool    `yaml:"allow_remote_assistance"`
	MaxInvitationTTL      Duration `yaml:"max_invitation_ttl"`
	AllowControl          *bool    `yaml:"allow_control"`
	// OfferHelp lets the helpers it lists offer help unasked (gethelp
	// host serve, gethelp viewer offer).
	OfferHelp *OfferHelpPolicy `yaml:"offer_help"`

	// Source names the file(s) the policy came from, for refusals.
	Source string `yaml:"-"`
}

// Duration is a time.Duration written like "6h" or "90m" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: %q is not a positive duration like 6h or 90m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// decodeStrict reads YAML into v, refusing unknown keys.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// loadConfig reads the user's config file; a missing file at the default
// place is not an error.
func loadConfig(path string, explicit bool) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	if err := decodeStrict(data, &c); err != nil {
		return c, fmt.Errorf("config %s: %v", path, err)
	}
	return c, nil
}

// loadPolicy reads the administrator's policy and, if GETHELP_POLICY names
// one, that file too. The override can only make the policy stricter, so it
// cannot be used to escape the administrator's: the strictest setting of the
// two wins.
func loadPolicy(getenv func(string) string) (Policy, error) {
	p, err := readPolicy(adminPolicy(getenv))
	if err != nil {
		return p, err
	}
	if extra := getenv("GETHELP_POLICY"); extra != "" {
		q, err := readPolicy(extra, false)
		if err != nil {
			return p, err
		}
		if err := q.OfferHelp.onlyOff(extra); err != nil {
			return p, err
		}
		p = p.stricter(q)
	}
	return p, nil
}

// adminPolicy names the administrator's policy file and whether it must be
// root-owned. Only a test build (offerhelp_testhook.go) says otherwise.
var adminPolicy = func(func(string) string) (string, bool) { return systemPolicyPath, true }

func readPolicy(path string, mustBeRootOwned bool) (Policy, error) {
	var p Policy
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("reading policy %s: %w", path, err)
	}
	defer f.Close()
	if mustBeRootOwned {
		fi, err := f.Stat()
		if err != nil {
			return p, fmt.Errorf("reading policy %s: %w", path, err)
		}
		if !adminOwned(fi) {
			return p, fmt.Errorf("policy %s must be owned by root and writable only by root; refusing to run until an administrator fixes it", path)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return p, fmt.Errorf("reading policy %s: %w", path, err)
	}
	if err := decodeStrict(data, &p); err != nil {
		return p, fmt.Errorf("policy %s: %v", path, err)
	}
	if err := p.OfferHelp.check(path); err != nil {
		return p, fmt.Errorf("policy %s: offer_help: %v", path, err)
	}
	p.Source = path
	return p, nil
}

func (p Policy) stricter(q Policy) Policy {
	out := p
	if q.AllowRemoteAssistance != nil && !*q.AllowRemoteAssistance {
		out.AllowRemoteAssistance = q.AllowRemoteAssistance
		out.Source = q.Source
	}
	if q.AllowControl != nil && !*q.AllowControl {
		out.AllowControl = q.AllowControl
		out.Source = q.Source
	}
	if q.MaxInvitationTTL > 0 && (out.MaxInvitationTTL == 0 || q.MaxInvitationTTL < out.MaxInvitationTTL) {
		out.MaxInvitationTTL = q.MaxInvitationTTL
		out.Source = q.Source
	}
	if q.OfferHelp != nil && out.OfferHelp != nil { // q may only turn it off (onlyOff)
		off := *out.OfferHelp
		off.Enabled = q.OfferHelp.Enabled
		out.OfferHelp = &off
		out.Source = q.Source
	}
	return out
}

// checkHosting refuses to create an invitation the policy forbids. ttl is
// the requested lifetime; explicit says the user asked for it (otherwise a
// default longer than the policy allows is shortened to the maximum).
func (p Policy) checkHosting(ttl time.Duration, explicit bool) (time.Duration, error) {
	if p.AllowRemoteAssistance != nil && !*p.AllowRemoteAssistance {
		return 0, fmt.Errorf("remote assistance is turned off on this computer by the administrator's policy (%s)", p.Source)
	}
	max := time.Duration(p.MaxInvitationTTL)
	if max > 0 && ttl > max {
		if !explicit {
			return max, nil
		}
		return 0, fmt.Errorf("an invitation may stay open at most %v on this computer (administrator's policy %s); asked for %v", max, p.Source, ttl)
	}
	return ttl, nil
}

// noControl says why control is refused on this computer ("" when it is
// allowed): the administrator's policy first, then the person's settings.
func noControl(p Policy, c Config) string {
	if p.AllowControl != nil && !*p.AllowControl {
		return fmt.Sprintf("the administrator's policy (%s) allows viewing and chat only on this computer", p.Source)
	}
	if c.AllowControl != nil && !*c.AllowControl {
		return "the person's settings allow viewing and chat only (allow_control: false)"
	}
	return ""
}

// stateDir is where invitations and logs are kept:
// $XDG_STATE_HOME/gethelp, falling back to ~/.local/state/gethelp.
func stateDir(cfg Config, getenv func(string) string) (string, error) {
	if cfg.StateDir != "" {
		return cfg.StateDir, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gethelp"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot find a place for gethelp's state: set XDG_STATE_HOME or HOME")
		}
	}
	return filepath.Join(home, ".local", "state", "gethelp"), nil
}

// filesDir is where received files land: files_dir, else
// $XDG_DOWNLOAD_DIR, else ~/Downloads.
func filesDir(cfg Config, getenv func(string) string) string {
	if cfg.FilesDir != "" {
		return cfg.FilesDir
	}
	if d := getenv("XDG_DOWNLOAD_DIR"); d != "" && filepath.IsAbs(d) {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, "Downloads")
}

func configPath(getenv func(string) string) (string, bool) {
	if p := getenv("GETHELP_CONFIG"); p != "" {
		return p, true
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gethelp", "config.yaml"), false
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".config", "gethelp", "config.yaml"), false
}
