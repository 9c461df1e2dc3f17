// Package session is the wire protocol between a gethelp host (the computer
// being helped) and a viewer (the helper), spoken over QUIC with TLS 1.3.
//
// # Transport
//
// One QUIC connection per session, ALPN "gethelp/1", TLS 1.3 only. The host
// presents a self-signed certificate made fresh for each invitation; the
// viewer accepts the connection only when the SHA-256 of the certificate's
// SubjectPublicKeyInfo equals the pin in the invitation file. The check runs
// inside the TLS handshake (tls.Config.VerifyConnection), so a server with
// another key is refused before the viewer sends a single application byte.
//
// # One socket, and NAT
//
// The host listens on one UDP Socket that QUIC shares with the datagrams
// that find a way through NAT: STUN (Socket.STUN gives the
// server-reflexive address), the rendezvous protocol of package
// rendezvous, and punching probes, all written with WriteTo and read with
// ReadFrom (quic-go's non-QUIC packets). A viewer that punches dials from a
// Socket of its own (DialConfig.Socket) so its handshake leaves through the
// mapping its probes opened. ClassifyPath names the path a session took:
// "lan", "direct" or "punched". None of this changes the security: every
// address, whoever suggested it, must pass the pinned TLS handshake and
// the password proof.
//
// # Streams and framing (version 1)
//
// Every stream starts with a 4-byte preface: 'G', 'H', the protocol version
// (1) and the channel number (1 = control). After the preface the stream is a
// sequence of frames:
//
//	+--------+---------------------------+-----------------+
//	| type 1 | length, uint32 big-endian | payload (length)|
//	+--------+---------------------------+-----------------+
//
// Frame type 1 carries one JSON-encoded Message; frame type 2 carries one
// opaque payload of a bulk channel. A frame longer than the channel's limit
// (64 KiB on the control channel, 64 MiB on the screen channel), an unknown
// frame type, a bad preface or a payload that is not a valid Message closes
// the session with application error code 1 (protocol error) and a logged
// reason; it never crashes the host.
//
// The control channel is the one bidirectional stream the viewer opens
// first. It carries the handshake, then chat and control messages in order.
// Chat shares the control stream on purpose: a goodbye can never overtake a
// message sent before it, so disconnecting loses no chat. Bulk channels
// (screen, files) get unidirectional streams of their own so they never
// hold chat, consent or input up.
//
// # Screen sharing
//
// The host opens channel 2 (screen) after the welcome. Each frame's payload
// is a 12-byte header, the update's sequence number (uint32, from 1) and
// the capture time (int64 Unix nanoseconds, both big-endian), followed by
// one update of the session/screen codec. The viewer applies it and answers
// "screen_ack" with the sequence number on the control channel; the host
// keeps at most two updates unacknowledged and captures the next only when
// there is room, so a slow link never queues stale frames (the source's
// damage accumulates and goes out as one fresh update).
//
// Small screen messages travel on the control channel as JSON: "pointer"
// (x, y, visible) and "cursor" (a shape, sent once per shape), so moving the
// mouse costs no screen bytes; "monitors" (the host's monitors and the one
// shown); "monitor" (the viewer asks for one, -1 for all); "bandwidth"
// (level: low, medium, high, full; either side, the host echoes what it
// applies); "sharing" (paused: true while the person has paused sharing).
//
// # Handshake and the password proof
//
// The viewer's first frame is a "hello" with the invitation id, its display
// name and a proof:
//
//	key   = HKDF-SHA256(secret = canonical password, salt = "gethelp/1 password", info = invitation id)
//	bind  = TLS exporter, label "EXPORTER-gethelp-password-proof", context = invitation id, 32 bytes
//	proof = HMAC-SHA256(key, "gethelp/1 viewer proof" || bind)
//
// The password itself never crosses the wire. The exporter value is unique to
// this TLS connection (channel binding in the style of RFC 9266), so a proof
// is useless on any other connection, and only the pinned host ever sees it.
// A low-entropy password would be guessable offline from a proof, which is
// why the proof goes only to the host, which knows the password anyway; an
// on-path attacker sees only TLS ciphertext. The host sends nothing derived
// from the password, ever.
//
// The host answers "welcome" or "reject" with a code: bad_password (with
// attempts_left), locked, busy, expired, cancelled, unknown_invitation,
// policy (and for offers, below, declined).
// Counting failures and deciding what to answer is the host's policy; this
// package only carries it (see Request).
//
// # Offers of help
//
// A helper may also offer help, unasked, to a computer whose administrator
// lists the helper's key (gethelp host serve; package helperkey has the key
// formats). That host listens with a long-lived key of its own and no
// invitation, so:
//
//   - The viewer has no invitation pin: it checks the host's key with
//     DialConfig.VerifyHost instead (the helper's known hosts, or a pin the
//     helper was given), still inside the handshake and before anything of
//     the helper's is sent.
//   - The helper authenticates with its own key as a TLS 1.3 client
//     certificate (self-signed Ed25519; the host trusts the key, never the
//     certificate). The host requires one and checks the key against its
//     allowlist inside the handshake (ListenConfig.VerifyClient): a key
//     not on the list is refused with the TLS alert bad_certificate, which
//     the viewer reports as RejectNotAllowed, before the host's
//     application, or the person at it, ever hears of the connection.
//   - The hello carries "offer": true, the helper's name and no invitation
//     and no proof: the password proof does not apply, the key is the
//     credential. A listener for offers takes no invitation's hello and an
//     invitation's listener takes no offer (protocol error).
//   - The host then asks the person, which can take a while; the viewer
//     waits for the answer. It is "welcome" when the person accepts, after
//     which the session is exactly an invited one, or "reject" with code
//     declined (the person said no or did not answer), busy, policy
//     (offering help is turned off on this computer), cancelled (the host
//     stopped before the person answered) or not_allowed (the list lost
//     the key after the handshake).
//
// # Ending a session
//
// Either side sends a "bye" message with a reason on the control stream and
// closes its sending side; the peer, having read every message before the
// bye, closes the QUIC connection with application error code 0. A viewer
// or host that vanishes is noticed by QUIC's idle timeout (60 s); keep-alive
// PINGs every 20 s keep an idle session open at a cost of a few dozen bytes.
package session
