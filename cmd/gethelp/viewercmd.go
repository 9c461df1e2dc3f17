package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
	"github.com/gethelp/gethelp/viewer/viewerui"
)

func (m *Main) viewerOpen(ctx context.Context, args []string) error {
	fs := m.flags("viewer open", "viewer open [--password-file F | --password-stdin] [--name NAME] [--json] FILE")
	passwordFile := fs.String("password-file", "", "read the password from this file")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	name := fs.String("name", "", "your name as the person sees it (default helper_name in config, or user on host)")
	jsonMode := fs.Bool("json", false, "machine interface: JSON events on stdout, JSON commands on stdin")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; print the viewer page's URL instead")
	bandwidth := fs.String("bandwidth", "", "ask for this bandwidth level: low, medium, high or full (default: the person's setting)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	out := &jsonOut{w: m.Stdout}
	fail := func(err error) error {
		if *jsonMode {
			out.write(newErrorEvent(err))
		}
		return err
	}

	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail(fmt.Errorf("reading the invitation: %w", err))
	}
	inv, err := invitations.Parse(data)
	if err != nil {
		return fail(fmt.Errorf("invitation %s: %w", fs.Arg(0), err))
	}
	stdin := bufio.NewReader(m.Stdin)
	password, err := m.readViewerPassword(stdin, *passwordFile, *passwordStdin, *jsonMode, inv)
	if err != nil {
		return fail(err)
	}
	if !*jsonMode {
		fmt.Fprintf(m.Stdout, "Connecting to %s (invitation %s)...\n", inv.HostName, inv.ID)
	}
	cfg := viewer.Config{Invitation: inv, Password: password}
	return m.runViewer(ctx, cfg, viewerOptions{name: *name, json: *jsonMode, noBrowser: *noBrowser, bandwidth: *bandwidth}, stdin, out, fail)
}

// viewerOptions are the flags viewer open and viewer offer share.
type viewerOptions struct {
	name      string
	json      bool
	noBrowser bool
	bandwidth string
}

