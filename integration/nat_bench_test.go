//go:build linux

package integration_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/synthetic"
	"github.com/gethelp/gethelp/rendezvous"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// The NAT lab's benchmarks (bench/connect.sh runs them and prints
// medians). Like the lab's tests they need root, ip and nft, and coturn's
// turnserver for the coturn cases; they skip otherwise.

// fastAttempt is the viewer's AttemptTimeout in the "-fast" relayed cases.
// viewer.Config has no RelayDelay; but Dial starts the relays as soon as
// every direct address has failed, so a short attempt timeout cuts the
// relay's wait from session.DefaultRelayDelay to about this.
const fastAttempt = 200 * time.Millisecond

// setupCase is one path of BenchmarkConnectionSetup.
type setupCase struct {
	name     string
	lab      labConfig
	viewerNS string
	relay    string        // "", "embedded" or "coturn"
	attempt  time.Duration // the viewer's AttemptTimeout; zero: the default
	wantPath string
}

// BenchmarkConnectionSetup makes a fresh invitation per iteration (a host
// in h sharing a 320x200 synthetic screen, registered with the lab's
// rendezvous and, with a relay, holding a relayed address) and opens it
// from the case's namespace. The time per op runs from the call of
// viewer.Open (rendezvous lookup, punching, the QUIC and TLS handshake,
// the password proof) to the first screen update applied at the viewer
// (first-frame-ms, the mean, the same as ms/op; first-frame-p50-ms the
// median connection); connect-ms is the part until Open returned (the
// host's welcome; connect-p50-ms the median, max-connect-ms the slowest),
// lookup-ms the rendezvous's answer within it and dial-ms session.Dial's
// race and hello (both as the viewer's log reports them). The host's setup is not
// timed; host-allocate-ms is its relay allocation, from its log.
//
// The relayed cases include the direct paths' head start
// (session.DefaultRelayDelay, 1 s); the "-fast" ones cut it to
// fastAttempt. Run with a fixed count (bench/connect.sh uses
// -benchtime=10x): the untimed setup of each iteration is longer than
// the timed part, so a time-based benchtime would run many.
func BenchmarkConnectionSetup(b *testing.B) {
	symmetric := labConfig{symmetric: true}
	for _, c := range []setupCase{
		{name: "lan", viewerNS: "l", wantPath: session.PathLAN},
		{name: "punched", viewerNS: "v", wantPath: session.PathPunched},
		{name: "relayed-embedded", lab: symmetric, viewerNS: "v", relay: "embedded", wantPath: session.PathRelayed},
		{name: "relayed-coturn", lab: symmetric, viewerNS: "v", relay: "coturn", wantPath: session.PathRelayed},
		{name: "relayed-embedded-fast", lab: symmetric, viewerNS: "v", relay: "embedded", attempt: fastAttempt, wantPath: session.PathRelayed},
		{name: "relayed-coturn-fast", lab: symmetric, viewerNS: "v", relay: "coturn", attempt: fastAttempt, wantPath: session.PathRelayed},
	} {
		b.Run(c.name, func(b *testing.B) { benchSetup(b, c) })
	}
}

// setupSample is what one connection took.
type setupSample struct {
	connect, firstFrame, lookup, dial, hostRelay time.Duration
}

func benchSetup(b *testing.B, c setupCase) {
	lab := newNATLab(b, c.lab)
	labServers(b, lab, c.relay)
	var sum setupSample
	var connects, frames []time.Duration
	var each []string
	for b.Loop() {
		b.StopTimer()
		s, err := connectOnce(b, lab, c)
		if err != nil {
			b.Fatal(err)
		}
		sum.connect += s.connect
		sum.firstFrame += s.firstFrame
		sum.lookup += s.lookup
		sum.dial += s.dial
		sum.hostRelay += s.hostRelay
		connects, frames = append(connects, s.connect), append(frames, s.firstFrame)
		each = append(each, fmt.Sprintf("%.1f/%.1f", msOf(s.connect), msOf(s.firstFrame)))
		b.StartTimer()
	}
	mean := func(d time.Duration) float64 { return msOf(d) / float64(len(connects)) }
	b.ReportMetric(mean(sum.connect), "connect-ms")
	b.ReportMetric(msOf(median(connects)), "connect-p50-ms")
	b.ReportMetric(msOf(slices.Max(connects)), "max-connect-ms")
	b.ReportMetric(mean(sum.firstFrame), "first-frame-ms")
	b.ReportMetric(msOf(median(frames)), "first-frame-p50-ms")
	b.ReportMetric(mean(sum.lookup), "lookup-ms")
	b.ReportMetric(mean(sum.dial), "dial-ms")
	if c.relay != "" {
		b.ReportMetric(mean(sum.hostRelay), "host-allocate-ms")
	}
	b.Logf("connected/first frame, ms, per connection: %s", strings.Join(each, " "))
}

