package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
)

// probeBudget bounds the checks whose silence is their answer (a relay, the
// rendezvous over IPv6): a server that has not answered our retransmissions
// in this time is of no use to a session either.
const probeBudget = 2 * time.Second

// policyFindings reports the administrator's policy and, when they do not
// parse, the user's settings.
func (m *Main) policyFindings(helper bool) []finding {
	var out []finding
	if m.cfgErr != nil {
		out = append(out, finding{Check: "settings", Status: statusProblem, Fact: m.cfgErr.Error(),
			Meaning: "Every gethelp command but this one stops until the settings file is fixed."})
	}
	files := []string{}
	for _, p := range []string{systemPolicyPath, m.Getenv("GETHELP_POLICY")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	f := finding{Check: "policy", Status: statusOK, Details: map[string]any{"files": files}}
	pol, err := loadPolicy(m.Getenv)
	if err != nil {
		f.Status, f.Fact = statusProblem, err.Error()
		f.Meaning = "gethelp refuses to share this computer until an administrator fixes the policy file."
		if helper {
			f.Status = statusWarning
			f.Meaning = "Helping others may still work, but being helped here is refused until an administrator fixes the policy file."
		}
		return append(out, f)
	}
	allowed := pol.AllowRemoteAssistance == nil || *pol.AllowRemoteAssistance
	control := pol.AllowControl == nil || *pol.AllowControl
	f.Details["allow_remote_assistance"] = allowed
	f.Details["allow_control"] = control
	var rules []string
	if !allowed {
		rules = append(rules, "remote assistance turned off")
	} else {
		if max := time.Duration(pol.MaxInvitationTTL); max > 0 {
			rules = append(rules, "invitations last at most "+max.String())
			f.Details["max_invitation_ttl"] = max.String()
		}
		if !control {
			rules = append(rules, "helpers may only watch and chat")
		}
	}
	switch {
	case len(files) == 0:
		f.Fact = "no administrator policy (" + systemPolicyPath + " is absent)"
	case len(rules) == 0:
		f.Fact = "policy " + strings.Join(files, " and ") + ": nothing restricted"
	default:
		f.Fact = "policy " + strings.Join(files, " and ") + ": " + strings.Join(rules, "; ")
	}
	switch {
	case !allowed && helper:
		f.Meaning = "Being helped on this computer is turned off; helping others is not affected."
	case !allowed:
		f.Status = statusProblem
		f.Meaning = "Nobody can help you on this computer: ask its administrator."
	case helper:
		f.Meaning = "Nothing here stops you from helping others."
	case !control:
		f.Meaning = "You may be helped here, but helpers can only see your screen and chat, not take control."
	default:
		f.Meaning = "You may be helped on this computer; helpers take control only when you allow it."
	}
	return append(out, f)
}

// displayFinding opens the screen the way gethelp host would (Windows,
// else Wayland when $WAYLAND_DISPLAY is set, else X11 when $DISPLAY is),
// then closes it.
func (m *Main) displayFinding(ctx context.Context) finding {
	f := finding{Check: "display"}
	kind, name := "", ""
	switch {
	case runtime.GOOS == "windows":
		kind, name = "windows", "the Windows desktop"
	case m.Getenv("WAYLAND_DISPLAY") != "":
		kind, name = "wayland", "Wayland display "+m.Getenv("WAYLAND_DISPLAY")
	case m.Getenv("DISPLAY") != "":
		kind, name = "x11", "X11 display "+m.Getenv("DISPLAY")
	default:
		f.Status, f.Fact = statusProblem, "no display: neither $WAYLAND_DISPLAY nor $DISPLAY is set (a text console or SSH session?)"
		f.Meaning = "This computer cannot share its screen from here: run gethelp in the graphical session to be helped."
		return f
	}
	f.Details = map[string]any{"kind": kind}
	type opened struct {
		w, h, monitors int
		err            error
	}
	res := make(chan opened, 1)
	go func() { // it closes what it opened, even after the report is out
		src, _, err := m.openSource(kind)
		if err != nil {
			res <- opened{err: err}
			return
		}
		var o opened
		for _, mon := range src.Monitors() {
			o.w, o.h = max(o.w, mon.Rect.X+mon.Rect.W), max(o.h, mon.Rect.Y+mon.Rect.H)
			o.monitors++
		}
		src.Close()
		res <- o
	}()
	select {
	case o := <-res:
		if o.err != nil {
			f.Status, f.Fact = statusProblem, fmt.Sprintf("cannot share %s: %v", name, o.err)
			f.Meaning = "This computer cannot share its screen from here."
			return f
		}
		f.Status, f.Fact = statusOK, fmt.Sprintf("%s opens for sharing: %dx%d", name, o.w, o.h)
		if o.monitors > 1 {
			f.Fact += fmt.Sprintf(", %d monitors", o.monitors)
		}
		f.Details["width"], f.Details["height"], f.Details["monitors"] = o.w, o.h, o.monitors
		f.Meaning = "Helpers will see this screen once you accept them."
		if kind == "wayland" && m.Getenv("SWAYSOCK") == "" {
			f.Status = statusWarning
			f.Meaning = "Helpers will see this screen, but on this Wayland desktop gethelp cannot hide password prompts or watch ESC (it can on sway, through $SWAYSOCK)."
		}
	case <-ctx.Done():
		f.Status, f.Fact = statusProblem, fmt.Sprintf("%s did not open in time", name)
		f.Meaning = "This computer cannot share its screen from here."
	}
	return f
}

// networkResult is what networkChecks found.
type networkResult struct {
	findings []finding // rendezvous, nat, ipv6, relay...
	natType  string
}

// networkChecks checks the rendezvous (resolved, then STUN and the NAT type
// over IPv4 when it has an IPv4 address), IPv6, and the relays, in
// parallel.
func (m *Main) networkChecks(ctx context.Context, o doctorOptions) networkResult {
	var res networkResult
	own6 := globalIPv6()
	// without finishes the report when the rendezvous cannot be checked.
	without := func(rv finding) networkResult {
		res.findings = append(res.findings, rv,
			finding{Check: "nat", Status: statusSkipped, Fact: "needs the rendezvous"},
			ipv6Finding(own6, netip.AddrPort{}, nil, 0))
		if o.relay != "" {
			res.findings = append(res.findings, checkRelayAt(ctx, o.relay, "--relay"))
		}
		return res
	}
	switch {
	case o.rendezvousErr != nil:
		return without(finding{Check: "rendezvous", Status: statusSkipped, Fact: o.rendezvousErr.Error(),
			Meaning: "Without a rendezvous only computers on the same network can connect."})
	case o.rendezvous == "":
		return without(finding{Check: "rendezvous", Status: statusSkipped,
			Fact:    "no rendezvous to check: give --rendezvous HOST:PORT or --invitation FILE, or set rendezvous in the settings",
			Meaning: "Without a rendezvous only computers on the same network can connect."})
	}
	v4, v6, err := resolveAll(ctx, o.rendezvous)
	if err != nil {
		return without(finding{Check: "rendezvous", Status: statusProblem, Fact: err.Error(),
			Meaning: "Check the rendezvous address and this computer's connection to the internet."})
	}
	primary := v4
	if !primary.IsValid() {
		primary = v6
	}

	var (
		wg             sync.WaitGroup
		nat            rendezvous.NATReport
		natErr         error
		rtt6           time.Duration
		err6           error
		relayFindings  = make([]finding, 1, 2) // the rendezvous's, and --relay's
		checkedOverV6  = primary == v6
		budget, cancel = context.WithTimeout(ctx, probeBudget)
	)
	defer cancel()
	if o.relay != "" {
		relayFindings = relayFindings[:2] // before the goroutines that fill it
	}
	wg.Go(func() { nat, natErr = detectNAT(ctx, primary) })
	if v6.IsValid() && !checkedOverV6 && len(own6) > 0 {
		wg.Go(func() { rtt6, err6 = stunOnce(budget, v6) })
	}
	wg.Go(func() { relayFindings[0] = relayFinding(budget, primary, "the rendezvous's address") })
	if o.relay != "" {
		wg.Go(func() { relayFindings[1] = checkRelayAt(budget, o.relay, "--relay") })
	}
	wg.Wait()

	res.natType = string(nat.Type)
	res.findings = append(res.findings, rendezvousFinding(o.rendezvous, primary, nat, natErr, o.timeout), natFinding(nat, natErr))
	switch {
	case checkedOverV6:
		res.findings = append(res.findings, ipv6Finding(own6, v6, natErr, nat.RTT))
	case v6.IsValid() && len(own6) > 0:
		res.findings = append(res.findings, ipv6Finding(own6, v6, err6, rtt6))
	default:
		res.findings = append(res.findings, ipv6Finding(own6, netip.AddrPort{}, nil, 0))
	}
	// Without a direct path (symmetric NAT), a relay is the only way.
	relayOK := false
	for _, f := range relayFindings {
		relayOK = relayOK || f.Status == statusOK || f.Details["open"] == true
	}
	if nat.Type == rendezvous.NATSymmetric && !relayOK {
		for i := range relayFindings {
			relayFindings[i].Status = statusProblem
			relayFindings[i].Meaning = "Direct connections fail from here (symmetric NAT) and no relay answers: connections across the internet will fail."
		}
	}
	res.findings = append(res.findings, relayFindings...)
	return res
}

// resolveAll returns the first IPv4 and the first IPv6 address of
// host:port (either may be invalid, not both).
func resolveAll(ctx context.Context, hostport string) (v4, v6 netip.AddrPort, err error) {
	h, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return v4, v6, fmt.Errorf("the rendezvous %q is not HOST:PORT", hostport)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 {
		return v4, v6, fmt.Errorf("the rendezvous %q has a bad port", hostport)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(h); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", h); err != nil {
		return v4, v6, fmt.Errorf("cannot resolve the rendezvous's name %s: %v", h, err)
	}
	for _, ip := range ips {
		ap := netip.AddrPortFrom(ip.Unmap(), uint16(port))
		switch {
		case ap.Addr().Is4() && !v4.IsValid():
			v4 = ap
		case ap.Addr().Is6() && !v6.IsValid():
			v6 = ap
		}
	}
	if !v4.IsValid() && !v6.IsValid() {
		return v4, v6, fmt.Errorf("the rendezvous's name %s has no address", h)
	}
	return v4, v6, nil
}

// detectNAT runs rendezvous.DetectNAT from two fresh sockets of the kind
// host and viewer use.
func detectNAT(ctx context.Context, server netip.AddrPort) (rendezvous.NATReport, error) {
	conn, err := session.ListenSocket(":0")
	if err != nil {
		return rendezvous.NATReport{Type: rendezvous.NATUnknown}, err
	}
	defer conn.Close()
	fresh, err := session.ListenSocket(":0")
	if err != nil {
		return rendezvous.NATReport{Type: rendezvous.NATUnknown}, err
	}
	defer fresh.Close()
	return rendezvous.DetectNAT(ctx, conn, fresh, server)
}

// stunOnce asks server for this computer's address and returns the round
// trip.
func stunOnce(ctx context.Context, server netip.AddrPort) (time.Duration, error) {
	s, err := session.ListenSocket(":0")
	if err != nil {
		return 0, err
	}
	defer s.Close()
	start := time.Now()
	if _, err := s.STUN(ctx, server); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func rendezvousFinding(name string, addr netip.AddrPort, nat rendezvous.NATReport, err error, timeout time.Duration) finding {
	f := finding{Check: "rendezvous", Details: map[string]any{"addr": addr.String()}}
	at := addr.String()
	if name != at {
		at = name + " (" + at + ")"
	}
	switch {
	case errors.Is(err, rendezvous.ErrNoAnswer):
		f.Status, f.Fact = statusProblem, fmt.Sprintf("no answer over UDP from %s in %v", at, timeout)
		f.Meaning = fmt.Sprintf("UDP is blocked on this network or the rendezvous is down: gethelp cannot connect across the internet from here (ask whoever runs the network to allow UDP to %s).", addr)
	case err != nil:
		f.Status, f.Fact = statusProblem, fmt.Sprintf("%s: %v", at, err)
		f.Meaning = "gethelp cannot use this rendezvous."
	default:
		f.Status, f.Fact = statusOK, fmt.Sprintf("%s answers over UDP (round trip %s)", at, ms(nat.RTT))
		f.Details["rtt_ms"] = msValue(nat.RTT)
		f.Meaning = "The two sides can find each other through the rendezvous."
	}
	return f
}

func natFinding(r rendezvous.NATReport, err error) finding {
	f := finding{Check: "nat", Status: statusOK, Details: map[string]any{"type": string(r.Type)}}
	if r.Mapped.IsValid() {
		f.Details["public"] = r.Mapped.String()
	}
	if r.MappedOther.IsValid() {
		f.Details["public_other"] = r.MappedOther.String()
	}
	if r.FilteringTested {
		f.Details["unsolicited_gets_in"] = r.OtherPortPasses
	}
	switch r.Type {
	case rendezvous.NATBlocked:
		f.Status, f.Fact = statusSkipped, "cannot be told: the rendezvous did not answer"
		if err != nil && !errors.Is(err, rendezvous.ErrNoAnswer) {
			f.Fact = "cannot be told: " + err.Error()
		}
	case rendezvous.NATOpen:
		if r.FilteringTested && !r.OtherPortPasses {
			f.Fact = fmt.Sprintf("open: no NAT (the rendezvous sees this computer's own address, %s), but a firewall lets in only replies", r.Mapped.Addr())
			f.Meaning = "Direct connections work: both sides send first, which opens the firewall (hole punching)."
		} else {
			f.Fact = fmt.Sprintf("open: no NAT (the rendezvous sees this computer's own address, %s)", r.Mapped.Addr())
			f.Meaning = "Direct connections work: the other side can reach this computer straight away."
		}
	case rendezvous.NATCone:
		f.Fact = fmt.Sprintf("cone: one public address %s for every destination, open to replies from anywhere", r.Mapped)
		f.Meaning = "Direct connections work: the other side can reach this computer through its router."
	case rendezvous.NATPortRestricted:
		f.Fact = fmt.Sprintf("port-restricted: one public address %s for every destination, but only replies get in", r.Mapped)
		f.Meaning = "Direct connections work when both sides punch through at once, as gethelp does; only a symmetric NAT on the other side makes it use the relay."
	case rendezvous.NATSymmetric:
		f.Status = statusWarning
		f.Fact = fmt.Sprintf("symmetric: a new public port for every destination (%s, then %s)", r.Mapped, r.MappedOther)
		f.Meaning = "Direct connections will fail unless the other side has no NAT or a cone NAT; gethelp will use the relay, which sees only encrypted data."
	default:
		f.Status = statusSkipped
		switch {
		case err != nil:
			f.Fact = "cannot be told: " + err.Error()
		case !r.Other.IsValid():
			f.Fact = fmt.Sprintf("behind a NAT (public address %s), but the rendezvous has no second port to tell which kind", r.Mapped)
			f.Meaning = "Connections may still work; the bot's administrator can open the second port (rendezvous_alt_listen)."
		default:
			f.Fact = fmt.Sprintf("behind a NAT (public address %s); the rendezvous's second port %s did not answer", r.Mapped, r.Other)
			f.Meaning = "Connections may still work; a firewall may block that port, here or at the rendezvous."
		}
	}
	return f
}

// ipv6Finding reports this computer's global IPv6 addresses and, when the
// rendezvous has an IPv6 address (rv6 valid), whether it answered there.
func ipv6Finding(own []netip.Addr, rv6 netip.AddrPort, err error, rtt time.Duration) finding {
	f := finding{Check: "ipv6", Status: statusOK, Details: map[string]any{}}
	addrs := []string{}
	for _, a := range own {
		addrs = append(addrs, a.String())
	}
	f.Details["addresses"] = addrs
	if len(own) == 0 {
		f.Fact = "no global IPv6 address"
		f.Meaning = "Connections go over IPv4."
		return f
	}
	f.Fact = "global IPv6 address " + own[0].String()
	if len(own) > 1 {
		f.Fact += fmt.Sprintf(" (and %d more)", len(own)-1)
	}
	switch {
	case !rv6.IsValid():
		f.Fact += "; the rendezvous has no IPv6 address (or was not checked)"
		f.Meaning = "With a helper on IPv6 too, there is no NAT in the way."
	case err != nil:
		f.Status = statusWarning
		f.Fact += fmt.Sprintf("; but no answer from the rendezvous over IPv6 (%s)", rv6)
		f.Meaning = "IPv6 may not reach the internet from here; gethelp falls back to IPv4."
		f.Details["rendezvous"], f.Details["reachable"] = rv6.String(), false
	default:
		f.Fact += fmt.Sprintf("; the rendezvous answers over IPv6 (round trip %s)", ms(rtt))
		f.Meaning = "Over IPv6 there is no NAT in the way of a direct connection."
		f.Details["rendezvous"], f.Details["reachable"], f.Details["rtt_ms"] = rv6.String(), true, msValue(rtt)
	}
	return f
}

// globalIPv6 lists this computer's global unicast IPv6 addresses (not
// link-local, not unique local).
func globalIPv6() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && ip.Is6() && !ip.Is4In6() && ip.IsGlobalUnicast() && !ip.IsPrivate() {
			out = append(out, ip)
		}
	}
	return out
}

