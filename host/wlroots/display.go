package wlroots

import (
	"context"
	"fmt"
	"sync"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/session/screen"
)

// Interface names and the versions this package speaks (it binds the
// lower of these and the compositor's).
const (
	ifaceOutput        = "wl_output"
	ifaceShm           = "wl_shm"
	ifaceSeat          = "wl_seat"
	ifaceXDGOutputs    = "zxdg_output_manager_v1"
	ifaceScreencopy    = "zwlr_screencopy_manager_v1"
	ifaceVirtPointer   = "zwlr_virtual_pointer_manager_v1"
	ifaceVirtKeyboard  = "zwp_virtual_keyboard_manager_v1"
	versionOutput      = 4
	versionXDGOutputs  = 3
	versionScreencopy  = 3
	versionVirtPointer = 2
)

// global is one global the compositor announced.
type global struct {
	name    uint32
	iface   string
	version uint32
}

// output is a wl_output and what the compositor told about it.
type output struct {
	global uint32 // its registry name
	id     uint32 // the wl_output object
	xdg    uint32 // its zxdg_output_v1, 0 without xdg-output

	name       string // wl_output.name (v4) or zxdg_output_v1.name
	gx, gy     int    // wl_output.geometry's position
	transform  int
	mw, mh     int // the current mode, in pixels
	scale      int
	lx, ly     int // xdg-output's logical position and size
	lw, lh     int
	hasLogical bool
}

// display is a connection with its registry: the globals, and the outputs
// kept up to date (hotplug included).
type display struct {
	c        *conn
	registry uint32
	xdgMgr   uint32 // bound zxdg_output_manager_v1, 0 if none

	mu      sync.Mutex // guards the fields below
	globals map[uint32]global
	outputs []*output // in the order the compositor announced them
	started bool      // the initial globals are known; new outputs are hotplugged
	changed chan struct{}
}

// openDisplay connects, reads the globals, binds every output (and
// xdg-output when offered) and waits until their state is known.
func openDisplay(ctx context.Context, runtimeDir, name string) (*display, error) {
	c, err := dialWayland(runtimeDir, name)
	if err != nil {
		return nil, err
	}
	d := &display{c: c, globals: map[uint32]global{}, changed: make(chan struct{}, 1)}
	d.registry = c.newID(d.registryEvent)
	if err := c.send(newRequest(1, 1).uint(d.registry)); err != nil {
		c.close()
		return nil, err
	}
	if err := c.roundtrip(ctx); err != nil {
		c.close()
		return nil, err
	}
	d.mu.Lock()
	if g, ok := d.findLocked(ifaceXDGOutputs); ok {
		d.xdgMgr = d.bindLocked(g, versionXDGOutputs, nil)
	}
	for _, o := range d.outputs {
		d.bindOutputLocked(o)
	}
	d.started = true
	d.mu.Unlock()
	// One round trip for the outputs' events, one more for the xdg-outputs
	// created while handling them (none here, but done events may trail).
	for range 2 {
		if err := c.roundtrip(ctx); err != nil {
			c.close()
			return nil, err
		}
	}
	return d, nil
}

func (d *display) close() { d.c.close() }

// find returns the global of iface, if the compositor offers it.
func (d *display) find(iface string) (global, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.findLocked(iface)
}

func (d *display) findLocked(iface string) (global, bool) {
	for _, g := range d.globals {
		if g.iface == iface {
			return g, true
		}
	}
	return global{}, false
}

// bindLocked binds g at the lower of version and g's version and returns
// the new object's id. A failed send shows up as a lost connection later.
func (d *display) bindLocked(g global, version uint32, h handler) uint32 {
	id := d.c.newID(h)
	d.c.send(newRequest(d.registry, 0).uint(g.name).string(g.iface).uint(min(version, g.version)).uint(id))
	return id
}

// bind binds g (see bindLocked).
func (d *display) bind(g global, version uint32, h handler) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.bindLocked(g, version, h)
}

