// Package rendezvous helps a gethelp host and viewer that sit behind NAT
// find each other: a small UDP service that answers STUN Binding requests
// and swaps the two sides' candidate addresses, and the clients for both
// sides, which also send the punching probes that open the NAT mappings.
//
// The rendezvous is untrusted. It learns invitation ids, the host's public
// key and pin, and addresses; never the password and never session
// content. What it says can at worst send the viewer to wrong addresses,
// where the pinned TLS handshake and the password proof of package session
// (unchanged) fail; it cannot let anyone in.
//
// # Why STUN-framed UDP
//
// The registration must leave from the very socket QUIC uses, so that the
// server sees, in the registration itself, the NAT mapping that the peer
// will reach (the server-reflexive address), and so that answers come back
// through that mapping. A QUIC/TLS link from that socket would need a
// certificate for the rendezvous and a pin for it in the invitation, for no
// gain: nothing in the exchange is secret, and integrity where it matters
// comes from a signature by the host's own key. Every message is a STUN
// message (RFC 8489 header, magic cookie, FINGERPRINT), so one port serves
// plain STUN clients too, and quic-go's Transport hands these datagrams to
// ReadNonQUICPacket (their first two bits are zero) instead of QUIC.
//
// # Wire format, version 1
//
// Methods (unassigned in the IANA registry; private to gethelp):
//
//	0x001 Binding   request → success with XOR-MAPPED-ADDRESS (plain STUN)
//	0x3E1 Register  host → server, request; success or error
//	0x3E2 Lookup    viewer → server, request; success or error
//	0x3E3 Peer      server → host, indication: a viewer wants to connect
//	0x3E4 Probe     host ↔ viewer, indication: opens NAT mappings; ignored
//
// Attributes, in the comprehension-optional range:
//
//	0xC0E1 BODY       JSON object, always with "v": 1 (see body)
//	0xC0E2 SIGNATURE  Ed25519 signature, Register only
//
// plus the standard XOR-MAPPED-ADDRESS (0x0020) in every success answer,
// ERROR-CODE (0x0009) in error answers, and FINGERPRINT last. A message
// without a BODY of version 1 is answered with error 400 (request) or
// ignored (indication).
//
// Register body: id (the invitation id), spki (the DER
// SubjectPublicKeyInfo of the host certificate, base64), counter (a number
// that grows with every registration of this host), candidates (the host's
// own addresses, "IP:port"). SIGNATURE signs "gethelp/1 rendezvous
// register\x00" followed by the BODY bytes exactly as sent. The server
// accepts only Ed25519 keys, a valid signature, and a counter above the
// last one it accepted for the id, so a replayed or spoofed registration
// from another address cannot move the host's reflexive address. The first
// key to register an id owns it until the registration expires (TTL after
// its last refresh; the host refreshes well within it): error 403
// otherwise. The server records the datagram's source as the host's
// reflexive address.
//
// Lookup body: id, pin (SHA-256 of the host's spki, base64: only holders of
// the invitation file know it, so nobody who merely guesses an id can read
// a host's addresses) and candidates (the viewer's own addresses). The
// answer's body carries the host's candidates and, as reflexive, the
// host's reflexive address. An unknown id and a wrong pin both get error
// 404. The server then sends the host a Peer indication, at most one per
// PeerInterval per invitation and viewer address (so a Lookup flood cannot
// make it flood the host, nor one viewer's lookups hold back another's),
// whose body has id, the viewer's candidates and, as reflexive, the
// viewer's reflexive address. The viewer repeats its Lookup every second
// while it dials, which repeats the Peer indication if one was lost. When
// the host has a relayed address (below), the answer has it as relayed.
//
// # The relay
//
// A rendezvous may offer a TURN relay (RFC 8656; see RelayConfig): its
// own, embedded on the same UDP port (TURN's methods and ChannelData are
// told apart from the rendezvous's by their message type), or an external
// one such as coturn. Each Register success then carries relay ("host:port"),
// relay_user and relay_pass: TURN REST credentials ("expiry:id",
// base64 HMAC-SHA1 of it under a secret shared with the relay) that expire
// after RelayConfig.Lifetime. The host allocates a relayed address with
// them from a socket of its own, serves QUIC on it too, gives it as
// relayed in its next Register, and, for every Peer indication, creates
// TURN permissions for the viewer's reflexive and own addresses. The
// viewer dials the relayed address like any candidate, after a head start
// for the direct ones. QUIC's TLS 1.3 runs end to end through the relay:
// it forwards ciphertext it cannot read or alter unnoticed. The
// credentials travel in the clear, like everything here; whoever reads
// them can use the relay until they expire, but never read a session. The
// embedded relay gives one invitation's credentials at most two
// allocations at a time (10,000 in all), and relays to no loopback,
// link-local or multicast peer.
//
// Probe body: id. Both sides send probes to every candidate of the other
// for a few seconds; an arriving probe needs no answer (a QUIC handshake
// follows it through the hole it opened).
//
// Every datagram is at most 1200 bytes; candidates are capped at
// MaxCandidates per side.
//
// # Telling the NAT's type (RFC 5780, one IP and two ports)
//
// A server given a second socket (ServerConfig.Alt; the bot opens the
// next port) serves plain STUN Binding there too, names the other socket
// in OTHER-ADDRESS (0x802C) in every Binding answer, and answers a Binding
// request whose CHANGE-REQUEST (0x0003) has the "change port" flag (0x2)
// from the other socket. "Change IP" (0x4), or "change port" without a
// second socket, gets error 420 with UNKNOWN-ATTRIBUTES, as RFC 5780 says;
// a CHANGE-REQUEST that is not 4 bytes gets 400. When the sockets are
// bound to every interface, OTHER-ADDRESS carries the unspecified address:
// clients take its port and keep the server's IP.
//
// DetectNAT (client side, over any PacketConn) asks a Binding of the
// first port (the mapped address; the computer's own address means no
// NAT: "open") and then of the second port, whose mapped address, if it
// differs, means a mapping per destination ("symmetric"). Meanwhile a
// second socket, which never wrote to the second port, sends a "change
// port" request to the first port: whether the answer gets in tells the
// filtering. (On one socket, that unsolicited answer would leave a
// conntrack entry on a Linux router that does not drop it, and the next
// flow to the second port would get another public port: a false
// "symmetric".) Same mapping and the answer got in: "cone"; it did not:
// "port-restricted". With one server IP, filtering by address only
// (address-restricted cone) cannot be told from none (full cone): both are
// reported as "cone", since a peer's punch gets through either at the
// first try. No answer at all: "blocked"; a server without a second port:
// "unknown" unless there is no NAT.
//
// CheckRelay checks that a TURN relay answers, without credentials: an
// Allocate request (REQUESTED-TRANSPORT UDP) must draw error 401 with a
// REALM and a NONCE.
package rendezvous
