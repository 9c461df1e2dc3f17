//go:build windows

package windows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/gethelp/gethelp/host"
)

var (
	procSetCursorPos       = user32.NewProc("SetCursorPos")
	procLoadCursorW        = user32.NewProc("LoadCursorW")
	procCreateCursor       = user32.NewProc("CreateCursor")
	procCreateIconIndirect = user32.NewProc("CreateIconIndirect")
	procDestroyCursor      = user32.NewProc("DestroyCursor")
	procCreateBitmap       = gdi32.NewProc("CreateBitmap")
)

const idcIBeam = 32513

// pointerWatch follows a PointerSource in a test.
type pointerWatch struct {
	src   *Source
	last  host.Pointer // with the last shape seen
	calls int
}

// until calls Pointer until ok accepts the pointer (at once if the last
// one does), for at most 10 seconds.
func (pw *pointerWatch) until(t *testing.T, what string, ok func(host.Pointer) bool) host.Pointer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !ok(pw.last) {
		p, err := pw.src.Pointer(ctx)
		if err != nil {
			t.Fatalf("%s: never seen (last %+v, shape %v): %v", what, pw.last, shapeName(pw.last.Shape), err)
		}
		pw.calls++
		if p.Shape == nil {
			p.Shape = pw.last.Shape
		}
		pw.last = p
	}
	return pw.last
}

func shapeName(c *host.Cursor) string {
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("%dx%d hot %d,%d serial %#x", c.W, c.H, c.HotX, c.HotY, c.Serial)
}

// TestPointer moves the pointer as a program does (SetCursorPos) and as
// the person does (xdotool, on the X server beneath Wine), and checks
// that Pointer follows it, with the shape of the window under it, and
// that the captured image does not show it.
func TestPointer(t *testing.T) {
	src, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	vs := virtualScreen()
	pw := &pointerWatch{src: src}
	first := pw.until(t, "the first pointer", func(p host.Pointer) bool { return pw.calls > 0 })
	t.Logf("first: %d,%d visible %v shape %s", first.X, first.Y, first.Visible, shapeName(first.Shape))
	if first.Shape == nil && first.Visible {
		t.Error("the first call gave no shape")
	}

	// A program moves it.
	at := func(x, y int) func(host.Pointer) bool {
		return func(p host.Pointer) bool { return p.X == x && p.Y == y }
	}
	for _, pt := range [][2]int{{10, 20}, {vs.W - 1, vs.H - 1}, {0, 0}} {
		procSetCursorPos.Call(uintptr(vs.X+pt[0]), uintptr(vs.Y+pt[1]))
		pw.until(t, "the pointer moved by SetCursorPos", at(pt[0], pt[1]))
	}

	// The person moves it, over a window of the test's: the edit
	// control's I-beam.
	if os.Getenv("GETHELP_WINE_XDOTOOL") == "" {
		t.Log("xdotool is not at hand: the person's mouse is not tested")
		return
	}
	tw := openWindow(t, vs.X+100, vs.Y+100, 400, 200)
	ibeamHandle, _, _ := procLoadCursorW.Call(0, idcIBeam)
	ibeam := readCursor(ibeamHandle)
	if ibeam == nil {
		t.Fatal("cannot read the I-beam cursor")
	}
	x, y := tw.rect.X-vs.X+250, tw.rect.Y-vs.Y+120
	xdotool(t, "mousemove", "--sync", strconv.Itoa(vs.X+x), strconv.Itoa(vs.Y+y))
	p := pw.until(t, "the pointer over the edit control, an I-beam", func(p host.Pointer) bool {
		return p.X == x && p.Y == y && p.Shape != nil && p.Shape.Serial == ibeam.Serial
	})
	if !p.Visible {
		t.Error("the pointer over the edit control is not visible")
	}
	t.Logf("over the control: %s", shapeName(p.Shape))

	// The capture leaves the pointer out: around it, the control's
	// background only.
	src.Refresh()
	c, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bg := c.Image.Pix[c.Image.Stride*y+4*x : c.Image.Stride*y+4*x+4]
	for dy := -16; dy < 16; dy++ {
		row := c.Image.Row(y + dy)
		for dx := -16; dx < 16; dx++ {
			if o := 4 * (x + dx); !bytes.Equal(row[o:o+4], bg) {
				t.Fatalf("pixel %d,%d under the pointer is %x, the control's background %x: the image shows the pointer", x+dx, y+dy, row[o:o+4], bg)
			}
		}
	}

	// A move of the person's mouse, then one more.
	xdotool(t, "mousemove", "--sync", strconv.Itoa(vs.X+x+7), strconv.Itoa(vs.Y+y+3))
	pw.until(t, "the pointer moved by xdotool", at(x+7, y+3))

	// What a look costs (the pointer still: GetCursorInfo, and the
	// virtual screen's origin).
	src.pmu.Lock()
	start := preciseNow()
	const n = 1000
	for range n {
		src.pointerNow()
	}
	t.Logf("one look at the pointer: %v", (preciseNow()-start)/n)
	src.pmu.Unlock()

	src.Close()
	if _, err := src.Pointer(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Pointer after Close: %v, want net.ErrClosed", err)
	}
}

