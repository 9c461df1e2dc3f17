// Package viewer is the helper's side of gethelp: it opens an invitation,
// connects to the person's computer (every candidate address at once, the
// host's key checked against the invitation's pin before anything is sent),
// proves the password without sending it, and runs the session.
//
// Decisions:
//
//   - An expired invitation is refused locally before any packet is sent;
//     the host checks expiry too, so a wrong clock on either side does not
//     let a stale invitation in.
//   - The helper's side keeps a session log of its own (role "helper"),
//     hash-chained like the host's, so both sides have a record.
//   - The name the helper announces is a claim the person sees labelled as
//     such; the bot (a later part) vouches for identities, the viewer cannot.
//   - Offering help (Config.Offer) needs no invitation and no password: the
//     helper's key (package helperkey) authenticates it as a TLS client
//     certificate, and the caller checks the computer's key in the
//     handshake (Offer.VerifyHost: known hosts or a pin). Open then waits
//     as long as the person takes to answer.
package viewer
