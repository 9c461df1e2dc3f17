package main

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/host/hostui"
	"github.com/gethelp/gethelp/session/screen"
	"github.com/gethelp/gethelp/viewer"
	"github.com/gethelp/gethelp/viewer/viewerui"
)

// demo runs a host and a helper on this computer, over real QUIC on
// loopback, so a newcomer can see the whole flow with nothing to set up.
// Lines typed go from the helper to the person; /switch changes sides.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs := m.flags("demo", "demo [--no-browser] [--source x11|synthetic]")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser; print the pages' URLs instead")
	source := fs.String("source", "", "screen to share: x11 or synthetic (default x11 when $DISPLAY is set)")
	if err := parse(fs, args); err != nil {
		return err
	}
	src, _, err := m.openSource(*source)
	if err != nil {
		return err
	}
	if src != nil {
		defer src.Close()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logDir := filepath.Join(m.stateDir, "logs")
	var mu sync.Mutex
	say := func(side, format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(m.Stdout, "%-9s| %s\n", side, fmt.Sprintf(format, a...))
	}
	var (
		uimu sync.Mutex
		hui  *hostui.Server
		vui  *viewerui.Server
	)
	h, err := host.New(host.Config{
		ListenAddr: "127.0.0.1:0",
		TTL:        time.Hour,
		HostName:   "Alice (demo)",
		LogDir:     logDir,
		Logger:     m.logger,
		Source:     src,
		Level:      screen.High,
		Monitor:    -1,
		OnEvent: func(e host.Event) {
			uimu.Lock()
			if hui != nil {
				hui.Publish(e)
			}
			uimu.Unlock()
			switch e.Type {
			case host.EventConnected:
				say("person", "%s connected from %s", e.Helper, e.Addr)
			case host.EventChat:
				say("person", "[%s] %s", e.From, e.Text)
			case host.EventDisconnected:
				say("person", "disconnected: %s; log: %s", e.Reason, e.Log)
			}
		},
	})
	if err != nil {
		return err
	}
	defer h.Close()
	inv := h.Invitation()
	say("person", "invitation %s for %s, password %s, listening on %s", inv.ID, inv.HostName, h.Password(), inv.Addresses[0])
	if hui, err = hostui.New(h, hostui.Options{Level: screen.High.String(), Logger: m.logger}); err != nil {
		return err
	}
	defer hui.Close()

	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(ctx) }()

	v, err := viewer.Open(ctx, viewer.Config{
		Invitation: inv,
		Password:   h.Password(),
		Name:       "Bob (demo helper)",
		LogDir:     logDir,
		Logger:     m.logger,
		OnEvent: func(e viewer.Event) {
			uimu.Lock()
			if vui != nil {
				vui.Publish(e)
			}
			uimu.Unlock()
			switch e.Type {
			case viewer.EventConnected:
				say("helper", "connected to %s at %s, password proved without sending it", e.Host, e.Addr)
			case viewer.EventChat:
				say("helper", "[%s] %s", e.From, e.Text)
			case viewer.EventDisconnected:
				say("helper", "disconnected: %s", e.Reason)
			}
		},
	})
	if err != nil {
		return err
	}
	srv, err := viewerui.New(v, viewerui.Options{Logger: m.logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	uimu.Lock()
	vui = srv
	uimu.Unlock()
	srv.Publish(viewer.Event{Type: viewer.EventConnected, Time: time.Now().UTC(), Host: v.HostName()})
	viewerDone := make(chan error, 1)
	go func() { viewerDone <- v.Run(ctx) }()

	fmt.Fprintln(m.Stdout)
	fmt.Fprintf(m.Stdout, "The person's window (what the one being helped sees): %s\n", hui.URL())
	m.showPage(srv.URL(), *noBrowser, "The helper's window (their screen, live):")
	fmt.Fprintln(m.Stdout, "\nType a message and press Enter: it goes from the helper to the person.")
	fmt.Fprintln(m.Stdout, "/switch types as the other side, /quit disconnects.")
	asHelper := true
	go readCommands(bufio.NewReader(m.Stdin), false, []string{"chat", "disconnect", "switch", "help"}, func(c command) {
		switch c.Type {
		case "chat":
			if strings.TrimSpace(c.Text) == "" {
				return
			}
			var err error
			if asHelper {
				err = v.Chat(c.Text)
			} else {
				err = h.Chat(c.Text)
			}
			if err != nil {
				say("demo", "%s", userMessage(err))
			}
		case "disconnect":
			v.Disconnect("the helper disconnected")
		case "switch":
			asHelper = !asHelper
			side := "the person"
			if asHelper {
				side = "the helper"
			}
			say("demo", "now typing as %s", side)
		case "help":
			say("demo", "/switch changes who you type as; /quit disconnects")
		}
	}, func(err error) { say("demo", "%s", userMessage(err)) })
	<-viewerDone
	cancel()
	return <-hostDone
}
