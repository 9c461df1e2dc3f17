package main

import (
	"fmt"
	"net"
	"strconv"
)

// rendezvousAltAddr is where the bot opens the rendezvous's second port,
// which lets gethelp doctor tell the NAT's type: rendezvous_alt_listen,
// else the rendezvous's own host at the next port (an ephemeral port when
// the rendezvous's is); "" when rendezvous_alt_listen is "off" or there is
// no rendezvous.
func rendezvousAltAddr(cfg BotConfig) (string, error) {
	switch {
	case cfg.RendezvousListen == "" || cfg.RendezvousAltListen == "off":
		return "", nil
	case cfg.RendezvousAltListen != "":
		return cfg.RendezvousAltListen, nil
	}
	host, ps, err := net.SplitHostPort(cfg.RendezvousListen)
	if err != nil {
		return "", fmt.Errorf("rendezvous_listen %q: %v", cfg.RendezvousListen, err)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	switch {
	case err != nil || port == 65535:
		return "", fmt.Errorf("rendezvous_listen %q: no next port for the second one; set rendezvous_alt_listen (or \"off\")", cfg.RendezvousListen)
	case port == 0:
		return net.JoinHostPort(host, "0"), nil
	}
	return net.JoinHostPort(host, strconv.FormatUint(port+1, 10)), nil
}

// openRendezvousAlt opens the rendezvous's second port, or returns nil
// when there is none.
func openRendezvousAlt(cfg BotConfig) (net.PacketConn, error) {
	addr, err := rendezvousAltAddr(cfg)
	if err != nil || addr == "" {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("the rendezvous's second port (rendezvous_alt_listen %s, for telling NAT types): %w; set rendezvous_alt_listen to another address, or \"off\"", addr, err)
	}
	return pc, nil
}