func msOf(d time.Duration) float64 { return d.Seconds() * 1000 }

// connectOnce makes an invitation, connects to it and tears both sides
// down again. It turns on the benchmark timer only around the viewer's
// part; it must be called with the timer stopped.
func connectOnce(b *testing.B, lab *natLab, c setupCase) (setupSample, error) {
	var s setupSample
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	hostEvents := make(chan host.Event, 64)
	hostLog := &logDurations{}
	var h *host.Host
	var err error
	lab.in("h", func() {
		h, err = host.New(host.Config{
			TTL: time.Hour, HostName: "Alice", Rendezvous: rendezvousAddr,
			Source: synthetic.New(320, 200, 10),
			OnEvent: func(e host.Event) {
				select {
				case hostEvents <- e:
				default:
				}
			},
			Logger: slog.New(hostLog),
		})
	})
	if err != nil {
		return s, err
	}
	defer h.Close()
	hctx, stopHost := context.WithCancel(ctx)
	hostDone := make(chan error, 1)
	lab.in("h", func() {
		go func() { hostDone <- h.Run(hctx) }()
	})
	defer func() { stopHost(); <-hostDone }()
	if _, ok := waitFor(hostEvents, func(e host.Event) bool { return e.Type == host.EventWaiting }); !ok {
		return s, errors.New("the host never reported waiting")
	}
	inv := h.Invitation()
	if err := waitRegistered(ctx, lab, inv, c.relay != ""); err != nil {
		return s, err
	}
	s.hostRelay = hostLog.get("relayed address ready", "took")

	viewerEvents := make(chan viewer.Event, 256)
	viewerLog := &logDurations{}
	var v *viewer.Viewer
	var start time.Time
	b.StartTimer()
	lab.in(c.viewerNS, func() {
		start = time.Now()
		v, err = viewer.Open(ctx, viewer.Config{
			Invitation: inv, Password: h.Password(), Name: "Bob", AttemptTimeout: c.attempt,
			OnEvent: func(e viewer.Event) {
				select {
				case viewerEvents <- e:
				default:
				}
			},
			Logger: slog.New(viewerLog),
		})
		s.connect = time.Since(start)
	})
	if err != nil {
		b.StopTimer()
		return s, fmt.Errorf("viewer: %w", err)
	}
	updates, stopUpdates := v.SubscribeScreen()
	defer stopUpdates()
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()
	defer func() { v.Disconnect(""); <-viewerDone }()
	select {
	case <-updates:
		s.firstFrame = time.Since(start)
	case <-ctx.Done():
		b.StopTimer()
		return s, errors.New("no screen update reached the viewer")
	}
	b.StopTimer()

	ve, ok := waitFor(viewerEvents, func(e viewer.Event) bool { return e.Type == viewer.EventConnected })
	if !ok {
		return s, errors.New("the viewer never reported connected")
	}
	if ve.Path != c.wantPath {
		return s, fmt.Errorf("connected over %s (to %s), want %s", ve.Path, ve.Addr, c.wantPath)
	}
	s.lookup = viewerLog.get("rendezvous answered", "took")
	s.dial = viewerLog.get("connected", "dial")
	return s, nil
}

