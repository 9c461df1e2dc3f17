package rendezvous

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/stun/v4"
)

// CHANGE-REQUEST (RFC 5780 section 7.2): a 32-bit value whose flags ask the
// server to answer from another IP or another port.
const (
	changeIPFlag   = 0x4
	changePortFlag = 0x2
)

// magicCookie is in every STUN header (RFC 8489); XOR-MAPPED-ADDRESS is
// XORed with it.
const magicCookie = 0x2112A442

// errBadChangeRequest is returned by changeRequest for a CHANGE-REQUEST
// whose value is not 4 bytes.
var errBadChangeRequest = errors.New("rendezvous: CHANGE-REQUEST is not 4 bytes")

// changeRequest reads the CHANGE-REQUEST flags of m; both are false when it
// has none.
func changeRequest(m *stun.Message) (changeIP, changePort bool, err error) {
	v, err := m.Get(stun.AttrChangeRequest)
	if errors.Is(err, stun.ErrAttributeNotFound) {
		return false, false, nil
	}
	if err != nil || len(v) != 4 {
		return false, false, errBadChangeRequest
	}
	flags := binary.BigEndian.Uint32(v)
	return flags&changeIPFlag != 0, flags&changePortFlag != 0, nil
}

// bindingAnswer builds the answer to a Binding request from "from"; other
// is the address of the server's other socket (invalid when there is
// none). viaOther says the answer must leave from
// the other socket: the request asked to change port. A request that asks
// for what this server cannot do (another IP; another port when it has one
// port) gets error 420, as RFC 5780 says; a malformed CHANGE-REQUEST gets
// error 400. Every answer carries FINGERPRINT, and a success carries
// XOR-MAPPED-ADDRESS and, when there is another port, OTHER-ADDRESS naming
// it.
func bindingAnswer(req *stun.Message, from, other netip.AddrPort) (raw []byte, viaOther bool, err error) {
	changeIP, changePort, cerr := changeRequest(req)
	fail := func(code stun.ErrorCode, reason string, unknown bool) ([]byte, bool, error) {
		setters := []stun.Setter{stun.BindingError, stun.NewTransactionIDSetter(req.TransactionID),
			&stun.ErrorCodeAttribute{Code: code, Reason: []byte(reason)}}
		if unknown {
			setters = append(setters, stun.UnknownAttributes{stun.AttrChangeRequest})
		}
		m, err := stun.Build(append(setters, stun.Fingerprint)...)
		if err != nil {
			return nil, false, err
		}
		return m.Raw, false, nil
	}
	switch {
	case cerr != nil:
		return fail(stun.CodeBadRequest, "Bad Request", false)
	case changeIP:
		return fail(stun.CodeUnknownAttribute, "Unknown Attribute: one IP address only", true)
	case changePort && !other.IsValid():
		return fail(stun.CodeUnknownAttribute, "Unknown Attribute: one port only", true)
	}
	setters := []stun.Setter{stun.BindingSuccess, stun.NewTransactionIDSetter(req.TransactionID),
		&stun.XORMappedAddress{IP: net.IP(from.Addr().AsSlice()), Port: int(from.Port())}}
	if other.IsValid() {
		ip := other.Addr()
		if ip.IsUnspecified() {
			// Bound to every address: which one the client used is not
			// known here. Clients take only the port (one IP address).
			ip = netip.IPv4Unspecified()
			if from.Addr().Is6() {
				ip = netip.IPv6Unspecified()
			}
		}
		setters = append(setters, &stun.OtherAddress{IP: net.IP(ip.AsSlice()), Port: int(other.Port())})
	}
	m, err := stun.Build(append(setters, stun.Fingerprint)...)
	if err != nil {
		return nil, false, err
	}
	return m.Raw, changePort, nil
}

// answer is a STUN answer (success or error) as DetectNAT and CheckRelay
// read it.
type answer struct {
	typ    stun.MessageType
	tid    [stun.TransactionIDSize]byte
	mapped netip.AddrPort // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS; invalid when absent
	other  netip.AddrPort // OTHER-ADDRESS; invalid when absent
	code   int            // ERROR-CODE; 0 when absent
	realm  string         // REALM
	nonce  bool           // NONCE is present
}