// checkRelayAt resolves hostport and checks the relay there.
func checkRelayAt(ctx context.Context, hostport, what string) finding {
	addr, err := rendezvous.Resolve(ctx, hostport)
	if err != nil {
		return finding{Check: "relay", Status: statusWarning, Fact: fmt.Sprintf("%s %s: %v", what, hostport, err),
			Meaning: "This relay cannot be used from here.", Details: map[string]any{"addr": hostport}}
	}
	f := relayFinding(ctx, addr, what)
	if hostport != addr.String() {
		f.Fact = strings.Replace(f.Fact, addr.String(), hostport+" ("+addr.String()+")", 1)
	}
	return f
}

// relayFinding checks for a TURN relay at addr.
func relayFinding(ctx context.Context, addr netip.AddrPort, what string) finding {
	f := finding{Check: "relay", Details: map[string]any{"addr": addr.String()}}
	s, err := session.ListenSocket(":0")
	if err != nil {
		f.Status, f.Fact = statusWarning, err.Error()
		return f
	}
	defer s.Close()
	r, err := rendezvous.CheckRelay(ctx, s, addr)
	switch {
	case errors.Is(err, rendezvous.ErrNoAnswer):
		f.Status, f.Fact = statusWarning, fmt.Sprintf("no TURN relay answers at %s (%s)", addr, what)
		f.Meaning = "If no direct path exists, the connection will fail: the bot's administrator can turn on its relay."
	case err != nil:
		f.Status, f.Fact = statusWarning, fmt.Sprintf("%s (%s): %v", addr, what, err)
		f.Meaning = "If no direct path exists, the connection will fail."
	case r.Open:
		f.Status, f.Fact = statusWarning, fmt.Sprintf("TURN relay at %s (%s) relays without credentials (round trip %s)", addr, what, ms(r.RTT))
		f.Meaning = "It works, but anyone may use it: its operator should require credentials."
		f.Details["open"], f.Details["rtt_ms"] = true, msValue(r.RTT)
	default:
		f.Status, f.Fact = statusOK, fmt.Sprintf("TURN relay at %s (%s) answers (realm %q, round trip %s)", addr, what, r.Realm, ms(r.RTT))
		f.Meaning = "If no direct path exists, gethelp goes through the relay, which sees only encrypted data."
		f.Details["realm"], f.Details["rtt_ms"] = r.Realm, msValue(r.RTT)
	}
	return f
}
