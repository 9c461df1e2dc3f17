package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gethelp/gethelp/invitations"
)

// gethelp doctor checks, in a few seconds, what remote assistance needs on
// this computer and says what each finding means for the person: the
// gethelp counterpart of Windows Remote Assistance's firewall note. Checks
// run in parallel, each bounded by --timeout:
//
//   - policy: the administrator's policy in force (a broken file is a
//     finding, not a crash), and the user's settings when they do not parse;
//   - display (being helped only): can the screen be opened for sharing;
//   - rendezvous: does it answer STUN over UDP, and how fast;
//   - nat: the NAT type seen through the rendezvous (rendezvous.DetectNAT);
//   - ipv6: a global IPv6 address here, and the rendezvous over IPv6;
//   - relay: does a TURN relay answer at the rendezvous's address (the bot
//     embeds one there) and at --relay.
//
// The rendezvous comes from --rendezvous, else --invitation FILE, else the
// settings' rendezvous; without one its checks are skipped with the reason.
// Exit status: 0 when no finding is a problem (warnings allowed), 1 when
// one is, 2 for bad flags.

// Statuses of a finding, from best to worst (skipped is neither).
const (
	statusOK      = "ok"
	statusWarning = "warning"
	statusProblem = "problem"
	statusSkipped = "skipped"
)

// finding is one result of gethelp doctor.
type finding struct {
	Check   string         `json:"check"`  // policy, settings, display, rendezvous, nat, ipv6, relay
	Status  string         `json:"status"` // ok, warning, problem, skipped
	Fact    string         `json:"fact"`
	Meaning string         `json:"meaning"` // what it means for the person, one sentence
	Details map[string]any `json:"details,omitempty"`
}

// doctorReport is gethelp doctor's whole answer; --json prints it as one
// object.
type doctorReport struct {
	Type           string    `json:"type"` // "doctor"
	Time           time.Time `json:"time"`
	Side           string    `json:"side"` // "host" (being helped) or "helper"
	Rendezvous     string    `json:"rendezvous,omitempty"`
	RendezvousFrom string    `json:"rendezvous_from,omitempty"` // "--rendezvous", "invitation FILE", "settings FILE"
	NATType        string    `json:"nat_type,omitempty"`
	Problems       int       `json:"problems"`
	Warnings       int       `json:"warnings"`
	TookMS         int64     `json:"took_ms"`
	Findings       []finding `json:"findings"`
}

// errDoctorProblems makes gethelp doctor exit with status 1 once its
// report is out.
var errDoctorProblems = errors.New("gethelp doctor found problems")

// doctorOptions are gethelp doctor's flags, resolved.
type doctorOptions struct {
	rendezvous     string // host:port; "" for none
	rendezvousFrom string
	rendezvousErr  error // the invitation could not be read
	relay          string
	helper         bool
	timeout        time.Duration
}

