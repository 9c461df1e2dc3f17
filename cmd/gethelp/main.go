// Command gethelp is remote assistance: a person invites a helper, the
// helper connects straight to the person's computer over QUIC and TLS 1.3,
// they chat, and every session leaves a tamper-evident log.
//
// This is the only package that reads flags, config files and the
// environment; everything else gets plain values.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is one run of the command, with its standard streams and
// environment injectable for tests.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	cfg      Config
	cfgErr   error // why the settings did not load; only gethelp doctor runs on
	stateDir string
	logger   *slog.Logger
}

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

const usage = `gethelp: remote assistance you can trust.

Usage:
  gethelp host invite [flags]        invite someone you trust to help you
  gethelp host agent [flags]         stay reachable: the bot asks you here when someone offers help
  gethelp host serve [flags]         let the helpers your administrator allows offer you help
  gethelp viewer open [flags] FILE   help someone: open their invitation
  gethelp viewer offer [flags] HOST  offer help to a computer that allows your key
  gethelp viewer keygen [--show]     make (or show) your helper key, for offering help
  gethelp invitations list|resend|cancel
                                     past invitations (resend with a new password)
  gethelp log verify|show FILE       check or read a session log
  gethelp bot --config FILE          run the bot: /gethelp in chat, invitations by e-mail
  gethelp doctor [flags]             check this computer for remote assistance: policy, screen, network
  gethelp demo                       try it: a host and a helper on this computer
  gethelp version

Run "gethelp COMMAND -h" for a command's flags.
`

// Run runs the command line args and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.run(ctx, args)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errDoctorProblems):
		return 1 // the report says why
	default:
		fmt.Fprintf(m.Stderr, "gethelp: %s\n", userMessage(err))
		return 1
	}
}

func (m *Main) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errUsage
	}
	level := slog.LevelWarn
	if m.Getenv("GETHELP_DEBUG") != "" {
		level = slog.LevelDebug
	}
	m.logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	quietX11(m.logger)

	path, explicit := configPath(m.Getenv)
	cfg, err := loadConfig(path, explicit)
	if err != nil {
		if args[0] != "doctor" {
			return err
		}
		m.cfgErr = err // a finding of its own
	}
	m.cfg = cfg
	if m.stateDir, err = stateDir(cfg, m.Getenv); err != nil {
		return err
	}

	sub := func(want int) (string, []string, error) {
		if len(args) < want+1 {
			fmt.Fprint(m.Stderr, usage)
			return "", nil, errUsage
		}
		return args[1], args[2:], nil
	}
	switch args[0] {
	case "host":
		verb, rest, err := sub(1)
		if err != nil {
			return err
		}
		switch verb {
		case "invite":
			return m.hostInvite(ctx, rest)
		case "agent":
			return m.hostAgent(ctx, rest)
		case "serve":
			return m.hostServe(ctx, rest)
		}
		return m.unknown("host", verb)
	case "viewer":
		verb, rest, err := sub(1)
		if err != nil {
			return err
		}
		switch verb {
		case "open":
			return m.viewerOpen(ctx, rest)
		case "offer":
			return m.viewerOffer(ctx, rest)
		case "keygen":
			return m.viewerKeygen(rest)
		}
		return m.unknown("viewer", verb)
	case "invitations":
		verb, rest, err := sub(1)
		if err != nil {
			return err
		}
		return m.invitations(ctx, verb, rest)
	case "log":
		verb, rest, err := sub(1)
		if err != nil {
			return err
		}
		return m.log(verb, rest)
	case "demo":
		return m.demo(ctx, args[1:])
	case "bot":
		return m.botCmd(ctx, args[1:])
	case "doctor":
		return m.doctor(ctx, args[1:])
	case "version", "--version":
		fmt.Fprintln(m.Stdout, "gethelp", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "gethelp: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}

func (m *Main) unknown(cmd, verb string) error {
	fmt.Fprintf(m.Stderr, "gethelp: unknown command %q %q\n\n%s", cmd, verb, usage)
	return errUsage
}

// flags returns a FlagSet that prints its usage to stderr.
func (m *Main) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: gethelp %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning a flag error into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
