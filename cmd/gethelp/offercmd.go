package main

// Offering help unasked, like Windows' "Offer Remote Assistance": the
// helper makes an identity key (viewer keygen), the administrator lists it
// in the policy (offer_help), the person's computer listens (host serve),
// and the helper offers help (viewer offer), which the person accepts or
// declines.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/agentlink"
	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
)

// Files of offering help: the helper's in its config directory, the
// computer's key in the state directory.
const (
	helperKeyFile  = "helper.key"
	knownHostsFile = "known_hosts"
	serveKeyFile   = "serve-key.pem"
)

// helperDir is the helper's config directory: $XDG_CONFIG_HOME/gethelp,
// falling back to ~/.config/gethelp.
func helperDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "gethelp"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", errors.New("cannot find a place for the helper's key: set XDG_CONFIG_HOME or HOME")
		}
	}
	return filepath.Join(home, ".config", "gethelp"), nil
}

func (m *Main) helperKeyPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	dir, err := helperDir(m.Getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, helperKeyFile), nil
}

// viewerKeygen makes the helper's identity key and prints its public line.
func (m *Main) viewerKeygen(args []string) error {
	fs := m.flags("viewer keygen", "viewer keygen [--name NAME] [--force] [--key FILE] | --show")
	name := fs.String("name", "", "whose key it is, shown to the person you offer help to (default helper_name in config, or user@host)")
	force := fs.Bool("force", false, "replace an existing key (the old one stops working wherever it is allowed)")
	show := fs.Bool("show", false, "print the public key line of the existing key again")
	keyFlag := fs.String("key", "", "the key file (default $XDG_CONFIG_HOME/gethelp/helper.key)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	path, err := m.helperKeyPath(*keyFlag)
	if err != nil {
		return err
	}
	if *show {
		k, err := helperkey.Load(path)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no helper key at %s: create one with gethelp viewer keygen", path)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, k.Public())
		return nil
	}
	if *name == "" {
		*name = m.cfg.HelperName
	}
	if *name == "" {
		*name = keyOwner()
	}
	k, err := helperkey.Generate(*name)
	if err != nil {
		return err
	}
	if err := k.Save(path, *force); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Your helper key is in %s (keep it private). Its fingerprint is %s.\n", path, k.Public().Fingerprint())
	fmt.Fprintln(m.Stderr, "Give the line below to the administrator of each computer you will offer help to: they add it to offer_help: helpers in /etc/gethelp/policy.yaml.")
	fmt.Fprintln(m.Stdout, k.Public())
	return nil
}

// keyOwner names a new key: user@host.
func keyOwner() string {
	name := "helper"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	return name
}

// hostServe waits for offers of help from the helpers the policy lists.
func (m *Main) hostServe(ctx context.Context, args []string) error {
	var o inviteOptions
	fs := m.flags("host serve", "host serve [--listen ADDR] [--name NAME] [--source S] [--no-ui] [--json]")
	fs.StringVar(&o.listen, "listen", "", "UDP address to listen on (default every interface, the policy's port: 3480 unless offer_help: port says otherwise)")
	fs.StringVar(&o.name, "name", "", "your name as the helper sees it (default display_name in config, or user on host)")
	fs.BoolVar(&o.json, "json", false, "machine interface: JSON events on stdout, JSON commands on stdin")
	fs.StringVar(&o.source, "source", "", "screen to share: x11, wayland, windows, synthetic or none (as for host invite)")
	fs.StringVar(&o.bandwidth, "bandwidth", "high", "bandwidth level: low, medium, high or full (lossless)")
	fs.IntVar(&o.monitor, "monitor", -1, "share only this monitor (0, 1, ...); -1 lets the helper choose")
	fs.BoolVar(&o.noUI, "no-ui", false, "terminal only: no local web page")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser when someone offers help; print the page's URL instead")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	m.lightHost()
	pol, err := loadPolicy(m.Getenv)
	if err != nil {
		return err
	}
	adminPath, _ := adminPolicy(m.Getenv)
	if err := pol.checkServing(adminPath); err != nil {
		return policyError{err}
	}
	if o.listen == "" { // not the config's listen: helpers must know the port
		o.listen = ":" + strconv.Itoa(pol.offerPort())
	}
	_, o.name = m.hostDefaults(o.listen, o.name)
	level, err := screen.ParseLevel(o.bandwidth)
	if err != nil {
		return err
	}
	cert, err := agentlink.LoadOrCreateKey(filepath.Join(m.stateDir, serveKeyFile))
	if err != nil {
		return fmt.Errorf("this computer's key: %w", err)
	}
	src, srcName, err := m.openSource(o.source)
	if err != nil {
		return err
	}
	if src != nil {
		defer src.Close()
	}
	var logDir string
	if m.cfg.SessionLogs == nil || *m.cfg.SessionLogs {
		logDir = filepath.Join(m.stateDir, "logs")
	}

	out := &jsonOut{w: m.Stdout}
	var (
		page   hostPage
		opened bool // guarded by page's lock (publish's then): the page was opened for an offer
	)
	hc := host.Config{
		ListenAddr: o.listen,
		HostName:   o.name,
		LogDir:     logDir,
		Source:     src,
		Level:      level,
		Monitor:    o.monitor,
		Logger:     m.logger,
		Offers: &host.OfferConfig{
			Certificate: cert,
			Policy: func() (host.OfferPolicy, error) {
				p, err := loadPolicy(m.Getenv)
				return p.offerPolicy(), err
			},
		},
		OnEvent: func(e host.Event) {
			if o.json {
				out.write(e)
			} else {
				m.printServeEvent(e)
			}
			page.publish(e, func(ui *hostui.Server) {
				if e.Type == host.EventOffer && !opened {
					opened = true // the person must see the question; once is enough
					m.showPage(ui.URL(), o.noBrowser, "You can also answer on the page at")
				}
			})
		},
	}
	m.personSettings(&hc, pol)
	h, _, stop, err := m.startHost(hc, srcName, &page, !o.json && !o.noUI)
	if err != nil {
		return err
	}
	defer stop()
	addrs := make([]string, len(h.Invitation().Addresses))
	for i, a := range h.Invitation().Addresses {
		addrs[i] = a.String()
	}
	if o.json {
		out.write(map[string]any{
			"type": "serving", "time": time.Now().UTC(), "host_name": o.name, "addresses": addrs,
			"fingerprint": h.KeyFingerprint(), "log": h.LogPath(),
		})
	} else {
		fmt.Fprintf(m.Stdout, "Helpers your administrator allows can offer you help at %s.\n", strings.Join(addrs, ", "))
		fmt.Fprintf(m.Stdout, "This computer's key is %s (a helper may ask you to read it to them).\n", h.KeyFingerprint())
		fmt.Fprintln(m.Stdout, "You are asked before anyone connects.")
	}

	known := []string{"chat", "disconnect", "bandwidth", "pause", "resume", "grant", "deny", "revoke", "send_file", "accept_file", "decline_file", "consent", "help"}
	go readCommands(bufio.NewReader(m.Stdin), o.json, known, func(c command) {
		var err error
		switch {
		case c.Type == "help":
			fmt.Fprintln(m.Stderr, serveHelp)
		case c.Type == "consent":
			if c.Accept == nil {
				err = errors.New(`consent needs "accept": true or false`)
			} else {
				err = h.AnswerOffer(*c.Accept)
			}
		case c.Type == "chat" && !o.json && isYesNo(c.Text):
			// yes or no answers an offer; with none open it is chat.
			if err = h.AnswerOffer(isYes(c.Text)); errors.Is(err, host.ErrNoOffer) {
				if hostCommand(h, c) == nil {
					err = nil
				}
			}
		default:
			err = hostCommand(h, c)
		}
		if err != nil {
			m.report(out, o.json, err)
		}
	}, func(err error) { m.report(out, o.json, err) })

	return h.Run(ctx)
}

func isYesNo(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "no", "n":
		return true
	}
	return false
}

