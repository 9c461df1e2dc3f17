package main

// summary reads the run directories that bench/run.sh leaves and prints,
// per run, a table of bytes, updates and latency by workload phase, then one
// RESULT line per run, RATIO lines comparing gethelp with VNC and PROBE
// lines. A run directory holds:
//
//	meta          key=value lines written by run.sh: label, kind (gethelp or
//	              vnc), clk_tck and /proc CPU tick snapshots
//	              cpu_<proc>_<when> for proc server, viewer, xvfb (or, with
//	              display=NAME, display: the Wayland compositor) and when
//	              start (just before the workload), end (just after it) and
//	              last (just before the disconnect), udp_rcvbuf_errors_<when>
//	phases.log    the output of shared/bench/workload.sh
//	probes.log    "PROBE <i> <unix_ms_before> <unix_ms_after>" per probe
//	viewer.jsonl  gethelp: the viewer's --json events
//	host.jsonl    gethelp: the host's --json events
//	udp.log       gethelp: the UDP relay's log, when it was used
//	cpu.log       "report cpusample" of the server, viewer and Xvfb, optional
//	relay.log     vnc: the TCP relay's log
//
// All times are compared on the machine's wall clock: the workload, the
// relays and both gethelp processes run on the same machine.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// phaseNames are the workload's phases, in order.
var phaseNames = []string{"idle", "typing", "scroll", "window-move", "fullscreen", "idle-end"}

// activePhases are those in which the screen changes; update latency is
// taken over them.
var activePhases = []string{"typing", "scroll", "window-move", "fullscreen"}

// initialGap is the silence that ends the first burst of screen data.
const initialGap = 100 * time.Millisecond

type phase struct {
	name       string
	start, end time.Time // inclusive, to the millisecond
}

// arrival is one piece of screen data reaching the viewer: a gethelp frame
// event, or one read of the relay from server to viewer.
type arrival struct {
	t       time.Time
	bytes   int64
	latency float64 // ms; NaN when unknown
}

type probe struct {
	before, after time.Time
}

// runData is what summary reads from one run directory.
type runData struct {
	dir, label, kind string
	meta             map[string]string
	phases           []phase
	updates          []arrival // sorted by time
	wire             []arrival // gethelp through the UDP relay; nil otherwise
	connected        time.Time // gethelp: the viewer's connected event; vnc: the RFB handshake done (see rfbHandshakeDone)
	tcpOpen          time.Time // vnc: the relay accepted the viewer's connection
	firstFrame       time.Time // gethelp: the viewer's first frame event; zero for vnc
	probes           []probe
	hostScreenBytes  int64       // from the host's disconnected event; -1 if none
	serverCPU        []cpuSample // from cpu.log, by time; nil without it
	hostUpdates      int
	problems         []string
}

// result is one RESULT line.
type result struct {
	label      string
	phaseBytes map[string]int64
	total      int64
	cpuMs      float64 // NaN if unknown
	p50, p95   float64 // NaN if not measured
	firstFrame float64 // ms; NaN if unknown
}