// TestReadCursor reads cursors made of known bitmaps: a monochrome one
// (AND and XOR masks) and a colour one with alpha.
func TestReadCursor(t *testing.T) {
	var mod windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &mod); err != nil {
		t.Fatal(err)
	}

	t.Run("monochrome", func(t *testing.T) {
		const w, h = 32, 32
		and, xor := make([]byte, w/8*h), make([]byte, w/8*h)
		bit := func(plane []byte, x, y int) bool { return plane[y*w/8+x/8]&(0x80>>(x%8)) != 0 }
		for y := range h {
			for x := range w {
				if (x+y)%3 == 0 {
					and[y*w/8+x/8] |= 0x80 >> (x % 8)
				}
				if (x*y)%5 == 0 {
					xor[y*w/8+x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		hc, _, err := procCreateCursor.Call(uintptr(mod), 3, 5, w, h, uintptr(unsafe.Pointer(&and[0])), uintptr(unsafe.Pointer(&xor[0])))
		if hc == 0 {
			t.Fatalf("CreateCursor: %v", err)
		}
		defer procDestroyCursor.Call(hc)
		c := readCursor(hc)
		if c == nil {
			t.Fatal("readCursor: nil")
		}
		if c.W != w || c.H != h || c.HotX != 3 || c.HotY != 5 {
			t.Fatalf("%dx%d hot %d,%d, want %dx%d hot 3,5", c.W, c.H, c.HotX, c.HotY, w, h)
		}
		bad := 0
		for y := range h {
			for x := range w {
				var want [4]byte
				switch a, x_ := bit(and, x, y), bit(xor, x, y); {
				case !a && x_:
					want = [4]byte{0xff, 0xff, 0xff, 0xff}
				case !a || x_:
					want = [4]byte{0, 0, 0, 0xff}
				}
				if got := c.Pix[4*(y*w+x) : 4*(y*w+x)+4]; !bytes.Equal(got, want[:]) && bad < 5 {
					bad++
					t.Errorf("pixel %d,%d: %x, want %x", x, y, got, want)
				}
			}
		}
	})

	t.Run("colour with alpha", func(t *testing.T) {
		const w, h = 16, 16
		bgra := make([]byte, 4*w*h)
		want := make([]byte, 4*w*h)
		for i := range w * h {
			r, g, b, a := byte(i), byte(3*i), byte(255-i), byte(i%4*64+63)
			bgra[4*i], bgra[4*i+1], bgra[4*i+2], bgra[4*i+3] = b, g, r, a
			want[4*i], want[4*i+1], want[4*i+2], want[4*i+3] = r, g, b, a
		}
		mask := make([]byte, w/8*h) // all 0: the colour decides
		color, _, err := procCreateBitmap.Call(w, h, 1, 32, uintptr(unsafe.Pointer(&bgra[0])))
		if color == 0 {
			t.Fatalf("CreateBitmap: %v", err)
		}
		defer procDeleteObject.Call(color)
		maskBmp, _, err := procCreateBitmap.Call(w, h, 1, 1, uintptr(unsafe.Pointer(&mask[0])))
		if maskBmp == 0 {
			t.Fatalf("CreateBitmap: %v", err)
		}
		defer procDeleteObject.Call(maskBmp)
		ii := iconInfo{XHot: 1, YHot: 2, Mask: maskBmp, Color: color}
		hc, _, err := procCreateIconIndirect.Call(uintptr(unsafe.Pointer(&ii)))
		if hc == 0 {
			t.Fatalf("CreateIconIndirect: %v", err)
		}
		defer procDestroyCursor.Call(hc)
		c := readCursor(hc)
		if c == nil {
			t.Fatal("readCursor: nil")
		}
		if c.W != w || c.H != h || c.HotX != 1 || c.HotY != 2 {
			t.Fatalf("%dx%d hot %d,%d, want %dx%d hot 1,2", c.W, c.H, c.HotX, c.HotY, w, h)
		}
		if !bytes.Equal(c.Pix, want) {
			t.Errorf("pixels\n%x\nwant\n%x", c.Pix[:32], want[:32])
		}
	})
}
