package main

import (
	"strings"
	"testing"
)

// FuzzParseCommand: whatever a script or a person types on stdin, the
// command parser answers with a command or a one-line error, never a panic.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`{"type":"chat","text":"hi"}`, `{"type":"bandwidth","level":"full"}`, `{"type":"monitor","monitor":-1}`,
		`{"type":"snapshot"}`, `{not json`, `/monitor x`, `/bandwidth`, `hello`, `/`, "/\x00",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	known := []string{"chat", "disconnect", "bandwidth", "snapshot", "monitor", "pause", "resume", "help"}
	f.Fuzz(func(t *testing.T, line string, jsonMode bool) {
		if strings.TrimSpace(line) == "" {
			return // readCommands skips blank lines
		}
		c, err := parseCommand(line, jsonMode, known)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		if c.Type == "monitor" && c.Monitor == nil {
			t.Fatal("monitor command without a monitor")
		}
	})
}

// FuzzSettings: config and policy files are parsed strictly and fail with an
// error, never a panic.
func FuzzSettings(f *testing.F) {
	for _, s := range []string{
		"allow_remote_assistance: false\nmax_invitation_ttl: 1h\n",
		"display_name: Alice\ninvitation_ttl: 6h\nsession_logs: false\n",
		"max_invitation_ttl: -1h\n", "unknown: 1\n", "- a\n- b\n", "{", "invitation_ttl: [1, 2]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Policy
		if err := decodeStrict(data, &p); err == nil && p.MaxInvitationTTL < 0 {
			t.Fatalf("negative ttl accepted: %v", p.MaxInvitationTTL)
		}
		var c Config
		_ = decodeStrict(data, &c)
	})
}
