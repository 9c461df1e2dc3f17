package rendezvous

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"net"
	"net/netip"
	"testing"

	"github.com/pion/stun/v4"
)

// wireSeeds are one message of each kind, as the clients send them.
func wireSeeds(tb testing.TB) [][]byte {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	reg := &body{ID: "7Q2M9KX4TR", SPKI: spki, Counter: 1, Candidates: []string{"192.0.2.5:4000", "[2001:db8::5]:4000"}, Relayed: "203.0.113.1:40000"}
	raw, err := marshalBody(reg)
	if err != nil {
		tb.Fatal(err)
	}
	sig := ed25519.Sign(priv, append([]byte(signContext), raw...))
	var out [][]byte
	add := func(t stun.MessageType, b *body, sig []byte, mapped netip.AddrPort, code stun.ErrorCode) {
		p, _, err := encode(t, stun.NewTransactionID(), b, sig, mapped, code)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	add(typeRegister, reg, sig, netip.AddrPort{}, 0)
	add(typeRegisterSuccess, &body{ID: "7Q2M9KX4TR", Reflexive: "203.0.113.10:4000", Relay: "203.0.113.1:3478", RelayUser: "1999999999:7Q2M9KX4TR", RelayPass: "cGFzcw=="}, nil, netip.MustParseAddrPort("203.0.113.10:4000"), 0)
	add(typeLookup, &body{ID: "7Q2M9KX4TR", Pin: make([]byte, 32), Candidates: []string{"198.51.100.7:5000"}}, nil, netip.AddrPort{}, 0)
	add(typeLookupError, nil, nil, netip.AddrPort{}, codeNotFound)
	add(typePeer, &body{ID: "7Q2M9KX4TR", Candidates: []string{"198.51.100.7:5000"}, Reflexive: "203.0.113.20:5000"}, nil, netip.AddrPort{}, 0)
	add(typeProbe, &body{ID: "7Q2M9KX4TR"}, nil, netip.AddrPort{}, 0)
	out = append(out, stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw)
	out = append(out, stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)).Raw)
	out = append(out, []byte{0x40, 0x00, 0x00, 0x04, 'q', 'u', 'i', 'c'}) // ChannelData
	return out
}

// FuzzWire throws datagrams at the rendezvous: decoding, the TURN
// classifier and the server itself (embedded relay on) must take anything
// without panicking, and decode accepts only version 1 bodies.
func FuzzWire(f *testing.F) {
	for _, p := range wireSeeds(f) {
		f.Add(p)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	s, err := NewServer(pc, ServerConfig{Relay: &RelayConfig{Secret: "fuzz"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	from := netip.MustParseAddrPort("127.0.0.1:9") // the discard port: answers go nowhere
	f.Fuzz(func(t *testing.T, p []byte) {
		if d, err := decode(p); err == nil {
			if d.rawBody != nil && d.body.V != Version {
				t.Fatalf("decoded a version %d body", d.body.V)
			}
			for _, c := range parseCandidates(d.body.Candidates) {
				if !usable(c.Addr()) || c.Port() == 0 {
					t.Fatalf("parseCandidates kept %s", c)
				}
			}
		}
		if isTURN(p) {
			s.turn.in.push(p, net.UDPAddrFromAddrPort(from))
			return
		}
		if len(p) <= maxDatagram {
			s.handle(p, from)
		}
	})
}
