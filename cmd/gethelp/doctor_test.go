package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gethelp/gethelp/rendezvous"
)

var update = flag.Bool("update", false, "rewrite testdata/doctor.golden")

// TestDoctorWords pins what gethelp doctor says for each NAT type and the
// readable report's layout (testdata/doctor.golden; -update rewrites it).
func TestDoctorWords(t *testing.T) {
	server := netip.MustParseAddrPort("203.0.113.1:3478")
	other := netip.MustParseAddrPort("203.0.113.1:3479")
	public := netip.MustParseAddrPort("198.51.100.20:40123")
	own := netip.MustParseAddrPort("203.0.113.7:40123")
	var got bytes.Buffer
	for _, tc := range []struct {
		name string
		r    rendezvous.NATReport
		err  error
	}{
		{"open", rendezvous.NATReport{Type: rendezvous.NATOpen, Server: server, Other: other, Mapped: own, MappedOther: own, Local: true, FilteringTested: true, OtherPortPasses: true}, nil},
		{"open behind a firewall", rendezvous.NATReport{Type: rendezvous.NATOpen, Server: server, Other: other, Mapped: own, MappedOther: own, Local: true, FilteringTested: true}, nil},
		{"cone", rendezvous.NATReport{Type: rendezvous.NATCone, Server: server, Other: other, Mapped: public, MappedOther: public, FilteringTested: true, OtherPortPasses: true}, nil},
		{"port-restricted", rendezvous.NATReport{Type: rendezvous.NATPortRestricted, Server: server, Other: other, Mapped: public, MappedOther: public, FilteringTested: true}, nil},
		{"symmetric", rendezvous.NATReport{Type: rendezvous.NATSymmetric, Server: server, Other: other, Mapped: public, MappedOther: netip.MustParseAddrPort("198.51.100.20:50999"), FilteringTested: true}, nil},
		{"one port", rendezvous.NATReport{Type: rendezvous.NATUnknown, Server: server, Mapped: public}, nil},
		{"second port silent", rendezvous.NATReport{Type: rendezvous.NATUnknown, Server: server, Other: other, Mapped: public}, nil},
		{"blocked", rendezvous.NATReport{Type: rendezvous.NATBlocked, Server: server}, fmt.Errorf("%w at %s", rendezvous.ErrNoAnswer, server)},
	} {
		if tc.r.Type != rendezvous.NATBlocked {
			tc.r.RTT = 23400 * time.Microsecond
		}
		rep := doctorReport{Type: "doctor", Side: "host", Rendezvous: "gethelp.example.org:3478", RendezvousFrom: "--rendezvous", TookMS: 1004}
		rep.Findings = []finding{
			rendezvousFinding("gethelp.example.org:3478", server, tc.r, tc.err, 5*time.Second),
			natFinding(tc.r, tc.err),
		}
		for _, f := range rep.Findings {
			switch f.Status {
			case statusProblem:
				rep.Problems++
			case statusWarning:
				rep.Warnings++
			}
		}
		fmt.Fprintf(&got, "=== %s\n", tc.name)
		printDoctor(&got, rep)
	}
	path := filepath.Join("testdata", "doctor.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the reports differ from %s (go test -run TestDoctorWords -update rewrites it):\n%s", path, got.String())
	}
}