// errNotAnswer is returned by parseAnswer for anything but a well-formed
// STUN success or error answer.
var errNotAnswer = errors.New("rendezvous: not a STUN answer")

// parseAnswer reads a STUN success or error answer. FINGERPRINT, when
// present, must be right; address attributes must be well formed when
// present (a wrong length, family or a zero port is an error, not a
// guess).
func parseAnswer(p []byte) (answer, error) {
	var a answer
	if !stun.IsMessage(p) || len(p) > maxDatagram {
		return a, errNotAnswer
	}
	m := &stun.Message{Raw: append([]byte(nil), p...)}
	if err := m.Decode(); err != nil {
		return a, fmt.Errorf("%w: %w", errNotAnswer, err)
	}
	if m.Type.Class != stun.ClassSuccessResponse && m.Type.Class != stun.ClassErrorResponse {
		return a, fmt.Errorf("%w: a %s", errNotAnswer, m.Type.Class)
	}
	if m.Contains(stun.AttrFingerprint) {
		if err := stun.Fingerprint.Check(m); err != nil {
			return a, fmt.Errorf("%w: %w", errNotAnswer, err)
		}
	}
	a.typ, a.tid = m.Type, m.TransactionID
	var err error
	if v, gerr := m.Get(stun.AttrXORMappedAddress); gerr == nil {
		if a.mapped, err = parseAddressAttr(v, true, m.TransactionID); err != nil {
			return answer{}, fmt.Errorf("%w: XOR-MAPPED-ADDRESS: %w", errNotAnswer, err)
		}
	} else if v, gerr := m.Get(stun.AttrMappedAddress); gerr == nil {
		if a.mapped, err = parseAddressAttr(v, false, m.TransactionID); err != nil {
			return answer{}, fmt.Errorf("%w: MAPPED-ADDRESS: %w", errNotAnswer, err)
		}
	}
	if v, gerr := m.Get(stun.AttrOtherAddress); gerr == nil {
		if a.other, err = parseAddressAttr(v, false, m.TransactionID); err != nil {
			return answer{}, fmt.Errorf("%w: OTHER-ADDRESS: %w", errNotAnswer, err)
		}
	}
	if m.Type.Class == stun.ClassErrorResponse {
		var ec stun.ErrorCodeAttribute
		if err := ec.GetFrom(m); err != nil || ec.Code < 300 || ec.Code > 699 {
			return answer{}, fmt.Errorf("%w: error answer without a valid ERROR-CODE", errNotAnswer)
		}
		a.code = int(ec.Code)
	}
	var realm stun.Realm
	if realm.GetFrom(m) == nil {
		a.realm = string(realm)
	}
	a.nonce = m.Contains(stun.AttrNonce)
	return a, nil
}

// parseAddressAttr reads a MAPPED-ADDRESS-shaped value (RFC 8489 section
// 14.1), XORed with the magic cookie and transaction id when xor is set.
func parseAddressAttr(v []byte, xor bool, tid [stun.TransactionIDSize]byte) (netip.AddrPort, error) {
	if len(v) < 4 || v[0] != 0 {
		return netip.AddrPort{}, errors.New("too short")
	}
	var ipLen int
	switch v[1] {
	case 0x01:
		ipLen = 4
	case 0x02:
		ipLen = 16
	default:
		return netip.AddrPort{}, fmt.Errorf("unknown family %d", v[1])
	}
	if len(v) != 4+ipLen {
		return netip.AddrPort{}, fmt.Errorf("%d bytes for family %d", len(v), v[1])
	}
	port := binary.BigEndian.Uint16(v[2:4])
	ip := make([]byte, ipLen)
	copy(ip, v[4:])
	if xor {
		var key [16]byte
		binary.BigEndian.PutUint32(key[:4], magicCookie)
		copy(key[4:], tid[:])
		port ^= uint16(magicCookie >> 16)
		for i := range ip {
			ip[i] ^= key[i]
		}
	}
	addr, _ := netip.AddrFromSlice(ip)
	if port == 0 {
		return netip.AddrPort{}, errors.New("port 0")
	}
	return netip.AddrPortFrom(addr.Unmap(), port), nil
}