// runViewer connects with cfg (an invitation or an offer; the rest is
// filled in here), shows the helper's window and carries out the helper's
// commands until the session ends. fail reports a failure to connect.
func (m *Main) runViewer(ctx context.Context, cfg viewer.Config, o viewerOptions, stdin *bufio.Reader, out *jsonOut, fail func(error) error) error {
	if o.name == "" {
		o.name = m.cfg.HelperName
	}
	if o.name == "" {
		o.name = defaultName()
	}
	var logDir string
	if m.cfg.SessionLogs == nil || *m.cfg.SessionLogs {
		logDir = filepath.Join(m.stateDir, "logs")
	}
	// Events go to stdout and, once it exists, to the viewer page. The
	// page is made after the connection, so it is handed the events it
	// missed.
	var (
		uimu   sync.Mutex
		ui     *viewerui.Server
		missed []viewer.Event
	)
	cfg.Name = o.name
	cfg.LogDir = logDir
	cfg.FilesDir = filesDir(m.cfg, m.Getenv)
	cfg.Logger = m.logger
	cfg.OnEvent = func(e viewer.Event) {
		if o.json {
			out.write(e)
		} else {
			m.printViewerEvent(e)
		}
		uimu.Lock()
		defer uimu.Unlock()
		if ui != nil {
			ui.Publish(e)
		} else {
			missed = append(missed, e)
		}
	}
	v, err := viewer.Open(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	if !o.json {
		srv, err := viewerui.New(v, viewerui.Options{Logger: m.logger})
		if err != nil {
			v.Disconnect("the helper's gethelp could not start its window")
			return err
		}
		defer srv.Close()
		uimu.Lock()
		ui = srv
		for _, e := range missed {
			srv.Publish(e)
		}
		missed = nil
		uimu.Unlock()
		m.showPage(srv.URL(), o.noBrowser, "Watch the screen and chat at")
	}
	if o.bandwidth != "" {
		lv, err := screen.ParseLevel(o.bandwidth)
		if err == nil {
			err = v.SetBandwidth(lv)
		}
		if err != nil {
			m.report(out, o.json, err)
		}
	}
	known := []string{"chat", "disconnect", "bandwidth", "snapshot", "monitor", "request_control", "release_control", "type_text", "key", "pointer", "wheel", "send_file", "accept_file", "decline_file", "clipboard", "help"}
	go readCommands(stdin, o.json, known, func(c command) {
		var err error
		switch c.Type {
		case "chat":
			err = v.Chat(c.Text)
		case "disconnect":
			v.Disconnect("the helper disconnected")
		case "bandwidth":
			var lv screen.Level
			if lv, err = screen.ParseLevel(c.Level); err == nil {
				err = v.SetBandwidth(lv)
			}
		case "snapshot":
			err = v.Snapshot(c.Path)
		case "monitor":
			err = v.ShowMonitor(*c.Monitor)
		case "request_control":
			err = v.RequestControl()
		case "release_control":
			err = v.ReleaseControl()
		case "type_text":
			err = v.TypeText(ctx, c.Text)
		case "key":
			err = v.PressKey(ctx, c.Key)
		case "pointer":
			err = v.MovePointer(ctx, *c.X, *c.Y, c.Buttons)
		case "send_file":
			err = v.SendFile(ctx, c.Path)
		case "clipboard":
			err = v.SetClipboard(c.Text)
		case "accept_file":
			err = v.AcceptFile(c.ID)
		case "decline_file":
			err = v.DeclineFile(c.ID)
		case "wheel":
			err = v.SendInput(ctx, session.Input{Kind: session.InputWheel, DX: c.DX, DY: c.DY})
		case "help":
			fmt.Fprintln(m.Stderr, viewerHelp)
		}
		if err != nil {
			m.report(out, o.json, err)
		}
	}, func(err error) { m.report(out, o.json, err) })
	if err := v.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

const viewerHelp = `Type a message and press Enter to chat.
/bandwidth LEVEL         ask for low, medium, high or full
/monitor N               show monitor N (-1: all)
/snapshot FILE.png       save the screen as received
/control                 ask the person for control of their computer
/release                 give control back
/type TEXT               type TEXT on their computer (once they allowed control)
/key NAME                press a key: Escape, Enter, F5, a, ...
/send FILE               send a file (once the person allowed files)
/accept ID, /decline ID  answer a file the person offers
/quit                    disconnect`

// readViewerPassword gets the password: from a file, from stdin's first
// line, or typed at a terminal without echo. --json never prompts.
func (m *Main) readViewerPassword(stdin *bufio.Reader, file string, fromStdin, jsonMode bool, inv *invitations.Invitation) (string, error) {
	switch {
	case file != "" && fromStdin:
		return "", errors.New("use either --password-file or --password-stdin, not both")
	case file != "":
		return readPasswordFile(file)
	case fromStdin:
		line, err := stdin.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		if p := strings.TrimSpace(line); p != "" {
			return p, nil
		}
		return "", errors.New("no password on standard input")
	}
	f, ok := m.Stdin.(*os.File)
	if jsonMode || !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no password given: use --password-file FILE or --password-stdin (or run in a terminal to be asked)")
	}
	p, err := promptPassword(f, m.Stderr, fmt.Sprintf("Password for %s's invitation: ", inv.HostName))
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if p != "" {
		return p, nil
	}
	return "", errors.New("no password typed")
}

func (m *Main) printViewerEvent(e viewer.Event) {
	w := m.Stdout
	switch e.Type {
	case viewer.EventReconnecting:
		fmt.Fprintf(w, "Lost the connection to the person's computer (%s). Reconnecting for up to %d seconds...\n", e.Reason, int(viewer.ResumeWindow.Seconds()))
	case viewer.EventConnected:
		if e.Resumed {
			fmt.Fprintf(w, "Back, at %s%s, round trip %.1f ms. The session goes on.\n", e.Addr, pathText(e.Path), e.RTTms)
			break
		}
		fmt.Fprintf(w, "Connected to %s at %s%s, round trip %.1f ms.\n%s\n", e.Host, e.Addr, pathText(e.Path), e.RTTms, terminalHelp)
	case viewer.EventChat:
		if !e.Self {
			fmt.Fprintf(w, "[%s] %s\n", e.From, e.Text)
		}
	case viewer.EventSnapshot:
		fmt.Fprintf(w, "Saved the screen to %s.\n", e.Path)
	case viewer.EventSharing:
		if *e.Paused {
			fmt.Fprintln(w, "The person paused screen sharing.")
		} else {
			fmt.Fprintln(w, "The person resumed screen sharing.")
		}
	case viewer.EventBandwidth:
		fmt.Fprintf(w, "Bandwidth: %s.\n", e.Level)
	case viewer.EventFileOffer:
		fmt.Fprintf(w, "%s offers you a file: %s (%s). Type /accept %s to save it, or /decline %s.\n", e.From, e.Name, byteSize(e.Size), e.ID, e.ID)
	case viewer.EventFileReceived:
		fmt.Fprintf(w, "Received %s (%s, SHA-256 checked): %s\n", e.Name, byteSize(e.Size), e.Path)
	case viewer.EventFileSent:
		fmt.Fprintf(w, "The person received %s.\n", e.Name)
	case viewer.EventFileFailed:
		fmt.Fprintf(w, "File %s: %s.\n", e.Name, e.Reason)
	case viewer.EventConsent:
		fmt.Fprintf(w, "The person now allows: %s.\n", orDefault(strings.Join(e.Capabilities, ", "), "viewing only"))
	case viewer.EventControlRequested:
		fmt.Fprintln(w, "Asked the person for control; waiting for their answer.")
	case viewer.EventControlGranted:
		fmt.Fprintf(w, "The person gave you control (%s). They can take it back at any moment with ESC.\n", strings.Join(e.Capabilities, ", "))
	case viewer.EventControlDenied:
		fmt.Fprintf(w, "No control: %s.\n", orDefault(e.Reason, "the person declined"))
	case viewer.EventControlRevoked:
		fmt.Fprintf(w, "Control ended: %s.\n", orDefault(e.Reason, "the person took control back"))
	case viewer.EventDisconnected:
		fmt.Fprintf(w, "Disconnected: %s.\n", e.Reason)
		if e.Log != "" {
			fmt.Fprintf(w, "Session log: %s\n", e.Log)
		}
	}
}
