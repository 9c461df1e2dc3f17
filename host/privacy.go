package host

// Privacy: what the helper must never see.
//
// Decisions:
//
//   - Masked windows (Config.MaskedWindows, by window class) are painted
//     black in the captured image on the host, before encoding: their
//     pixels never reach the encoder, let alone the wire. The rectangles
//     are those of the windows' frames, so decorations go too.
//   - Secure prompts (Config.SecurePrompts: polkit agents, pinentry,
//     ssh-askpass) blank the helper's view entirely, as Windows does at a
//     UAC prompt: while one is on screen nothing is captured or sent, the
//     helper is told (a sharing message with privacy "secure_prompt") and
//     sees "Waiting for <person> to enter credentials", and the helper's
//     input is dropped, unless the person granted admin_prompts.
//   - Both are checked against the window list for every captured frame
//     before it is encoded, and the list is asked for fresh
//     (WindowLister.Windows answers for every window mapped before the
//     call), so a prompt that appears between two frames is never sent
//     even once. A window list that cannot be read fails closed: the view
//     is blanked.
//   - Changes of the list (a prompt going away) are watched too, so the
//     view comes back without waiting for the screen to change.

import (
	"context"
	"path"
	"strings"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/screen"
)

// Window is one top-level window on the person's screen.
type Window struct {
	Instance, Class string      // as the window system names it (X11 WM_CLASS)
	Rect            screen.Rect // in the source image's coordinates, frame included
}

// WindowLister reports the person's windows, for privacy. Implementations:
// host/x11.
type WindowLister interface {
	// Windows returns the viewable top-level windows, bottom to top, as
	// of the call: every window mapped before it is in the list.
	Windows(ctx context.Context) ([]Window, error)
	// Changed receives a value after the list changed.
	Changed() <-chan struct{}
}

// MatchClass reports whether w's class or instance matches one of the
// patterns (path.Match globs, case-insensitive).
func MatchClass(w Window, patterns []string) bool {
	for _, p := range patterns {
		p = strings.ToLower(p)
		for _, name := range []string{w.Instance, w.Class} {
			if name == "" {
				continue
			}
			if ok, _ := path.Match(p, strings.ToLower(name)); ok {
				return true
			}
		}
	}
	return false
}

// privacyView is what privacy asks of one frame.
type privacyView struct {
	secure bool          // a secure prompt is up: send nothing
	class  string        // the prompt's class, for the log
	masks  []screen.Rect // paint these black
	wins   []Window      // the window list it was made from; nil if none was read
}

// privacy reads the window list now. Without a WindowLister there is
// nothing to hide.
func (h *Host) privacy(ctx context.Context) privacyView {
	wl := h.cfg.Windows
	if wl == nil || (len(h.cfg.SecurePrompts) == 0 && len(h.cfg.MaskedWindows) == 0) {
		return privacyView{}
	}
	wins, err := wl.Windows(ctx)
	if err != nil {
		h.logger.Warn("cannot read the window list; blanking the view", "err", err)
		return privacyView{secure: true, class: "(window list unavailable)"}
	}
	v := privacyView{wins: wins}
	for _, w := range wins {
		switch {
		case MatchClass(w, h.cfg.SecurePrompts):
			v.secure = true
			v.class = w.Class
		case MatchClass(w, h.cfg.MaskedWindows):
			v.masks = append(v.masks, w.Rect)
		}
	}
	return v
}

// blankedLocked reports whether the helper's view must be blank now.
// h.mu must be held.
func (h *Host) blankedLocked() bool {
	return h.secure && !h.consent.caps[session.CapAdminPrompts]
}

// setSecure records whether a secure prompt is on screen, and reports
// whether the view is blanked.
func (h *Host) setSecure(on bool, class string) bool {
	h.mu.Lock()
	was := h.secure
	h.secure = on
	blank := h.blankedLocked()
	helper := ""
	if h.sess != nil {
		helper = h.sess.PeerName()
	}
	// Input stops while the prompt is up: what the helper holds is let go,
	// so no key stays pressed into the prompt.
	release := on && !was && blank && h.consent.caps[session.CapControl]
	if release {
		h.stopInputLocked()
	}
	h.mu.Unlock()
	if release {
		h.releaseAll()
	}
	if was != on {
		h.record("secure_prompt", map[string]any{"shown": on, "class": class, "helper_sees": !blank})
		privacy := ""
		if blank {
			privacy = session.PrivacySecurePrompt
		}
		h.emit(Event{Type: EventPrivacy, Privacy: privacy, Shown: on, Helper: helper, Text: class})
	}
	return blank
}

// mask paints the rects black in img (the source's image, in its
// coordinates) and returns the part of each inside img.
func mask(img *screen.Image, rects []screen.Rect) []screen.Rect {
	var out []screen.Rect
	for _, r := range rects {
		r = r.Intersect(img.Bounds())
		if r.Empty() {
			continue
		}
		out = append(out, r)
		for y := r.Y; y < r.Y+r.H; y++ {
			row := img.Row(y)[4*r.X : 4*(r.X+r.W)]
			clear(row)
		}
	}
	return out
}
