package rendezvous

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

// FuzzParseAnswer feeds the client's STUN answer parser (DetectNAT,
// CheckRelay) arbitrary datagrams: it must never panic, and what it
// accepts must be an answer with well-formed addresses.
func FuzzParseAnswer(f *testing.F) {
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := parseAnswer(p)
		if err != nil {
			return
		}
		if a.typ.Class != stun.ClassSuccessResponse && a.typ.Class != stun.ClassErrorResponse {
			t.Fatalf("accepted a %s", a.typ)
		}
		for _, ap := range []netip.AddrPort{a.mapped, a.other} {
			if ap.IsValid() && (ap.Port() == 0 || ap.Addr().Is4In6()) {
				t.Fatalf("accepted address %s", ap)
			}
		}
		if (a.code != 0) != (a.typ.Class == stun.ClassErrorResponse) {
			t.Fatalf("code %d in a %s", a.code, a.typ)
		}
	})
}

// FuzzBindingAnswer feeds the server's Binding answer (CHANGE-REQUEST,
// OTHER-ADDRESS) arbitrary requests: it must never panic, and its answer
// must parse back to the request's transaction with the requester's
// address, leaving by the other port only on a successful change-port
// request.
func FuzzBindingAnswer(f *testing.F) {
	from := netip.MustParseAddrPort("198.51.100.7:4242")
	from6 := netip.MustParseAddrPort("[2001:db8::7]:4242")
	other := netip.MustParseAddrPort("203.0.113.1:3479")
	f.Fuzz(func(t *testing.T, p []byte) {
		req := &stun.Message{Raw: append([]byte(nil), p...)}
		if req.Decode() != nil || req.Type != stun.BindingRequest {
			return
		}
		for _, tc := range []struct{ from, other netip.AddrPort }{{from, other}, {from6, other}, {from, netip.AddrPort{}}} {
			raw, viaOther, err := bindingAnswer(req, tc.from, tc.other)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			a, err := parseAnswer(raw)
			if err != nil {
				t.Fatalf("the answer does not parse: %v", err)
			}
			if a.tid != req.TransactionID {
				t.Fatal("another transaction id")
			}
			_, changePort, cerr := changeRequest(req)
			switch a.typ {
			case stun.BindingSuccess:
				if a.mapped != tc.from || a.other.Port() != tc.other.Port() || viaOther != changePort || cerr != nil {
					t.Fatalf("success mapped %s other %s via other %v, for %s (change port %v, %v)", a.mapped, a.other, viaOther, tc.from, changePort, cerr)
				}
			case stun.BindingError:
				if viaOther || (a.code != 400 && a.code != 420) {
					t.Fatalf("error %d via other %v", a.code, viaOther)
				}
			default:
				t.Fatalf("answered with a %s", a.typ)
			}
		}
	})
}