func isYes(s string) bool { return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "y") }

const serveHelp = `When someone offers help, type yes to let them in or no to decline.
` + hostHelp

// printServeEvent shows a host serve event in the terminal.
func (m *Main) printServeEvent(e host.Event) {
	w := m.Stdout
	switch e.Type {
	case host.EventWaiting:
		fmt.Fprintln(w, "Waiting for an offer of help. Press Ctrl-C to stop.")
	case host.EventOffer:
		fmt.Fprintf(w, "\n%s offers to help you (their key %s, from %s).\n", e.Helper, e.Fingerprint, e.Addr)
		fmt.Fprintln(w, "If you accept, they see your screen and chat with you; control of your mouse and keyboard needs another yes.")
		fmt.Fprintf(w, "Type yes to accept or no to decline (within %d minutes):\n", int(host.DefaultAnswerTimeout.Minutes()))
	case host.EventOfferDeclined:
		switch e.By {
		case session.ByDeny:
			fmt.Fprintf(w, "You declined %s's offer.\n", e.Helper)
		case session.ByHelper:
			fmt.Fprintf(w, "%s withdrew the offer.\n", e.Helper)
		default:
			fmt.Fprintf(w, "%s's offer was declined: %s.\n", e.Helper, e.Reason)
		}
	case host.EventOfferRefused:
		fmt.Fprintf(w, "Someone at %s offered help and was refused without asking you: %s.\n", e.Addr, e.Reason)
	case host.EventCancelled:
		fmt.Fprintln(w, "Stopped: offers of help are no longer taken.")
	default:
		m.printHostEvent(e)
	}
}

