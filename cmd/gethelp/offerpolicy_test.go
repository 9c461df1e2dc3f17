package main

import (
	"os"
	"strings"
	"testing"

	"github.com/gethelp/gethelp/helperkey"
)

// withAdminPolicy makes loadPolicy read the administrator's policy from
// path (not root-owned) for the test.
func withAdminPolicy(t *testing.T, path string) {
	saved := adminPolicy
	adminPolicy = func(func(string) string) (string, bool) { return path, false }
	t.Cleanup(func() { adminPolicy = saved })
}

func TestOfferHelpPolicy(t *testing.T) {
	bob, err := helperkey.Generate("Bob")
	if err != nil {
		t.Fatal(err)
	}
	line := bob.Public().String()
	on := "offer_help:\n  enabled: true\n  port: 4000\n  helpers:\n    - \"" + line + "\"\n"
	for _, tc := range []struct {
		name, admin, user string
		wantOn            bool
		wantPort          int
		wantErr           string
	}{
		{"off by default", "", "", false, defaultOfferPort, ""},
		{"listed but not enabled", "offer_help:\n  helpers: [\"" + line + "\"]\n", "", false, defaultOfferPort, ""},
		{"on", on, "", true, 4000, ""},
		{"turned off by GETHELP_POLICY", on, "offer_help:\n  enabled: false\n", false, 4000, ""},
		{"GETHELP_POLICY may not turn it on", "", on, false, 0, "may only say enabled: false"},
		{"GETHELP_POLICY may not add helpers", on, "offer_help:\n  enabled: false\n  helpers: [\"" + line + "\"]\n", false, 0, "may only say enabled: false"},
		{"remote assistance off", on + "allow_remote_assistance: false\n", "", false, 4000, ""},
		{"bad helper", "offer_help:\n  enabled: true\n  helpers: [\"" + line + "\", \"ssh-ed25519 AAAA\"]\n", "", false, 0, "helper 2"},
		{"same helper twice", "offer_help:\n  enabled: true\n  helpers: [\"" + line + "\", \"" + line + " again\"]\n", "", false, 0, "listed twice"},
		{"bad port", "offer_help:\n  enabled: true\n  port: 70000\n", "", false, 0, "not a UDP port"},
		{"unknown key", "offer_help:\n  enable: true\n", "", false, 0, "enable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			admin, user := dir+"/admin.yaml", dir+"/user.yaml"
			writeFile(t, admin, tc.admin)
			writeFile(t, user, tc.user)
			withAdminPolicy(t, admin)
			p, err := loadPolicy(func(k string) string {
				if k == "GETHELP_POLICY" {
					return user
				}
				return ""
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadPolicy = %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.offersOn() != tc.wantOn {
				t.Errorf("offersOn = %v, want %v", p.offersOn(), tc.wantOn)
			}
			op := p.offerPolicy()
			if op.Enabled != tc.wantOn {
				t.Errorf("offerPolicy().Enabled = %v", op.Enabled)
			}
			if _, ok := op.Helpers.Lookup(bob.Public().SPKI()); ok != tc.wantOn {
				t.Errorf("bob allowed = %v, want %v", ok, tc.wantOn)
			}
			if p.offerPort() != tc.wantPort {
				t.Errorf("offerPort = %d, want %d", p.offerPort(), tc.wantPort)
			}
			if err := p.checkServing(admin); (err == nil) != tc.wantOn {
				t.Errorf("checkServing = %v", err)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if content == "" {
		return
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOfferTarget(t *testing.T) {
	for _, tc := range []struct {
		in, target, host string
	}{
		{"alice-pc", "alice-pc:3480", "alice-pc"},
		{"Alice-PC.example.org:4000", "alice-pc.example.org:4000", "alice-pc.example.org"},
		{"192.0.2.7", "192.0.2.7:3480", "192.0.2.7"},
		{"192.0.2.7:9", "192.0.2.7:9", "192.0.2.7"},
		{"::1", "[::1]:3480", "::1"},
		{"[2001:db8::1]", "[2001:db8::1]:3480", "2001:db8::1"},
		{"[2001:db8::1]:4000", "[2001:db8::1]:4000", "2001:db8::1"},
		{"", "", ""},
		{"alice:0", "", ""},
		{"alice:99999", "", ""},
		{"alice:http", "", ""},
		{"a b", "", ""},
		{"alice/../x", "", ""},
	} {
		target, host, err := offerTarget(tc.in)
		if tc.target == "" {
			if err == nil || strings.Contains(err.Error(), "\n") {
				t.Errorf("offerTarget(%q) = %q, %v; want a one-line error", tc.in, target, err)
			}
			continue
		}
		if err != nil || target != tc.target || host != tc.host {
			t.Errorf("offerTarget(%q) = %q %q %v, want %q %q", tc.in, target, host, err, tc.target, tc.host)
		}
	}
}