// labServers starts the lab's rendezvous at rendezvousAddr, with relay
// "" (none), "embedded" (its own) or "coturn" (started here, at
// 203.0.113.5:3478), and returns the relay's address ("" for none). The
// rendezvous runs in a process of its own in pub (this test binary again,
// as TestLabRendezvousProcess), as it does in the bot, so that the
// embedded relay does not share the benchmark's Go runtime (coturn does
// not either). Both stop when the benchmark or test ends.
func labServers(tb testing.TB, lab *natLab, relay string) string {
	tb.Helper()
	relayAddr := ""
	switch relay {
	case "embedded":
		relayAddr = rendezvousAddr
	case "coturn":
		startCoturn(tb, lab)
		relayAddr = coturnAddr
	}
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", lab.ns("pub"), self, "-test.run=^TestLabRendezvousProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), labRendezvousEnv+"="+relay)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("the rendezvous process ended before it was ready: %v", sc.Err())
	}()
	stop := func() {
		stdin.Close() // it serves until its stdin closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	select {
	case err = <-ready:
	case <-time.After(10 * time.Second):
		err = errors.New("the rendezvous process is not ready after 10 s")
	}
	if err != nil {
		stop()
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return relayAddr
}

// labRendezvousEnv makes the test binary serve the lab's rendezvous
// (TestLabRendezvousProcess); its value is the relay, as for labServers.
const labRendezvousEnv = "GETHELP_LAB_RENDEZVOUS"

// coturnAddr is where startCoturn's relay listens.
const coturnAddr = "203.0.113.5:3478"

// TestLabRendezvousProcess is not a test but the lab's rendezvous in a
// process of its own: labServers runs the test binary again inside the
// lab's pub namespace with labRendezvousEnv set. It prints "ready" once it
// serves, and serves until its stdin closes.
func TestLabRendezvousProcess(t *testing.T) {
	relay, ok := os.LookupEnv(labRendezvousEnv)
	if !ok {
		t.Skip("the NAT lab's benchmarks run this as their rendezvous process")
	}
	var scfg rendezvous.ServerConfig
	switch relay {
	case "embedded":
		scfg.Relay = &rendezvous.RelayConfig{Secret: relaySecret}
	case "coturn":
		scfg.Relay = &rendezvous.RelayConfig{Secret: relaySecret, External: coturnAddr}
	}
	srv, err := rendezvous.Listen(rendezvousAddr, scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}

// waitFor returns the first event on ch that match accepts, or false
// after 10 s.
func waitFor[E any](ch <-chan E, match func(E) bool) (E, bool) {
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if match(e) {
				return e, true
			}
		case <-deadline:
			var zero E
			return zero, false
		}
	}
}

// logDurations is a slog.Handler that keeps the last duration each log
// message carried under each key, such as the viewer's "rendezvous
// answered" took=…: the breakdown of a connection's setup as the code
// itself measures it. A message it never saw reads as zero.
type logDurations struct {
	mu sync.Mutex
	d  map[string]time.Duration // guarded by mu; key: message + "\x00" + attribute
}

var _ slog.Handler = (*logDurations)(nil)

func (l *logDurations) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }

func (l *logDurations) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindDuration {
			l.mu.Lock()
			if l.d == nil {
				l.d = make(map[string]time.Duration)
			}
			l.d[r.Message+"\x00"+a.Key] = a.Value.Duration()
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *logDurations) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logDurations) WithGroup(string) slog.Handler      { return l }

func (l *logDurations) get(msg, key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d[msg+"\x00"+key]
}

// echoSize is the datagram size of the relay benchmark: the size of
// QUIC's packets until path MTU discovery finds room for more (RFC 9000's
// minimum).
const echoSize = 1200

// pings is how many round trips BenchmarkRelayThroughput times over each
// path.
const pings = 1000

// echoWindow is how many datagrams BenchmarkRelayThroughput keeps in
// flight.
const echoWindow = 64

