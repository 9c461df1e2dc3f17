package x11

import (
	"fmt"
	"slices"

	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// Monitors returns the monitors as RandR describes them (GetMonitors with
// RandR 1.5, else the active CRTCs), clipped to the screen. Without RandR,
// or when it lists none, or on an error, it returns one monitor covering
// the screen. When no monitor is primary, the first is made so. It asks the server again only after RandR or the root
// window reported a change.
func (s *Source) Monitors() []host.Monitor {
	s.wmu.Lock()
	stale, cached, w, h := s.monStale, s.monitors, s.rootW, s.rootH
	s.monStale = false
	s.wmu.Unlock()
	if !stale {
		return slices.Clone(cached)
	}
	bounds := screen.Rect{W: w, H: h}
	var mons []host.Monitor
	var err error
	switch {
	case !s.hasRR:
	case s.randr15:
		mons, err = s.monitors15()
	default:
		mons, err = s.monitorsCRTC()
	}
	if err != nil {
		s.log.Warn("cannot list monitors; reporting the whole screen as one", "error", s.xerr("list monitors", err))
	}
	clipped := mons[:0]
	for _, m := range mons {
		if m.Rect = m.Rect.Intersect(bounds); !m.Rect.Empty() {
			clipped = append(clipped, m)
		}
	}
	if len(clipped) == 0 {
		clipped = []host.Monitor{{Name: "screen", Rect: bounds, Primary: true}}
	}
	if !slices.ContainsFunc(clipped, func(m host.Monitor) bool { return m.Primary }) {
		clipped[0].Primary = true // none set (Xvfb sets none): the first, as desktops do
	}
	s.wmu.Lock()
	s.monitors = clipped
	s.wmu.Unlock()
	return slices.Clone(clipped)
}

// monitors15 lists the active monitors with RandR 1.5's GetMonitors.
func (s *Source) monitors15() ([]host.Monitor, error) {
	reply, err := randr.GetMonitors(s.conn, s.root, true).Reply()
	if err != nil {
		return nil, err
	}
	names := make([]xproto.GetAtomNameCookie, len(reply.Monitors))
	for i, m := range reply.Monitors {
		names[i] = xproto.GetAtomName(s.conn, m.Name)
	}
	mons := make([]host.Monitor, 0, len(reply.Monitors))
	for i, m := range reply.Monitors {
		name := ""
		if n, err := names[i].Reply(); err == nil {
			name = n.Name
		}
		mons = append(mons, host.Monitor{
			Name:    name,
			Rect:    screen.Rect{X: int(m.X), Y: int(m.Y), W: int(m.Width), H: int(m.Height)},
			Primary: m.Primary,
		})
	}
	return mons, nil
}

// monitorsCRTC lists the CRTCs that show something, named after their
// first output, for servers older than RandR 1.5.
func (s *Source) monitorsCRTC() ([]host.Monitor, error) {
	res, err := randr.GetScreenResourcesCurrent(s.conn, s.root).Reply()
	if err != nil {
		return nil, err
	}
	primary := randr.Output(0)
	if p, err := randr.GetOutputPrimary(s.conn, s.root).Reply(); err == nil {
		primary = p.Output
	}
	crtcs := make([]randr.GetCrtcInfoCookie, len(res.Crtcs))
	for i, c := range res.Crtcs {
		crtcs[i] = randr.GetCrtcInfo(s.conn, c, res.ConfigTimestamp)
	}
	var mons []host.Monitor
	for i := range res.Crtcs {
		info, err := crtcs[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("CRTC info: %w", err)
		}
		if info.Mode == 0 || info.Width == 0 || info.Height == 0 {
			continue
		}
		m := host.Monitor{Rect: screen.Rect{X: int(info.X), Y: int(info.Y), W: int(info.Width), H: int(info.Height)}}
		for j, o := range info.Outputs {
			if o == primary {
				m.Primary = true
			}
			if j == 0 {
				if oi, err := randr.GetOutputInfo(s.conn, o, res.ConfigTimestamp).Reply(); err == nil {
					m.Name = string(oi.Name)
				}
			}
		}
		mons = append(mons, m)
	}
	return mons, nil
}
