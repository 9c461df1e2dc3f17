package viewerui

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session"
)

// heldInput is what one page holds down on the person's computer: the keys
// it pressed and has not released, and its mouse buttons.
type heldInput struct {
	keys    map[string]bool
	x, y    int // the pointer's last position
	buttons int // as MouseEvent.buttons
}

// input carries out one of the page's input commands (pointer, wheel, key,
// type_text). Nothing is sent unless the person has granted control: the
// page stops sending when it learns control ended, and what it sent before
// learning it is dropped here.
func (s *Server) input(p *localweb.Page, cmd command) error {
	if !s.v.InControl() {
		return nil
	}
	ctx := s.ctx
	switch cmd.Type {
	case "pointer":
		if err := s.v.MovePointer(ctx, cmd.X, cmd.Y, cmd.Buttons); err != nil {
			return err
		}
		s.hold(p, func(h *heldInput) { h.x, h.y, h.buttons = cmd.X, cmd.Y, cmd.Buttons })
	case "wheel":
		return s.v.SendInput(ctx, session.Input{Kind: session.InputWheel, DX: cmd.DX, DY: cmd.DY})
	case "key":
		if cmd.Key == "" {
			return errors.New("no key given")
		}
		if cmd.Down == nil {
			return s.v.PressKey(ctx, cmd.Key)
		}
		if err := s.v.SendInput(ctx, session.Input{Kind: session.InputKey, Key: cmd.Key, Down: *cmd.Down}); err != nil {
			return err
		}
		s.hold(p, func(h *heldInput) {
			if *cmd.Down {
				h.keys[cmd.Key] = true
			} else {
				delete(h.keys, cmd.Key)
			}
		})
	case "type_text":
		if cmd.Text == "" {
			return nil
		}
		return s.v.TypeText(ctx, cmd.Text)
	default:
		return fmt.Errorf("unknown command %q", cmd.Type)
	}
	return nil
}

// hold updates what page p holds down.
func (s *Server) hold(p *localweb.Page, f func(*heldInput)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.held[p]
	if h == nil {
		h = &heldInput{keys: make(map[string]bool)}
		s.held[p] = h
	}
	f(h)
}

// releaseHeld releases the keys and buttons page p left down (the helper
// closed the tab while holding Ctrl, say), so nothing stays stuck on the
// person's computer.
func (s *Server) releaseHeld(p *localweb.Page) {
	s.mu.Lock()
	h := s.held[p]
	delete(s.held, p)
	s.mu.Unlock()
	if h == nil || !s.v.InControl() {
		return // the host releases everything itself when control ends
	}
	for _, k := range slices.Sorted(maps.Keys(h.keys)) {
		if err := s.v.SendInput(s.ctx, session.Input{Kind: session.InputKey, Key: k}); err != nil {
			s.logger.Info("releasing a key the page held", "err", err)
			return
		}
	}
	if h.buttons != 0 {
		if err := s.v.MovePointer(s.ctx, h.x, h.y, 0); err != nil {
			s.logger.Info("releasing the buttons the page held", "err", err)
		}
	}
}
