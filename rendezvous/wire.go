package rendezvous

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/stun/v4"
)

// Version is the wire format version carried in every body.
const Version = 1

// MaxCandidates bounds the candidates one side announces.
const MaxCandidates = 8

// maxDatagram bounds every message this package sends or reads.
const maxDatagram = 1200

const (
	methodRegister stun.Method = 0x3E1
	methodLookup   stun.Method = 0x3E2
	methodPeer     stun.Method = 0x3E3
	methodProbe    stun.Method = 0x3E4

	attrBody      stun.AttrType = 0xC0E1
	attrSignature stun.AttrType = 0xC0E2
)

var (
	typeRegister        = stun.NewType(methodRegister, stun.ClassRequest)
	typeRegisterSuccess = stun.NewType(methodRegister, stun.ClassSuccessResponse)
	typeRegisterError   = stun.NewType(methodRegister, stun.ClassErrorResponse)
	typeLookup          = stun.NewType(methodLookup, stun.ClassRequest)
	typeLookupSuccess   = stun.NewType(methodLookup, stun.ClassSuccessResponse)
	typeLookupError     = stun.NewType(methodLookup, stun.ClassErrorResponse)
	typePeer            = stun.NewType(methodPeer, stun.ClassIndication)
	typeProbe           = stun.NewType(methodProbe, stun.ClassIndication)
)

// signContext is prefixed to the body a host signs.
const signContext = "gethelp/1 rendezvous register\x00"

// body is the JSON in the BODY attribute.
type body struct {
	V          int      `json:"v"`
	ID         string   `json:"id,omitempty"`
	SPKI       []byte   `json:"spki,omitempty"`
	Pin        []byte   `json:"pin,omitempty"`
	Counter    uint64   `json:"counter,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Reflexive  string   `json:"reflexive,omitempty"`
	// Relayed is the host's relayed address on a TURN relay (Register,
	// Lookup answer).
	Relayed string `json:"relayed,omitempty"`
	// Relay, RelayUser and RelayPass offer the host a TURN relay and its
	// credentials (Register answer).
	Relay     string `json:"relay,omitempty"`
	RelayUser string `json:"relay_user,omitempty"`
	RelayPass string `json:"relay_pass,omitempty"`
}

var errBadMessage = errors.New("rendezvous: malformed message")

// Error codes in error answers.
const (
	codeBadRequest = stun.CodeBadRequest // 400
	codeForbidden  = stun.ErrorCode(403)
	codeNotFound   = stun.ErrorCode(404)
	codeFull       = stun.ErrorCode(508)
)

var reasons = map[stun.ErrorCode]string{
	codeBadRequest: "Bad Request",
	codeForbidden:  "Forbidden",
	codeNotFound:   "Not Found",
	codeFull:       "Insufficient Capacity",
}

// encode builds a message of type t with b as its body (and sig, when not
// nil), the transaction id tid, and the mapped address when valid.
func encode(t stun.MessageType, tid [stun.TransactionIDSize]byte, b *body, sig []byte, mapped netip.AddrPort, code stun.ErrorCode) ([]byte, []byte, error) {
	setters := []stun.Setter{t, stun.NewTransactionIDSetter(tid)}
	var raw []byte
	if b != nil {
		b.V = Version
		var err error
		raw, err = json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		setters = append(setters, stun.RawAttribute{Type: attrBody, Value: raw})
	}
	if sig != nil {
		setters = append(setters, stun.RawAttribute{Type: attrSignature, Value: sig})
	}
	if mapped.IsValid() {
		setters = append(setters, &stun.XORMappedAddress{IP: net.IP(mapped.Addr().AsSlice()), Port: int(mapped.Port())})
	}
	if code != 0 {
		setters = append(setters, &stun.ErrorCodeAttribute{Code: code, Reason: []byte(reasons[code])})
	}
	setters = append(setters, stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		return nil, nil, err
	}
	if len(m.Raw) > maxDatagram {
		return nil, nil, fmt.Errorf("rendezvous: message of %d bytes is too long", len(m.Raw))
	}
	return m.Raw, raw, nil
}

// decoded is a received message.
type decoded struct {
	msg     *stun.Message
	body    body
	rawBody []byte // nil when the message has no body
	sig     []byte
	mapped  netip.AddrPort
	code    int
}

// decode parses a datagram; only messages with a valid fingerprint are
// accepted.
func decode(p []byte) (*decoded, error) {
	if !stun.IsMessage(p) {
		return nil, errBadMessage
	}
	m := &stun.Message{Raw: append([]byte(nil), p...)}
	if err := m.Decode(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadMessage, err)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadMessage, err)
	}
	d := &decoded{msg: m}
	if raw, err := m.Get(attrBody); err == nil {
		if err := json.Unmarshal(raw, &d.body); err != nil || d.body.V != Version {
			return nil, fmt.Errorf("%w: body is not version %d JSON", errBadMessage, Version)
		}
		d.rawBody = raw
	}
	if sig, err := m.Get(attrSignature); err == nil {
		d.sig = sig
	}
	var xor stun.XORMappedAddress
	if xor.GetFrom(m) == nil {
		if ip, ok := netip.AddrFromSlice(xor.IP); ok {
			d.mapped = netip.AddrPortFrom(ip.Unmap(), uint16(xor.Port))
		}
	}
	var ec stun.ErrorCodeAttribute
	if ec.GetFrom(m) == nil {
		d.code = int(ec.Code)
	}
	return d, nil
}

// parseCandidates reads at most MaxCandidates valid unicast addresses.
func parseCandidates(ss []string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		ap, err := netip.ParseAddrPort(s)
		if err != nil || ap.Port() == 0 || !usable(ap.Addr()) {
			continue
		}
		out = append(out, unmap(ap))
		if len(out) == MaxCandidates {
			break
		}
	}
	return out
}

func formatCandidates(aps []netip.AddrPort) []string {
	var out []string
	for _, ap := range aps {
		if len(out) == MaxCandidates {
			break
		}
		out = append(out, unmap(ap).String())
	}
	return out
}

func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a.Zone() == ""
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
