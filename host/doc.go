// Package host is the person's side of gethelp: it creates an invitation,
// listens for the helper, checks the password proof, enforces the
// invitation's rules, runs the session and writes the session log.
//
// Decisions:
//
//   - One helper at a time, as in Windows Remote Assistance: while a session
//     runs, other viewers are refused with "busy", even with the right
//     password (their attempt is logged).
//   - Wrong passwords are counted per invitation, in the local invitation
//     store, so the count survives a restart of the host; after
//     Config.MaxFailures (5) the invitation is locked for good and every later
//     attempt, right password or not, is told so. The host keeps listening
//     until it is stopped or the invitation expires, so a helper learns why.
//   - The invitation ends with its session: when the helper disconnects, Run
//     returns and the invitation is "used". A new session needs a new
//     invitation or a resend (new password, new expiry, new key).
//   - Expiry governs new connections only; a session under way when the
//     invitation expires goes on.
//   - Cancellation from another process (`gethelp invitations cancel`) is
//     seen by polling the store once a second; it ends a waiting host and a
//     running session alike.
//   - Candidate addresses: when the listen address is unspecified, every
//     non-loopback, non-link-local unicast address of the machine, IPv6 and
//     IPv4 alike (IPv6 first: where both sides have global IPv6 no NAT is in
//     the way); loopback only when the machine has nothing else. When a
//     specific address is given, only that one.
//   - The password and the private key live in memory only. The session log
//     records who connected, failures, chat and the end, never the password.
//   - Offers of help (Config.Offers, gethelp host serve) reuse all of the
//     above but the invitation: the host listens with a long-lived key, a
//     helper's key must be on the administrator's list (checked in the TLS
//     handshake, so a stranger never reaches the person), and the person
//     accepts or declines each offer (AnswerOffer; no answer within
//     OfferConfig.AnswerTimeout declines). The policy is read again for
//     every offer, so turning offers off or taking a helper off the list
//     applies at once, even to an offer the person is still looking at.
//     The person sees the administrator's name for the key, never the name
//     the helper claims. One session at a time; afterwards the host waits
//     for the next offer. The host's one log (named ...-serve.jsonl)
//     records every offer: asked, accepted, declined, or refused (key not
//     allowed, offers off, busy), with the key's fingerprint.
package host