func (m *Main) doctor(ctx context.Context, args []string) error {
	fs := m.flags("doctor", "doctor [--rendezvous HOST:PORT | --invitation FILE] [--relay HOST:PORT] [--helper] [--json] [--timeout 5s]")
	rv := fs.String("rendezvous", "", "HOST:PORT of the rendezvous to check (default: the invitation's, else rendezvous in config)")
	invPath := fs.String("invitation", "", "take the rendezvous from this invitation file")
	relay := fs.String("relay", "", "HOST:PORT of another TURN relay to check (the rendezvous's own address is always checked)")
	helper := fs.Bool("helper", false, "check this computer as a helper's (no screen to share)")
	jsonMode := fs.Bool("json", false, "print the report as one JSON object")
	timeout := fs.Duration("timeout", 5*time.Second, "the longest any check may take")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *timeout <= 0 {
		fs.Usage()
		return errUsage
	}
	o := doctorOptions{relay: *relay, helper: *helper, timeout: *timeout}
	switch {
	case *rv != "":
		o.rendezvous, o.rendezvousFrom = *rv, "--rendezvous"
	case *invPath != "":
		o.rendezvousFrom = "invitation " + *invPath
		o.rendezvous, o.rendezvousErr = readInvitationRendezvous(*invPath)
	case m.cfg.Rendezvous != "":
		path, _ := configPath(m.Getenv)
		o.rendezvous, o.rendezvousFrom = m.cfg.Rendezvous, "settings "+path
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep := m.runDoctor(ctx, o)
	rep.TookMS = time.Since(start).Milliseconds()
	if *jsonMode {
		(&jsonOut{w: m.Stdout}).write(rep)
	} else {
		printDoctor(m.Stdout, rep)
	}
	if rep.Problems > 0 {
		return errDoctorProblems
	}
	return nil
}

// readInvitationRendezvous reads the rendezvous an invitation names; an
// expired invitation still names it.
func readInvitationRendezvous(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the invitation: %w", err)
	}
	inv, err := invitations.Parse(data)
	if err != nil {
		return "", fmt.Errorf("invitation %s: %w", path, err)
	}
	if inv.Rendezvous == "" {
		return "", fmt.Errorf("invitation %s names no rendezvous", path)
	}
	return inv.Rendezvous, nil
}

// runDoctor runs every check, in parallel, until each is done or ctx ends.
func (m *Main) runDoctor(ctx context.Context, o doctorOptions) doctorReport {
	rep := doctorReport{Type: "doctor", Time: time.Now().UTC(), Side: "host", Rendezvous: o.rendezvous, RendezvousFrom: o.rendezvousFrom}
	if o.helper {
		rep.Side = "helper"
	}
	display := make(chan finding, 1)
	if o.helper {
		display <- finding{Check: "display", Status: statusSkipped, Fact: "not checked on the helper's side",
			Meaning: "Helping needs no screen to share, only a browser."}
	} else {
		go func() { display <- m.displayFinding(ctx) }()
	}
	network := make(chan networkResult, 1)
	go func() { network <- m.networkChecks(ctx, o) }()

	rep.Findings = append(rep.Findings, m.policyFindings(o.helper)...)
	rep.Findings = append(rep.Findings, <-display)
	nr := <-network
	rep.Findings = append(rep.Findings, nr.findings...)
	rep.NATType = nr.natType
	for _, f := range rep.Findings {
		switch f.Status {
		case statusProblem:
			rep.Problems++
		case statusWarning:
			rep.Warnings++
		}
	}
	return rep
}

// printDoctor writes the readable report: one line per finding (status,
// check, fact) with its meaning below, aligned.
func printDoctor(w io.Writer, rep doctorReport) {
	who := "this computer, to be helped"
	if rep.Side == "helper" {
		who = "this computer, to help others"
	}
	fmt.Fprintf(w, "gethelp doctor: %s", who)
	if rep.Rendezvous != "" {
		fmt.Fprintf(w, "; rendezvous %s (from %s)", rep.Rendezvous, rep.RendezvousFrom)
	}
	fmt.Fprint(w, "\n\n")
	indent := strings.Repeat(" ", 2+9+12)
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %-9s%-12s%s\n", f.Status, f.Check, f.Fact)
		if f.Meaning != "" {
			fmt.Fprintf(w, "%s%s\n", indent, f.Meaning)
		}
	}
	took := fmt.Sprintf("%d ms", rep.TookMS)
	if rep.TookMS >= 1000 {
		took = fmt.Sprintf("%.1f s", float64(rep.TookMS)/1000)
	}
	fmt.Fprintf(w, "\n%s, %s; checked in %s.\n", plural(rep.Problems, "problem"), plural(rep.Warnings, "warning"), took)
	if rep.Problems > 0 {
		fmt.Fprintln(w, "Fix the problems above, or show this report to whoever looks after this computer or network.")
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if n == 0 {
		return "no " + what + "s"
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ms formats a round trip in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func msValue(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