func summarize(dirs []string, w io.Writer) error {
	var results []result
	var probeLines []string
	for _, d := range dirs {
		r, err := readRun(d)
		if err != nil {
			return err
		}
		res := r.print(w)
		results = append(results, res)
		probeLines = append(probeLines, r.probeLine())
	}
	fmt.Fprintln(w)
	for _, res := range results {
		fmt.Fprintf(w, "RESULT %s", res.label)
		for _, p := range phaseNames {
			fmt.Fprintf(w, " %s=%d", p, res.phaseBytes[p])
		}
		fmt.Fprintf(w, " total_bytes=%d server_cpu_ms=%s latency_p50_ms=%s latency_p95_ms=%s first_frame_ms=%s\n",
			res.total, num(res.cpuMs, 0), num(res.p50, 1), num(res.p95, 1), num(res.firstFrame, 1))
	}
	byLabel := map[string]result{}
	for _, res := range results {
		byLabel[res.label] = res
	}
	ratio := func(a, b float64) string {
		if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
			return "na"
		}
		return strconv.FormatFloat(a/b, 'f', 3, 64)
	}
	for _, pair := range ratioPairs {
		g, ok1 := byLabel[pair.gethelp]
		v, ok2 := byLabel[pair.vnc]
		if !ok1 || !ok2 {
			continue
		}
		if pair.lossy {
			fmt.Fprintf(w, "RATIO %s/%s total_bytes=%s scroll=%s window-move=%s server_cpu_ms=%s\n", pair.gethelp, pair.vnc,
				ratio(float64(g.total), float64(v.total)),
				ratio(float64(g.phaseBytes["scroll"]), float64(v.phaseBytes["scroll"])),
				ratio(float64(g.phaseBytes["window-move"]), float64(v.phaseBytes["window-move"])),
				ratio(g.cpuMs, v.cpuMs))
		} else {
			fmt.Fprintf(w, "RATIO %s/%s total_bytes=%s server_cpu_ms=%s\n", pair.gethelp, pair.vnc,
				ratio(float64(g.total), float64(v.total)), ratio(g.cpuMs, v.cpuMs))
		}
	}
	for _, l := range probeLines {
		fmt.Fprintln(w, l)
	}
	return nil
}

// ratioPairs are the runs compared in RATIO lines: both lossless (total
// bytes and server CPU), or both lossy (also the scroll and window-move
// bytes). The Wayland runs (run.sh --wayland) compare with wayvnc, whose
// Tight sends JPEG only at TigerVNC's quality level 9 (or 0).
var ratioPairs = []struct {
	gethelp, vnc string
	lossy        bool
}{
	{"gethelp-full", "vnc-zrle", false},
	{"gethelp-high", "vnc-tight8", true},
	{"wayland-gethelp-full", "wayvnc-zrle", false},
	{"wayland-gethelp-high", "wayvnc-tight9", true},
}

// num formats v with prec decimals, or "na".
func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "na"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func readRun(dir string) (*runData, error) {
	r := &runData{dir: dir, hostScreenBytes: -1}
	var err error
	if r.meta, err = readMeta(filepath.Join(dir, "meta")); err != nil {
		return nil, err
	}
	r.label, r.kind = r.meta["label"], r.meta["kind"]
	if r.label == "" || (r.kind != "gethelp" && r.kind != "vnc") {
		return nil, fmt.Errorf("%s/meta: needs label= and kind=gethelp|vnc", dir)
	}
	if r.phases, err = readPhases(filepath.Join(dir, "phases.log")); err != nil {
		return nil, err
	}
	if r.probes, err = readProbes(filepath.Join(dir, "probes.log")); err != nil {
		return nil, err
	}
	if r.serverCPU, err = readCPULog(filepath.Join(dir, "cpu.log"), "server"); err != nil {
		return nil, err
	}
	switch r.kind {
	case "gethelp":
		if err := r.readViewer(filepath.Join(dir, "viewer.jsonl")); err != nil {
			return nil, err
		}
		if err := r.readHost(filepath.Join(dir, "host.jsonl")); err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "udp.log")); err == nil {
			lg, err := readByteLog(filepath.Join(dir, "udp.log"))
			if err != nil {
				return nil, err
			}
			r.wire = lg.s2c
		}
	case "vnc":
		lg, err := readByteLog(filepath.Join(dir, "relay.log"))
		if err != nil {
			return nil, err
		}
		r.updates, r.tcpOpen = lg.s2c, lg.firstOpen
		if lg.opens != 1 {
			r.problems = append(r.problems, fmt.Sprintf("the relay saw %d connections, expected 1", lg.opens))
		}
		var ok bool
		if r.connected, ok = rfbHandshakeDone(lg.c2s); !ok {
			r.connected = r.tcpOpen
			r.problems = append(r.problems, "the viewer's first reads are not RFB 3.8 with security None (12, 1, 1 bytes): first frame counted from the TCP connection")
		}
	}
	return r, nil
}

func readMeta(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			m[k] = v
		}
	}
	return m, nil
}

