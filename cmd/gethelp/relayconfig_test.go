package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
)

func TestRelayConfig(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cert := tls.Certificate{PrivateKey: key}
	env := map[string]string{}
	m := &Main{Getenv: func(k string) string { return env[k] }}
	parse := func(mode, addr, ip, ports string) (string, error) {
		var cfg BotConfig
		cfg.Relay.Mode, cfg.Relay.Address, cfg.Relay.PublicIP, cfg.Relay.Ports = mode, addr, ip, ports
		rc, err := m.relayConfig(&cfg, cert)
		if err != nil || rc == nil {
			return "", err
		}
		return fmt.Sprintf("%s|%s|%s|%d-%d", rc.Secret, rc.External, rc.RelayIP, rc.MinPort, rc.MaxPort), nil
	}

	// The embedded relay's default secret comes from the bot key: the same
	// key gives the same secret (it outlives a restart).
	a, err := parse("", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := parse("embedded", "", "", "")
	if a != b || len(a) < 64 {
		t.Errorf("embedded secrets %q and %q", a, b)
	}
	if got, _ := parse("off", "", "", ""); got != "" {
		t.Errorf("off gave a relay: %q", got)
	}
	if got, err := parse("", "", "203.0.113.7", "50000-50100"); err != nil || !strings.HasSuffix(got, "|203.0.113.7|50000-50100") {
		t.Errorf("embedded with ip and ports: %q, %v", got, err)
	}
	env["GETHELP_TURN_SECRET"] = "from-env"
	if got, err := parse("external", "turn.example.org:3478", "", ""); err != nil || !strings.HasPrefix(got, "from-env|turn.example.org:3478|") {
		t.Errorf("external: %q, %v", got, err)
	}
	delete(env, "GETHELP_TURN_SECRET")

	for _, c := range []struct{ mode, addr, ip, ports, want string }{
		{"sideways", "", "", "", `relay.mode "sideways"`},
		{"external", "", "", "", "needs relay.address"},
		{"external", "turn.example.org", "", "", `relay.address "turn.example.org"`},
		{"external", "turn.example.org:3478", "", "", "needs the TURN server's secret"},
		{"", "", "not-an-ip", "", `relay.public_ip "not-an-ip"`},
		{"", "", "", "9-1", `relay.ports "9-1"`},
		{"", "", "", "80000-90000", `relay.ports "80000-90000"`},
		{"", "", "", "1000", `relay.ports "1000"`},
	} {
		_, err := parse(c.mode, c.addr, c.ip, c.ports)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("mode %q addr %q ip %q ports %q: %v, want a one-line error with %q", c.mode, c.addr, c.ip, c.ports, err, c.want)
		}
	}
}