// viewerOffer offers help to a computer that lists this helper's key.
func (m *Main) viewerOffer(ctx context.Context, args []string) error {
	fs := m.flags("viewer offer", "viewer offer [--pin FINGERPRINT] [--name NAME] [--json] HOST[:PORT]")
	pinFlag := fs.String("pin", "", "the computer's key fingerprint (gethelp host serve shows it): refuse any other, and remember it")
	keyFlag := fs.String("key", "", "your helper key (default $XDG_CONFIG_HOME/gethelp/helper.key)")
	name := fs.String("name", "", "your name as the person sees it next to the one their administrator gave your key")
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
	target, hostName, err := offerTarget(fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	pin := ""
	if *pinFlag != "" {
		if pin, err = helperkey.ParseFingerprint(*pinFlag); err != nil {
			return fail(fmt.Errorf("--pin: %w", err))
		}
	}
	keyPath, err := m.helperKeyPath(*keyFlag)
	if err != nil {
		return fail(err)
	}
	key, err := helperkey.Load(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("you have no helper key (%s): create one with gethelp viewer keygen, and have the administrator of %s add it to its policy", keyPath, hostName))
	}
	if err != nil {
		return fail(err)
	}
	cert, err := key.Certificate()
	if err != nil {
		return fail(err)
	}
	dir, err := helperDir(m.Getenv)
	if err != nil {
		return fail(err)
	}
	hk := &hostKeys{kh: helperkey.KnownHosts{Path: filepath.Join(dir, knownHostsFile)}, host: target, pin: pin}
	if hk.known, err = hk.kh.Lookup(target); err != nil {
		return fail(err)
	}
	hk.onNew = func(fp, how string) {
		if *jsonMode {
			out.write(map[string]any{"type": "host_key", "time": time.Now().UTC(), "host": target, "fingerprint": fp, "how": how})
			return
		}
		if how == "pinned" {
			fmt.Fprintf(m.Stdout, "%s has the key you pinned, %s; gethelp remembers it.\n", target, fp)
			return
		}
		fmt.Fprintf(m.Stdout, "First contact with %s: its key is %s. gethelp remembers it (%s) and refuses the computer if its key ever changes; to be sure it is the right computer, ask the person to read you the key gethelp host serve shows them.\n", target, fp, hk.kh.Path)
	}
	addrs, err := resolveOffer(ctx, target)
	if err != nil {
		return fail(err)
	}
	if *jsonMode {
		out.write(map[string]any{"type": "offering", "time": time.Now().UTC(), "host": target, "fingerprint": key.Public().Fingerprint()})
	} else {
		fmt.Fprintf(m.Stdout, "Offering help to %s as %s. The person there is asked to accept; waiting for the answer...\n", target, key.Public().Label())
	}
	cfg := viewer.Config{Offer: &viewer.Offer{Host: target, Addresses: addrs, Certificate: cert, VerifyHost: hk.verify}}
	offerFail := func(err error) error {
		if werr := hk.saveErr(); werr != nil {
			m.logger.Warn("remembering the computer's key", "err", werr)
		}
		return fail(offerRefusal{host: target, key: key.Public(), err: err})
	}
	return m.runViewer(ctx, cfg, viewerOptions{name: *name, json: *jsonMode, noBrowser: *noBrowser, bandwidth: *bandwidth}, bufio.NewReader(m.Stdin), out, offerFail)
}

