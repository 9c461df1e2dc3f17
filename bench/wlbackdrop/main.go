// Command wlbackdrop is the desktop background of the Wayland benchmark
// (bench/workload-wayland.sh): it does on a wlroots compositor what
// xsetroot and `display -window root` do on X11 in shared/bench/workload.sh.
// It covers the output with a layer surface (zwlr_layer_shell_v1) in the
// bottom layer, above whatever background the compositor draws and below
// every window, and changes its picture on command, each change one commit
// of a buffer prepared beforehand, so the screen changes at once and whole.
//
// Why not sway's own `output * bg`: sway restarts swaybg for every change,
// and the output shows sway's grey between the old swaybg's end and the new
// one's first picture, a second full-screen change that X11's xsetroot
// does not make.
//
//	wlbackdrop [-socket PATH]
//
// PATH defaults to $WAYLAND_DISPLAY, in $XDG_RUNTIME_DIR unless absolute.
// It prints "ready WxH" once the compositor gave the surface its size,
// then reads commands, one a line, and answers each:
//
//	load ID solid #rrggbb                   ok ID
//	load ID mod MX MY #fg #bg               ok ID    (xsetroot -mod MX MY)
//	load ID ppm FILE                        ok ID    (binary PPM, 8 bits, the output's size)
//	show ID                                 shown ID
//
// "shown" comes once the compositor has applied the commit (a
// wl_display.sync round trip after it); the output shows it at its next
// refresh. It exits at the end of its input, and with status 1 and a
// message on stderr at the first error. Standard library and
// golang.org/x/sys only, no cgo, no libwayland.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	socket := ""
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "-socket" {
		socket, args = args[1], nil
	}
	if len(args) != 0 {
		fmt.Fprintln(os.Stderr, "usage: wlbackdrop [-socket PATH]")
		os.Exit(2)
	}
	if socket == "" {
		socket = os.Getenv("WAYLAND_DISPLAY")
		if socket == "" {
			fmt.Fprintln(os.Stderr, "wlbackdrop: $WAYLAND_DISPLAY is not set")
			os.Exit(2)
		}
		if !filepath.IsAbs(socket) {
			socket = filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), socket)
		}
	}
	if err := run(socket, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run connects to the compositor at socket and obeys the commands in in,
// answering on out, until in ends.
func run(socket string, in io.Reader, out io.Writer) error {
	b, err := openBackdrop(socket)
	if err != nil {
		return err
	}
	defer b.close()
	if _, err := fmt.Fprintf(out, "ready %dx%d\n", b.w, b.h); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var reply string
		switch {
		case f[0] == "load" && len(f) >= 3:
			var p *picture
			if p, err = b.parsePicture(f[2:]); err == nil {
				err = b.load(f[1], p)
			}
			reply = "ok " + f[1]
		case f[0] == "show" && len(f) == 2:
			err = b.show(f[1])
			reply = "shown " + f[1]
		default:
			err = errors.New("unknown command")
		}
		if err != nil {
			return fmt.Errorf("wlbackdrop: line %d (%s): %w", n, sc.Text(), err)
		}
		if _, err := fmt.Fprintln(out, reply); err != nil {
			return err
		}
	}
	return sc.Err()
}

// parsePicture makes the picture that a load command's arguments after
// its ID describe, at the surface's size.
func (b *backdrop) parsePicture(f []string) (*picture, error) {
	switch {
	case f[0] == "solid" && len(f) == 2:
		c, err := parseColour(f[1])
		if err != nil {
			return nil, err
		}
		return solid(b.w, b.h, c), nil
	case f[0] == "mod" && len(f) == 5:
		mx, err1 := strconv.Atoi(f[1])
		my, err2 := strconv.Atoi(f[2])
		fg, err3 := parseColour(f[3])
		bg, err4 := parseColour(f[4])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		if mx < 1 || mx > 16 || my < 1 || my > 16 {
			return nil, fmt.Errorf("mod %d %d: each must be 1 to 16", mx, my)
		}
		return modPattern(b.w, b.h, mx, my, fg, bg), nil
	case f[0] == "ppm" && len(f) == 2:
		p, err := readPPM(f[1])
		if err != nil {
			return nil, err
		}
		if p.w != b.w || p.h != b.h {
			return nil, fmt.Errorf("%s is %dx%d, the output %dx%d", f[1], p.w, p.h, b.w, b.h)
		}
		return p, nil
	}
	return nil, errors.New("want solid #rrggbb, mod MX MY #fg #bg or ppm FILE")
}

// backdrop is a background layer surface covering one output.
type backdrop struct {
	c                           *client
	compositor, shm, layerShell uint32
	surface, layerSurface       uint32
	w, h                        int
	configured                  bool
	pictures                    map[string]*picture
	shown                       *picture
}

// openBackdrop connects, makes the surface and waits for its size.
func openBackdrop(socket string) (*backdrop, error) {
	c, err := dial(socket)
	if err != nil {
		return nil, err
	}
	b := &backdrop{c: c, pictures: map[string]*picture{}}
	if err := b.setUp(); err != nil {
		c.close()
		return nil, err
	}
	return b, nil
}

func (b *backdrop) close() { b.c.close() }

type global struct {
	name, version uint32
}

