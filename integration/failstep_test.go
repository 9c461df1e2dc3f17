//go:build linux

package integration_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// stoppedHost makes an invitation naming rdv whose host is not running.
func stoppedHost(t *testing.T, rdv string) (*invitations.Invitation, string) {
	t.Helper()
	h, err := host.New(host.Config{TTL: time.Hour, HostName: "Alice", ListenAddr: "127.0.0.1:0", Rendezvous: rdv})
	if err != nil {
		t.Fatal(err)
	}
	inv, pw := h.Invitation(), h.Password()
	h.Close()
	return inv, pw
}

// A connection that fails says which step of getting through failed, and
// points to gethelp doctor.
func TestConnectFailureNamesTheStep(t *testing.T) {
	// A rendezvous nobody answers at.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	srv, err := rendezvous.Listen("127.0.0.1:0", rendezvous.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	for _, c := range []struct {
		name, rdv string
		want      []string
	}{
		{"no rendezvous", "", []string{"names no rendezvous", "gethelp doctor"}},
		{"rendezvous down", dead, []string{"the rendezvous " + dead + " is unreachable", "gethelp doctor"}},
		{"host unknown to the rendezvous", srv.Addr().String(), []string{"does not know this invitation", "gethelp doctor"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv, pw := stoppedHost(t, c.rdv)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := viewer.Open(ctx, viewer.Config{Invitation: inv, Password: pw, Name: "Bob", AttemptTimeout: 300 * time.Millisecond})
			if !errors.Is(err, session.ErrUnreachable) {
				t.Fatalf("Open: %v, want ErrUnreachable", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

// TestNATSymmetricWithoutRelay: behind a symmetric NAT with no relay on
// offer, the viewer cannot get through and says punching failed and no
// relayed address exists.
func TestNATSymmetricWithoutRelay(t *testing.T) {
	lab := newNATLab(t, labConfig{symmetric: true})
	var pc net.PacketConn
	lab.in("pub", func() {
		var err error
		if pc, err = net.ListenPacket("udp", rendezvousAddr); err != nil {
			t.Fatal(err)
		}
	})
	srv, err := rendezvous.NewServer(pc, rendezvous.ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var h *host.Host
	lab.in("h", func() {
		h, err = host.New(host.Config{TTL: time.Hour, HostName: "Alice", Rendezvous: rendezvousAddr})
		if err != nil {
			t.Fatal(err)
		}
	})
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()
	defer func() { cancel(); <-hostDone }()
	if err := waitRegistered(ctx, lab, h.Invitation(), false); err != nil {
		t.Fatal(err)
	}
	lab.in("v", func() {
		_, err = viewer.Open(ctx, viewer.Config{Invitation: h.Invitation(), Password: h.Password(), Name: "Bob", AttemptTimeout: time.Second})
	})
	if !errors.Is(err, session.ErrUnreachable) {
		t.Fatalf("Open: %v, want ErrUnreachable", err)
	}
	for _, w := range []string{"punching through NAT timed out", "no relayed address", "gethelp doctor"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