// offerTarget reads HOST[:PORT] and returns it as HOST:PORT (the name the
// helper's known hosts use) and the host alone.
func offerTarget(arg string) (target, hostName string, err error) {
	arg = strings.TrimSpace(arg)
	h, p, err := net.SplitHostPort(arg)
	if err != nil {
		// No port: a name, an IPv4 address, or an IPv6 one with or
		// without brackets.
		h, p = strings.TrimSuffix(strings.TrimPrefix(arg, "["), "]"), strconv.Itoa(defaultOfferPort)
	}
	port, perr := strconv.ParseUint(p, 10, 16)
	if h == "" || perr != nil || port == 0 || strings.ContainsAny(h, " \t/[]#") {
		return "", "", fmt.Errorf("%q is not a computer to offer help to: give HOST or HOST:PORT", arg)
	}
	h = strings.ToLower(h)
	return net.JoinHostPort(h, strconv.Itoa(int(port))), h, nil
}

// resolveOffer returns the addresses of target (HOST:PORT).
func resolveOffer(ctx context.Context, target string) ([]netip.AddrPort, error) {
	h, p, _ := net.SplitHostPort(target)
	port, _ := strconv.ParseUint(p, 10, 16)
	if a, err := netip.ParseAddr(h); err == nil {
		return []netip.AddrPort{netip.AddrPortFrom(a.Unmap(), uint16(port))}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", h)
	if err != nil {
		return nil, fmt.Errorf("cannot find %s: %w", h, err)
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, a := range ips {
		out = append(out, netip.AddrPortFrom(a.Unmap(), uint16(port)))
	}
	return out, nil
}

// hostKeys checks the computer's key during the handshake: the pin when
// the helper gave one, else the key remembered for the computer, else the
// first key it answers with (trust on first use), which is remembered.
type hostKeys struct {
	kh    helperkey.KnownHosts
	host  string
	pin   string               // --pin, as helperkey.Fingerprint writes it
	onNew func(fp, how string) // a key was remembered: how is "first_contact" or "pinned"

	mu    sync.Mutex
	known string // guarded by mu: the key remembered for host ("" when none)
	werr  error  // guarded by mu: remembering failed
}

// errPinned: the computer's key is not the one --pin names.
var errPinned = errors.New("the computer's key is not the one you pinned")

func (k *hostKeys) verify(spki []byte) error {
	fp := helperkey.Fingerprint(spki)
	k.mu.Lock()
	defer k.mu.Unlock()
	how := "first_contact"
	switch {
	case k.pin != "" && fp != k.pin:
		return fmt.Errorf("%w: %s answered with the key %s, not %s; nothing was sent to it", errPinned, k.host, fp, k.pin)
	case k.pin != "" && fp == k.known:
		return nil
	case k.pin != "":
		how = "pinned"
	case k.known == fp:
		return nil
	case k.known != "":
		_, err := k.kh.Check(k.host, fp)
		if err == nil { // changed back on disk meanwhile
			return nil
		}
		return err
	}
	k.known = fp
	if err := k.kh.Remember(k.host, fp); err != nil {
		k.werr = err
	}
	k.onNew(fp, how)
	return nil
}

func (k *hostKeys) saveErr() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.werr
}

// offerRefusal is an offer that did not get through, in the helper's
// words.
type offerRefusal struct {
	host string
	key  helperkey.PublicKey
	err  error
}

func (e offerRefusal) Error() string { return e.err.Error() }
func (e offerRefusal) Unwrap() error { return e.err }

func (e offerRefusal) userWords() string {
	var re *session.RejectError
	if errors.As(e.err, &re) {
		switch re.Code {
		case session.RejectNotAllowed:
			return fmt.Sprintf("not allowed: %s does not list your helper key (%s); ask its administrator to add the line gethelp viewer keygen --show prints", e.host, e.key.Fingerprint())
		case session.RejectDeclined:
			return "declined: " + orDefault(re.Reason, "the person declined your offer of help")
		case session.RejectPolicy:
			return fmt.Sprintf("policy off: offering help is turned off on %s by its administrator's policy", e.host)
		case session.RejectBusy:
			return fmt.Sprintf("busy: the person at %s is already being helped, or asked, by someone else; try again later", e.host)
		case session.RejectCancelled:
			return fmt.Sprintf("withdrawn: %s", orDefault(re.Reason, "the offer ended before the person answered"))
		}
		return fmt.Sprintf("%s refused: %s", e.host, userMessage(e.err))
	}
	switch {
	case errors.Is(e.err, helperkey.ErrHostKeyChanged), errors.Is(e.err, errPinned):
		return userMessage(e.err)
	case errors.Is(e.err, session.ErrUnreachable):
		return fmt.Sprintf("could not reach %s: is gethelp host serve running there, and is UDP allowed to its port?", e.host)
	}
	return userMessage(e.err)
}