func unixMs(s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// readPhases reads the PHASE/END lines of workload.sh and checks that every
// phase is there, in order.
func readPhases(path string) ([]phase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []phase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 || (fs[0] != "PHASE" && fs[0] != "END") {
			continue
		}
		t, err := unixMs(fs[2])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		switch {
		case fs[0] == "PHASE":
			ps = append(ps, phase{name: fs[1], start: t})
		case len(ps) == 0 || ps[len(ps)-1].name != fs[1] || !ps[len(ps)-1].end.IsZero():
			return nil, fmt.Errorf("%s:%d: END %s without its PHASE", path, n, fs[1])
		default:
			ps[len(ps)-1].end = t
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
		if p.end.IsZero() {
			return nil, fmt.Errorf("%s: phase %s has no END (did the workload fail?)", path, p.name)
		}
	}
	if !slices.Equal(names, phaseNames) {
		return nil, fmt.Errorf("%s: phases %v, want %v", path, names, phaseNames)
	}
	return ps, nil
}

func readProbes(path string) ([]probe, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ps []probe
	for _, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) != 4 || fs[0] != "PROBE" {
			continue
		}
		b, err1 := unixMs(fs[2])
		a, err2 := unixMs(fs[3])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		ps = append(ps, probe{before: b, after: a})
	}
	return ps, nil
}

// event is the subset of gethelp's --json events that summary reads.
type event struct {
	Type        string    `json:"type"`
	Time        time.Time `json:"time"`
	Seq         uint32    `json:"seq"`
	Bytes       int64     `json:"bytes"`
	LatencyMs   float64   `json:"latency_ms"` // omitted when 0
	ScreenBytes int64     `json:"screen_bytes"`
	Updates     int       `json:"updates"`
	Code        string    `json:"code"`
	Message     string    `json:"message"`
	Reason      string    `json:"reason"`
}