func (b *backdrop) setUp() error {
	c := b.c
	globals := map[string]global{}
	registry := c.newID(func(op uint16, a *args) error {
		if op == 0 { // global(name uint, interface string, version uint)
			name, iface, version := a.uint(), a.string(), a.uint()
			globals[iface] = global{name, version}
		}
		return nil
	})
	if err := c.send(msg(1, 1).uint(registry)); err != nil { // wl_display.get_registry
		return err
	}
	if err := c.roundtrip(); err != nil {
		return err
	}
	bind := func(iface string, version uint32) (uint32, error) {
		g, ok := globals[iface]
		if !ok || g.version < version {
			return 0, fmt.Errorf("wlbackdrop: the compositor has no %s version %d (not wlroots?)", iface, version)
		}
		id := c.newID(nil)
		// wl_registry.bind(name uint, id new_id: interface string, version uint, id)
		return id, c.send(msg(registry, 0).uint(g.name).string(iface).uint(version).uint(id))
	}
	var err1, err2, err3 error
	b.compositor, err1 = bind("wl_compositor", 4)
	b.shm, err2 = bind("wl_shm", 1)
	b.layerShell, err3 = bind("zwlr_layer_shell_v1", 1)
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	b.surface = c.newID(nil)
	b.layerSurface = c.newID(b.layerSurfaceEvent)
	const layerBottom, anchorAll = 1, 1 | 2 | 4 | 8
	err := c.send(
		msg(b.compositor, 0).uint(b.surface), // wl_compositor.create_surface(id new_id)
		// zwlr_layer_shell_v1.get_layer_surface(id new_id, surface object, output object (null: the compositor's choice), layer uint, namespace string)
		msg(b.layerShell, 0).uint(b.layerSurface).uint(b.surface).uint(0).uint(layerBottom).string("wlbackdrop"),
		msg(b.layerSurface, 0).uint(0).uint(0), // set_size(0, 0): the anchors decide
		msg(b.layerSurface, 1).uint(anchorAll), // set_anchor
		msg(b.layerSurface, 2).int(-1),         // set_exclusive_zone(-1): under panels too
		msg(b.surface, 6),                      // wl_surface.commit
	)
	if err != nil {
		return err
	}
	for !b.configured {
		if err := c.dispatch(); err != nil {
			return err
		}
	}
	if b.w <= 0 || b.h <= 0 || b.w > 1<<14 || b.h > 1<<14 {
		return fmt.Errorf("wlbackdrop: the compositor gave the surface the size %dx%d", b.w, b.h)
	}
	return nil
}

func (b *backdrop) layerSurfaceEvent(op uint16, a *args) error {
	switch op {
	case 0: // configure(serial uint, width uint, height uint)
		serial, w, h := a.uint(), int(a.uint()), int(a.uint())
		if !b.configured { // later sizes are ignored: the bench never changes the output
			b.w, b.h, b.configured = w, h, true
		}
		return b.c.send(msg(b.layerSurface, 6).uint(serial)) // ack_configure(serial)
	case 1: // closed
		return errClosed
	}
	return nil
}

// picture is an image in the surface's size, as XRGB8888 (B, G, R, X
// bytes), and once loaded its wl_buffer.
type picture struct {
	w, h   int
	pix    []byte
	buffer uint32
	busy   bool // attached and not yet released by the compositor
}

// load puts p in shared memory, makes its buffer and names it id.
func (b *backdrop) load(id string, p *picture) error {
	if _, dup := b.pictures[id]; dup {
		return errors.New("the ID is taken")
	}
	f, err := shmFile(p.pix)
	if err != nil {
		return err
	}
	defer f.Close() // the compositor keeps its own mapping
	pool := b.c.newID(nil)
	p.buffer = b.c.newID(func(op uint16, _ *args) error {
		if op == 0 { // release
			p.busy = false
		}
		return nil
	})
	const xrgb8888 = 1
	err = b.c.send(
		msg(b.shm, 0).uint(pool).fd(int(f.Fd())).int(int32(len(p.pix))), // wl_shm.create_pool(id new_id, fd fd, size int)
		// wl_shm_pool.create_buffer(id new_id, offset int, width int, height int, stride int, format uint)
		msg(pool, 0).uint(p.buffer).int(0).int(int32(p.w)).int(int32(p.h)).int(int32(4*p.w)).uint(xrgb8888),
		msg(pool, 1), // wl_shm_pool.destroy: the buffer keeps the memory
	)
	if err != nil {
		return err
	}
	if err := b.c.roundtrip(); err != nil {
		return err
	}
	p.pix = nil // in the compositor's hands now
	b.pictures[id] = p
	return nil
}

// show attaches the picture and commits it, then waits until the
// compositor has applied the commit.
func (b *backdrop) show(id string) error {
	p, ok := b.pictures[id]
	if !ok {
		return errors.New("no picture with this ID was loaded")
	}
	if p == b.shown {
		return nil
	}
	// A buffer still held from an earlier show must not be written to or
	// attached again; it is released once a newer one was applied.
	deadline := time.Now().Add(5 * time.Second)
	for p.busy {
		if err := b.c.roundtrip(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("the compositor did not release the picture's buffer within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	err := b.c.send(
		msg(b.surface, 1).uint(p.buffer).int(0).int(0),                  // attach(buffer object, x int, y int)
		msg(b.surface, 9).int(0).int(0).int(int32(p.w)).int(int32(p.h)), // damage_buffer(x, y, width, height int)
		msg(b.surface, 6), // commit
	)
	if err != nil {
		return err
	}
	p.busy, b.shown = true, p
	return b.c.roundtrip()
}
