// Package helperkey holds the keys that offering help rests on (gethelp
// viewer offer, gethelp host serve): a helper's Ed25519 identity key, its
// one-line public form that an administrator pastes into the policy, the
// allowlist made of such lines, fingerprints, and the helper's record of
// the computers it has met (KnownHosts).
//
// # The public key line (version 1)
//
//	gethelp-helper-ed25519 BASE64 NAME
//
// The first field names the format and the algorithm. BASE64 is the 32-byte
// Ed25519 public key in standard base64 (with or without padding). NAME,
// the rest of the line, says whose key it is ("Bob Smith, help desk"); it
// is what the person is shown when the helper offers help, so it comes from
// the administrator's copy of the line, never from the helper's connection.
// It may be empty, holds no control characters and at most MaxNameLen runes.
// Fields are separated by spaces or tabs; a line is at most MaxLineLen
// bytes. Anything else is refused with an error that wraps ErrBadLine.
//
// # Fingerprints
//
// A fingerprint is "SHA256:" and the unpadded standard base64 of the
// SHA-256 of the key's DER SubjectPublicKeyInfo, as OpenSSH shows keys. The
// same form names a helper's key in the person's prompt and the session
// log, and a computer's key in the helper's known hosts. ParseFingerprint
// also takes the 64 hexadecimal digits gethelp uses for pins elsewhere.
//
// # The key file
//
// The helper's private key is one PEM block "PRIVATE KEY" (PKCS #8, as
// "openssl genpkey -algorithm ed25519" writes it) with a "Name" header, in
// a file of mode 0600. On Unix a key file others may read is refused. The
// key authenticates the helper as a TLS 1.3 client certificate
// (PrivateKey.Certificate): a self-signed certificate whose dates and
// names do not matter, since the host trusts the key, never the
// certificate.
//
// # Known hosts
//
// There is no invitation to pin the computer's key when a helper offers
// help, so the helper trusts it on first contact and remembers it
// (KnownHosts, one "HOST:PORT FINGERPRINT" line per computer). A computer
// that later answers with another key is refused (ErrHostKeyChanged) until
// the helper checks the new key with the person and pins it.
package helperkey
