package rendezvous

import (
	"errors"
	"net"
	"net/netip"

	"github.com/pion/stun/v4"
)

// AltAddr is the address of the server's second socket, the one that
// answers "change port" requests (ServerConfig.Alt); invalid when there is
// none.
func (s *Server) AltAddr() netip.AddrPort {
	if s.cfg.Alt == nil {
		return netip.AddrPort{}
	}
	return socketAddr(s.cfg.Alt)
}

func socketAddr(pc net.PacketConn) netip.AddrPort {
	if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		return unmap(ua.AddrPort())
	}
	return netip.AddrPort{}
}

// serveAlt answers plain STUN Binding requests on the second socket until
// it is closed; nothing else is served there.
func (s *Server) serveAlt() {
	defer close(s.altDone)
	buf := make([]byte, 2048)
	for {
		n, from, err := s.cfg.Alt.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger.Warn("reading the second port", "err", err)
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok || n > maxDatagram || !stun.IsMessage(buf[:n]) {
			continue
		}
		m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if m.Decode() != nil || m.Type != stun.BindingRequest {
			continue
		}
		s.answerBinding(s.cfg.Alt, s.pc, m, unmap(ua.AddrPort()))
	}
}

// answerBinding answers a Binding request that arrived on socket on; other
// is the server's other socket (nil when there is none), from which the
// answer leaves when the request asks to change port.
func (s *Server) answerBinding(on, other net.PacketConn, req *stun.Message, from netip.AddrPort) {
	var otherAddr netip.AddrPort
	if other != nil {
		otherAddr = socketAddr(other)
	}
	p, viaOther, err := bindingAnswer(req, from, otherAddr)
	if err != nil {
		s.logger.Warn("encoding a Binding answer", "err", err)
		return
	}
	via := on
	if viaOther {
		via = other
	}
	if _, err := via.WriteTo(p, net.UDPAddrFromAddrPort(from)); err != nil {
		s.logger.Debug("sending", "to", from, "err", err)
	}
}