// BenchmarkRelayThroughput measures a TURN relay against the direct path
// between the same two namespaces, in the same run: the rendezvous's
// embedded relay (pion/turn, in a process of its own) or coturn. A TURN
// client in h (the host's, pion/turn through rendezvous.Allocate, in this
// process) holds an allocation on the relay and echoes every datagram
// that reaches its relayed address; a socket in v (behind the viewer's
// NAT, permitted with Allocation.Permit) sends it 1200-byte datagrams.
// Beside it a plain socket in h echoes too, reached from another socket
// in v through NAT mappings punched by hand, over the same routers.
// Before the timed part: pings pings over each path, alternating
// (rtt-p50-us through the relay, direct-rtt-p50-us, added-rtt-us their
// difference), and half a second of the direct path at full speed
// (direct-MB/s). Each op then sends one datagram through the relay with
// echoWindow in flight: MB/s is the payload carried each way (the relay
// forwards twice that), loss-% the datagrams that never came back.
func BenchmarkRelayThroughput(b *testing.B) {
	for _, relay := range []string{"embedded", "coturn"} {
		b.Run(relay, func(b *testing.B) { benchRelay(b, relay) })
	}
}

func benchRelay(b *testing.B, relay string) {
	lab := newNATLab(b)
	server := labServers(b, lab, relay)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(relaySecret, "bench", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	listen := func(ns, addr string) *net.UDPConn {
		b.Helper()
		var c *net.UDPConn
		var err error
		lab.in(ns, func() { c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr))) })
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	turnUDP := listen("h", "0.0.0.0:0")
	alloc, err := rendezvous.Allocate(ctx, rendezvous.Relay{Server: server, Username: user, Password: pass}, turnUDP)
	if err != nil {
		b.Fatal(err)
	}
	defer alloc.Close()

	pub := listen("pub", "203.0.113.1:0")
	hostDirect := listen("h", "0.0.0.0:0")
	viewDirect, viewRelay := listen("v", "0.0.0.0:0"), listen("v", "0.0.0.0:0")
	// mapping is the public address of c as a server in pub sees it.
	mapping := func(c *net.UDPConn) *net.UDPAddr {
		b.Helper()
		if _, err := c.WriteTo([]byte("hi"), pub.LocalAddr()); err != nil {
			b.Fatal(err)
		}
		pub.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, from, err := pub.ReadFromUDP(make([]byte, 64))
		if err != nil {
			b.Fatal(err)
		}
		return from
	}
	hostPub, viewPub, viewRelayPub := mapping(hostDirect), mapping(viewDirect), mapping(viewRelay)
	if err := alloc.Permit(viewRelayPub.AddrPort()); err != nil {
		b.Fatal(err)
	}
	// Punch: the viewer's NAT opens to the host's mapping (its datagram
	// is dropped at the host's NAT), then the host's to the viewer's.
	viewDirect.WriteTo([]byte("punch"), hostPub)
	time.Sleep(10 * time.Millisecond)
	hostDirect.WriteTo([]byte("punch"), viewPub)
	viewDirect.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := viewDirect.ReadFrom(make([]byte, 64)); err != nil {
		b.Fatalf("punching the direct path: %v", err)
	}
	var echoes sync.WaitGroup
	defer echoes.Wait()
	defer alloc.Close()      // stops the relay's echo
	defer hostDirect.Close() // stops the direct one
	for _, c := range []net.PacketConn{alloc.PacketConn(), hostDirect} {
		echoes.Go(func() { echo(c) })
	}
	relayed := net.UDPAddrFromAddrPort(alloc.Addr())

	var direct, viaRelay []time.Duration
	buf := make([]byte, echoSize)
	for i := range pings {
		if d, err := ping(viewDirect, hostPub, buf, uint64(i)); err == nil {
			direct = append(direct, d)
		}
		if d, err := ping(viewRelay, relayed, buf, uint64(i)); err == nil {
			viaRelay = append(viaRelay, d)
		}
	}
	if len(direct) < pings/2 || len(viaRelay) < pings/2 {
		b.Fatalf("of %d pings, %d came back directly and %d through the relay", pings, len(direct), len(viaRelay))
	}
	rttDirect, rttRelay := median(direct), median(viaRelay)

	dp := newPump(viewDirect, hostPub)
	const directFor = 500 * time.Millisecond
	for start := time.Now(); time.Since(start) < directFor; {
		if err := dp.send(); err != nil {
			b.Fatal(err)
		}
	}
	directMBps := float64(dp.echoed.Load()*echoSize) / directFor.Seconds() / 1e6
	dp.stop()

	p := newPump(viewRelay, relayed)
	b.SetBytes(echoSize)
	for b.Loop() {
		if err := p.send(); err != nil {
			b.Fatal(err)
		}
	}
	p.stop()
	us := func(d time.Duration) float64 { return d.Seconds() * 1e6 }
	b.ReportMetric(us(rttRelay), "rtt-p50-us")
	b.ReportMetric(us(rttDirect), "direct-rtt-p50-us")
	b.ReportMetric(us(rttRelay-rttDirect), "added-rtt-us")
	b.ReportMetric(directMBps, "direct-MB/s")
	b.ReportMetric(100*float64(p.lost)/float64(p.sent), "loss-%")
}