func (d *display) registryEvent(op uint16, a *args) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch op {
	case 0: // global(name uint, interface string, version uint)
		g := global{name: a.uint(), iface: a.string(), version: a.uint()}
		d.globals[g.name] = g
		if g.iface == ifaceOutput {
			o := &output{global: g.name, scale: 1}
			d.outputs = append(d.outputs, o)
			if d.started {
				d.bindOutputLocked(o)
				d.notifyLocked()
			}
		}
	case 1: // global_remove(name uint)
		name := a.uint()
		delete(d.globals, name)
		for i, o := range d.outputs {
			if o.global == name {
				d.outputs = append(d.outputs[:i], d.outputs[i+1:]...)
				d.notifyLocked()
				break
			}
		}
	}
}

func (d *display) notifyLocked() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// bindOutputLocked binds o's wl_output and gets its xdg-output.
func (d *display) bindOutputLocked(o *output) {
	g := d.globals[o.global]
	o.id = d.bindLocked(g, versionOutput, func(op uint16, a *args) { d.outputEvent(o, op, a) })
	if d.xdgMgr != 0 {
		o.xdg = d.c.newID(func(op uint16, a *args) { d.xdgOutputEvent(o, op, a) })
		d.c.send(newRequest(d.xdgMgr, 1).uint(o.xdg).uint(o.id))
	}
}

func (d *display) outputEvent(o *output, op uint16, a *args) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch op {
	case 0: // geometry(x, y, physical_width, physical_height, subpixel int, make, model string, transform int)
		o.gx, o.gy = int(a.int()), int(a.int())
		a.int()
		a.int()
		a.int()
		a.string()
		a.string()
		o.transform = int(a.int())
	case 1: // mode(flags uint, width, height, refresh int)
		if a.uint()&1 != 0 { // current
			o.mw, o.mh = int(a.int()), int(a.int())
		}
	case 2: // done
		if d.started {
			d.notifyLocked()
		}
	case 3: // scale(factor int)
		o.scale = max(1, int(a.int()))
	case 4: // name(name string)
		o.name = a.string()
	}
}

func (d *display) xdgOutputEvent(o *output, op uint16, a *args) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch op {
	case 0: // logical_position(x, y int)
		o.lx, o.ly = int(a.int()), int(a.int())
		o.hasLogical = true
	case 1: // logical_size(width, height int)
		o.lw, o.lh = int(a.int()), int(a.int())
	case 3: // name(name string)
		if o.name == "" {
			o.name = a.string()
		}
	}
}

// placed is an output with its place in the shared image and in the
// compositor's layout.
type placed struct {
	out     *output
	rect    screen.Rect // in the image, in buffer pixels
	logical screen.Rect // in the compositor's layout (logical pixels)
}

// layout places the outputs: each at its logical position (less the
// layout's top-left corner) with its mode's size. With scale 1 and no
// rotation (the supported case) the image is the layout, pixel for pixel.
// It returns the places, the image's size and the layout's extent.
func (d *display) layout() (places []placed, w, h int, extent screen.Rect) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.outputs {
		if o.mw <= 0 || o.mh <= 0 {
			continue
		}
		lr := screen.Rect{X: o.gx, Y: o.gy, W: o.mw / o.scale, H: o.mh / o.scale}
		if o.hasLogical && o.lw > 0 && o.lh > 0 {
			lr = screen.Rect{X: o.lx, Y: o.ly, W: o.lw, H: o.lh}
		}
		places = append(places, placed{out: o, logical: lr})
		extent = extent.Union(lr)
	}
	for i := range places {
		p := &places[i]
		p.rect = screen.Rect{X: p.logical.X - extent.X, Y: p.logical.Y - extent.Y, W: p.out.mw, H: p.out.mh}
		w, h = max(w, p.rect.X+p.rect.W), max(h, p.rect.Y+p.rect.H)
	}
	return places, w, h, extent
}

// monitors turns places into host monitors; the first output is primary
// (Wayland has no primary output).
func monitors(places []placed) []host.Monitor {
	var ms []host.Monitor
	for i, p := range places {
		ms = append(ms, host.Monitor{Name: p.out.name, Rect: p.rect, Primary: i == 0})
	}
	return ms
}

// errMissing returns the error for a compositor lacking iface.
func errMissing(iface string) error {
	return fmt.Errorf("%w: the compositor does not offer %s", ErrUnsupported, iface)
}
