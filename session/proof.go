package session

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
)

const (
	exporterLabel = "EXPORTER-gethelp-password-proof"
	proofSalt     = "gethelp/1 password"
	proofPrefix   = "gethelp/1 viewer proof"
)

// passwordProof computes the viewer's proof of the password for invitation
// id on the TLS connection cs. The caller passes the canonical password.
func passwordProof(cs tls.ConnectionState, id, password string) ([]byte, error) {
	bind, err := cs.ExportKeyingMaterial(exporterLabel, []byte(id), 32)
	if err != nil {
		return nil, fmt.Errorf("session: TLS exporter: %w", err)
	}
	key, err := hkdf.Key(sha256.New, []byte(password), []byte(proofSalt), id, 32)
	if err != nil {
		return nil, fmt.Errorf("session: deriving the proof key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(proofPrefix))
	mac.Write(bind)
	return mac.Sum(nil), nil
}