// echo sends every datagram on c back where it came from, until c is
// closed.
func echo(c net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

// ping sends buf, numbered seq, to to and waits up to a second for it to
// come back.
func ping(c *net.UDPConn, to net.Addr, buf []byte, seq uint64) (time.Duration, error) {
	binary.BigEndian.PutUint64(buf, seq)
	in := make([]byte, len(buf)+1)
	start := time.Now()
	if _, err := c.WriteTo(buf, to); err != nil {
		return 0, err
	}
	c.SetReadDeadline(start.Add(time.Second))
	for {
		n, _, err := c.ReadFrom(in)
		if err != nil {
			return 0, err
		}
		if n == len(buf) && binary.BigEndian.Uint64(in) == seq {
			return time.Since(start), nil
		}
	}
}

// median is the middle value, or the mean of the two middle ones.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// pump sends datagrams of echoSize to an echo with up to echoWindow of
// them in flight. A datagram that has not come back when the window is
// full and nothing arrived for lossWait counts as lost: the whole window
// is written off (its late echoes are told apart by the epoch in each
// datagram) and refilled.
type pump struct {
	c      *net.UDPConn
	to     net.Addr
	buf    []byte
	echoes chan uint32 // the epoch of each echo received
	epoch  atomic.Uint32
	echoed atomic.Int64 // echoes of the current or earlier epochs received
	timer  *time.Timer
	done   chan struct{}

	inflight, sent, lost int // used by send only
}

const lossWait = 50 * time.Millisecond

func newPump(c *net.UDPConn, to net.Addr) *pump {
	p := &pump{c: c, to: to, buf: make([]byte, echoSize), echoes: make(chan uint32, 4*echoWindow),
		timer: time.NewTimer(time.Hour), done: make(chan struct{})}
	c.SetReadDeadline(time.Time{})
	go p.receive()
	return p
}

func (p *pump) receive() {
	defer close(p.done)
	in := make([]byte, 2048)
	for {
		n, err := p.c.Read(in)
		if err != nil {
			return
		}
		if n != echoSize {
			continue
		}
		p.echoed.Add(1)
		select {
		case p.echoes <- binary.BigEndian.Uint32(in[8:]):
		default:
		}
	}
}

// send waits for room in the window and sends one datagram.
func (p *pump) send() error {
	for p.inflight >= echoWindow {
		select {
		case e := <-p.echoes:
			if e == p.epoch.Load() {
				p.inflight--
			}
			continue
		default:
		}
		p.timer.Reset(lossWait)
		select {
		case e := <-p.echoes:
			if e == p.epoch.Load() {
				p.inflight--
			}
		case <-p.timer.C:
			p.lost += p.inflight
			p.inflight = 0
			p.epoch.Add(1)
		}
		p.timer.Stop()
	}
	binary.BigEndian.PutUint64(p.buf, uint64(p.sent))
	binary.BigEndian.PutUint32(p.buf[8:], p.epoch.Load())
	if _, err := p.c.WriteTo(p.buf, p.to); err != nil {
		return err
	}
	p.sent++
	p.inflight++
	return nil
}

// stop waits briefly for the datagrams in flight, counts those that did
// not return as lost, and stops the receiver (by a read deadline: the
// socket stays open).
func (p *pump) stop() {
	deadline := time.After(lossWait)
	for p.inflight > 0 {
		select {
		case e := <-p.echoes:
			if e == p.epoch.Load() {
				p.inflight--
			}
			continue
		case <-deadline:
		}
		break
	}
	p.lost += p.inflight
	p.inflight = 0
	p.c.SetReadDeadline(time.Now())
	<-p.done
	p.timer.Stop()
}