func readEvents(path string) ([]event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

func (r *runData) readViewer(path string) error {
	evs, err := readEvents(path)
	if err != nil {
		return err
	}
	var lastSeq uint32
	for _, e := range evs {
		switch e.Type {
		case "connected":
			if r.connected.IsZero() {
				r.connected = e.Time
			}
		case "frame":
			if r.firstFrame.IsZero() {
				r.firstFrame = e.Time
			} else if e.Seq != lastSeq+1 {
				r.problems = append(r.problems, fmt.Sprintf("viewer frame seq %d follows %d", e.Seq, lastSeq))
			}
			lastSeq = e.Seq
			r.updates = append(r.updates, arrival{t: e.Time, bytes: e.Bytes, latency: e.LatencyMs})
		case "error":
			r.problems = append(r.problems, fmt.Sprintf("viewer error event: %s: %s", e.Code, e.Message))
		}
	}
	slices.SortStableFunc(r.updates, func(a, b arrival) int { return a.t.Compare(b.t) })
	if r.connected.IsZero() || r.firstFrame.IsZero() {
		return fmt.Errorf("%s: no connected or no frame event", path)
	}
	return nil
}

func (r *runData) readHost(path string) error {
	evs, err := readEvents(path)
	if err != nil {
		return err
	}
	for _, e := range evs {
		switch e.Type {
		case "disconnected":
			r.hostScreenBytes, r.hostUpdates = e.ScreenBytes, e.Updates
		case "error":
			r.problems = append(r.problems, fmt.Sprintf("host error event: %s: %s", e.Code, e.Message))
		}
	}
	if r.hostScreenBytes < 0 {
		r.problems = append(r.problems, "the host printed no disconnected event")
	}
	return nil
}

type relayLog struct {
	s2c, c2s  []arrival
	firstOpen time.Time
	opens     int
}

func readByteLog(path string) (relayLog, error) {
	var lg relayLog
	f, err := os.Open(path)
	if err != nil {
		return lg, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			return lg, fmt.Errorf("%s:%d: want 4 fields", path, n)
		}
		us, err1 := strconv.ParseInt(fs[0], 10, 64)
		b, err2 := strconv.ParseInt(fs[3], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return lg, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		t := time.UnixMicro(us)
		switch fs[2] {
		case "open":
			if lg.opens == 0 {
				lg.firstOpen = t
			}
			lg.opens++
		case "s2c":
			lg.s2c = append(lg.s2c, arrival{t: t, bytes: b, latency: math.NaN()})
		case "c2s":
			lg.c2s = append(lg.c2s, arrival{t: t, bytes: b, latency: math.NaN()})
		}
	}
	if err := sc.Err(); err != nil {
		return lg, err
	}
	slices.SortStableFunc(lg.s2c, func(a, b arrival) int { return a.t.Compare(b.t) })
	if lg.opens == 0 {
		return lg, fmt.Errorf("%s: no connection went through the relay", path)
	}
	return lg, nil
}

// rfbHandshakeDone finds when a VNC viewer finished the RFB handshake, the
// counterpart of gethelp's connected event, in the reads from the viewer of
// the connection's first seconds: with RFB 3.8 and security type None the
// viewer sends its ProtocolVersion (12 bytes), its security type (1) and,
// once the server said the security handshake succeeded, ClientInit (1).
// Each waits for a server message, so each is a read of its own. The time of
// the ClientInit read is returned; false if the reads do not look like that.
func rfbHandshakeDone(c2s []arrival) (time.Time, bool) {
	if len(c2s) < 3 || c2s[0].bytes != 12 || c2s[1].bytes != 1 || c2s[2].bytes != 1 {
		return time.Time{}, false
	}
	return c2s[2].t, true
}

type cpuSample struct {
	t     time.Time
	ticks int64
}

// readCPULog reads the samples of role from a cpusample log; none if the
// file does not exist.
func readCPULog(path, role string) ([]cpuSample, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ss []cpuSample
	for n, line := range strings.Split(string(data), "\n") {
		fs := strings.Fields(line)
		if len(fs) != 3 || fs[1] != role {
			continue
		}
		us, err1 := strconv.ParseInt(fs[0], 10, 64)
		ticks, err2 := strconv.ParseInt(fs[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
		ss = append(ss, cpuSample{time.UnixMicro(us), ticks})
	}
	return ss, nil
}

// cpuIn is the server's CPU time in p from the samples (the last sample at
// or before each end), NaN without samples covering p.
func (r *runData) cpuIn(p phase) float64 {
	at := func(t time.Time) (int64, bool) {
		i, _ := slices.BinarySearchFunc(r.serverCPU, t, func(s cpuSample, t time.Time) int { return s.t.Compare(t) })
		// i is the first sample after t, or at t.
		if i < len(r.serverCPU) && r.serverCPU[i].t.Equal(t) {
			return r.serverCPU[i].ticks, true
		}
		if i == 0 || i == len(r.serverCPU) {
			return 0, false
		}
		return r.serverCPU[i-1].ticks, true
	}
	a, ok1 := at(p.start)
	b, ok2 := at(p.end.Add(time.Millisecond))
	tck, err := strconv.ParseFloat(r.meta["clk_tck"], 64)
	if !ok1 || !ok2 || err != nil || tck <= 0 {
		return math.NaN()
	}
	return float64(b-a) * 1000 / tck
}

// in reports whether t falls in p: from its start to the end of its END
// millisecond.
func (p phase) in(t time.Time) bool {
	return !t.Before(p.start) && t.Before(p.end.Add(time.Millisecond))
}

// window is the whole workload: from the first PHASE to the last END.
func (r *runData) window() phase {
	return phase{name: "total", start: r.phases[0].start, end: r.phases[len(r.phases)-1].end}
}

type tally struct {
	bytes   int64
	count   int
	latency []float64
}

func count(as []arrival, p phase) tally {
	var t tally
	for _, a := range as {
		if p.in(a.t) {
			t.bytes += a.bytes
			t.count++
			if !math.IsNaN(a.latency) {
				t.latency = append(t.latency, a.latency)
			}
		}
	}
	return t
}

// percentile is the nearest-rank percentile of xs, NaN for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// cpuMs is the CPU time of proc between two snapshots, NaN if unknown.
func (r *runData) cpuMs(proc, from, to string) float64 {
	tck, err1 := strconv.ParseFloat(r.meta["clk_tck"], 64)
	a, err2 := strconv.ParseFloat(r.meta["cpu_"+proc+"_"+from], 64)
	b, err3 := strconv.ParseFloat(r.meta["cpu_"+proc+"_"+to], 64)
	if errors.Join(err1, err2, err3) != nil || tck <= 0 || a < 0 || b < a {
		return math.NaN()
	}
	return (b - a) * 1000 / tck
}

// initialBurstEnd is the last arrival after from before a silence of
// initialGap; zero if nothing arrived.
func initialBurstEnd(as []arrival, from time.Time) time.Time {
	var last time.Time
	for _, a := range as {
		if a.t.Before(from) {
			continue
		}
		if !last.IsZero() && a.t.Sub(last) >= initialGap {
			break
		}
		last = a.t
	}
	return last
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// probeWindow is how long after a probe its updates are looked for; run.sh
// spaces probes 0.7 s apart.
const probeWindow = 650 * time.Millisecond

// probeLatencies returns, per probe, the time from the probe's screen change
// to the first and to the last arrival within probeWindow (and before the
// next probe), and how many probes saw nothing.
func (r *runData) probeLatencies() (first, last []float64, missed int) {
	for i, p := range r.probes {
		end := p.after.Add(probeWindow)
		if i+1 < len(r.probes) && r.probes[i+1].before.Before(end) {
			end = r.probes[i+1].before
		}
		var f, l time.Time
		for _, a := range r.updates {
			if a.t.Before(p.after) || !a.t.Before(end) {
				continue
			}
			if f.IsZero() {
				f = a.t
			}
			l = a.t
		}
		if f.IsZero() {
			missed++
			continue
		}
		first = append(first, ms(f.Sub(p.after)))
		last = append(last, ms(l.Sub(p.after)))
	}
	return first, last, missed
}

func (r *runData) probeLine() string {
	first, last, missed := r.probeLatencies()
	return fmt.Sprintf("PROBE %s n=%d missed=%d first_p50_ms=%s first_p95_ms=%s last_p50_ms=%s last_p95_ms=%s",
		r.label, len(r.probes), missed, num(percentile(first, 50), 1), num(percentile(first, 95), 1),
		num(percentile(last, 50), 1), num(percentile(last, 95), 1))
}

// print writes the run's details and returns its RESULT.
func (r *runData) print(w io.Writer) result {
	res := result{label: r.label, phaseBytes: map[string]int64{}, cpuMs: r.cpuMs("server", "start", "end"),
		p50: math.NaN(), p95: math.NaN(), firstFrame: math.NaN()}
	win := r.window()
	fmt.Fprintf(w, "\n== %s ==  (%s)\n", r.label, r.meta["describe"])
	unit := "frames" // gethelp: frame events
	if r.kind == "vnc" {
		unit = "reads" // relay reads, not RFB updates
	}
	fmt.Fprintf(w, "  %-12s %7s %12s %8s %10s %8s %8s %8s\n", "phase", "secs", "bytes", unit, "kB/s", "lat_p50", "lat_p95", "cpu_ms")
	var active []float64
	row := func(name string, p phase, t tally) {
		secs := ms(p.end.Sub(p.start)) / 1000
		fmt.Fprintf(w, "  %-12s %7.2f %12d %8d %10.1f %8s %8s %8s\n", name, secs, t.bytes, t.count,
			float64(t.bytes)/1000/max(secs, 0.001), num(percentile(t.latency, 50), 1), num(percentile(t.latency, 95), 1), num(r.cpuIn(p), 0))
	}
	for _, p := range r.phases {
		t := count(r.updates, p)
		res.phaseBytes[p.name] = t.bytes
		if slices.Contains(activePhases, p.name) {
			active = append(active, t.latency...)
		}
		row(p.name, p, t)
	}
	tot := count(r.updates, win)
	res.total = tot.bytes
	row("total", win, tot)
	if r.kind == "gethelp" {
		res.p50, res.p95 = percentile(active, 50), percentile(active, 95)
		fmt.Fprintf(w, "  update latency (host capture -> applied in the viewer, %d frames in %s): p50 %s ms, p95 %s ms, max %s ms\n",
			len(active), strings.Join(activePhases, ", "), num(res.p50, 1), num(res.p95, 1), num(maxOf(active), 1))
	} else {
		fmt.Fprintf(w, "  update latency: na (see PROBE: the relay sees bytes, not which screen change they belong to)\n")
	}
	fmt.Fprintf(w, "  server CPU during the workload: %s ms (%s ms up to the disconnect, probes included)\n",
		num(res.cpuMs, 0), num(r.cpuMs("server", "start", "last"), 0))
	display, displayRole := "Xvfb", "xvfb"
	if name := r.meta["display"]; name != "" {
		display, displayRole = name, "display"
	}
	fmt.Fprintf(w, "  viewer CPU during the workload: %s ms; %s (shared display) CPU: %s ms\n",
		num(r.cpuMs("viewer", "start", "end"), 0), display, num(r.cpuMs(displayRole, "start", "end"), 0))
	if a, b := r.meta["load_start"], r.meta["load_end"]; a != "" && b != "" {
		fmt.Fprintf(w, "  machine load average (1 min) before and after the workload: %s, %s\n", a, b)
	}
	if r.kind == "gethelp" {
		res.firstFrame = ms(r.firstFrame.Sub(r.connected))
		burst := initialBurstEnd(r.updates, r.connected)
		fmt.Fprintf(w, "  first frame: %s ms from the viewer's connected event to its first frame event; initial burst complete after %s ms\n",
			num(res.firstFrame, 1), num(ms(burst.Sub(r.connected)), 1))
		all := count(r.updates, phase{start: time.Time{}, end: time.Unix(1<<40, 0)})
		fmt.Fprintf(w, "  whole session: viewer applied %d frames, %d bytes; the host's disconnected event says updates=%d screen_bytes=%d\n",
			all.count, all.bytes, r.hostUpdates, r.hostScreenBytes)
		if r.wire != nil {
			fmt.Fprintf(w, "  on the wire (UDP payload host->viewer through the relay: QUIC headers, encryption, acks, retransmissions):\n   ")
			for _, p := range r.phases {
				fmt.Fprintf(w, " %s=%d", p.name, count(r.wire, p).bytes)
			}
			wt := count(r.wire, win)
			fmt.Fprintf(w, " total=%d (%s x the frame bytes)\n", wt.bytes, num(float64(wt.bytes)/float64(max(tot.bytes, 1)), 3))
		}
		if a, err1 := strconv.Atoi(r.meta["udp_rcvbuf_errors_start"]); err1 == nil {
			if b, err2 := strconv.Atoi(r.meta["udp_rcvbuf_errors_last"]); err2 == nil && b != a {
				r.problems = append(r.problems, fmt.Sprintf("%d UDP datagrams dropped on this machine (RcvbufErrors) during the run", b-a))
			}
		}
	} else {
		burst := initialBurstEnd(r.updates, r.connected)
		if !burst.IsZero() {
			res.firstFrame = ms(burst.Sub(r.connected))
		}
		fmt.Fprintf(w, "  first frame: %s ms from the end of the RFB handshake (the viewer's ClientInit) to the end of the first burst of server data (first %v of silence); the handshake itself ended %s ms after the TCP connection\n",
			num(res.firstFrame, 1), initialGap, num(ms(r.connected.Sub(r.tcpOpen)), 1))
		all := count(r.updates, phase{start: time.Time{}, end: time.Unix(1<<40, 0)})
		fmt.Fprintf(w, "  whole session: %d bytes server->viewer in %d reads\n", all.bytes, all.count)
	}
	if v := r.meta["fidelity"]; v != "" {
		fmt.Fprintf(w, "  fidelity: %s\n", v)
	}
	if len(r.probes) > 0 {
		first, last, missed := r.probeLatencies()
		fmt.Fprintf(w, "  probes (%d full-screen colour changes after the workload): first data after p50 %s ms, last data p50 %s ms p95 %s ms, %d missed\n",
			len(r.probes), num(percentile(first, 50), 1), num(percentile(last, 50), 1), num(percentile(last, 95), 1), missed)
	}
	for _, p := range r.problems {
		fmt.Fprintf(w, "  WARNING: %s\n", p)
	}
	return res
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}
