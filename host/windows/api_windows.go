//go:build windows

package windows

import "golang.org/x/sys/windows"

// The Win32 calls the package makes that golang.org/x/sys/windows does not
// wrap, loaded from the system directory on first use.
var (
	user32 = windows.NewLazySystemDLL("user32.dll")
	gdi32  = windows.NewLazySystemDLL("gdi32.dll")

	procGetDC                         = user32.NewProc("GetDC")
	procReleaseDC                     = user32.NewProc("ReleaseDC")
	procGetSystemMetrics              = user32.NewProc("GetSystemMetrics")
	procEnumDisplayMonitors           = user32.NewProc("EnumDisplayMonitors")
	procGetMonitorInfoW               = user32.NewProc("GetMonitorInfoW")
	procSendInput                     = user32.NewProc("SendInput")
	procMapVirtualKeyW                = user32.NewProc("MapVirtualKeyW")
	procVkKeyScanExW                  = user32.NewProc("VkKeyScanExW")
	procGetKeyboardLayout             = user32.NewProc("GetKeyboardLayout")
	procOpenInputDesktop              = user32.NewProc("OpenInputDesktop")
	procCloseDesktop                  = user32.NewProc("CloseDesktop")
	procGetUserObjectInformationW     = user32.NewProc("GetUserObjectInformationW")
	procSetProcessDpiAwarenessContext = user32.NewProc("SetProcessDpiAwarenessContext")
	procSetProcessDPIAware            = user32.NewProc("SetProcessDPIAware")
	procGetWindowRect                 = user32.NewProc("GetWindowRect")
	procIsIconic                      = user32.NewProc("IsIconic")
	procSetWindowsHookExW             = user32.NewProc("SetWindowsHookExW")
	procUnhookWindowsHookEx           = user32.NewProc("UnhookWindowsHookEx")
	procCallNextHookEx                = user32.NewProc("CallNextHookEx")
	procGetMessageW                   = user32.NewProc("GetMessageW")
	procPeekMessageW                  = user32.NewProc("PeekMessageW")
	procPostThreadMessageW            = user32.NewProc("PostThreadMessageW")
	procGetCursorInfo                 = user32.NewProc("GetCursorInfo")
	procGetIconInfo                   = user32.NewProc("GetIconInfo")

	procCreateCompatibleDC = gdi32.NewProc("CreateCompatibleDC")
	procDeleteDC           = gdi32.NewProc("DeleteDC")
	procCreateDIBSection   = gdi32.NewProc("CreateDIBSection")
	procSelectObject       = gdi32.NewProc("SelectObject")
	procDeleteObject       = gdi32.NewProc("DeleteObject")
	procBitBlt             = gdi32.NewProc("BitBlt")
	procGdiFlush           = gdi32.NewProc("GdiFlush")
	procGetObjectW         = gdi32.NewProc("GetObjectW")
	procGetDIBits          = gdi32.NewProc("GetDIBits")
)

const (
	smXVirtualScreen  = 76
	smYVirtualScreen  = 77
	smCXVirtualScreen = 78
	smCYVirtualScreen = 79

	srcCopy    = 0x00CC0020
	captureBlt = 0x40000000 // include layered (translucent) windows

	dibRGBColors = 0
	biRGB        = 0

	monitorInfoFPrimary = 1

	uoiName = 2 // GetUserObjectInformation: the object's name

	desktopReadObjects = 0x0001

	mapvkVKToVSC = 0

	whKeyboardLL = 13 // SetWindowsHookEx: the low-level keyboard hook
	hcAction     = 0  // a hook's code: an event to look at
	wmQuit       = 0x0012
	pmNoRemove   = 0

	cursorShowing = 0x1 // CURSORINFO's flags: the cursor is shown

	// DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, a pseudo-handle.
	dpiPerMonitorAwareV2 = ^uintptr(3) // (DPI_AWARENESS_CONTEXT)-4
)

type bitmapInfoHeader struct {
	Size          uint32
	Width         int32
	Height        int32
	Planes        uint16
	BitCount      uint16
	Compression   uint32
	SizeImage     uint32
	XPelsPerMeter int32
	YPelsPerMeter int32
	ClrUsed       uint32
	ClrImportant  uint32
}

// bitmapInfo is BITMAPINFO with its one (unused) colour.
type bitmapInfo struct {
	Header bitmapInfoHeader
	Colors [1]uint32
}

type rect struct{ Left, Top, Right, Bottom int32 }

// monitorInfoEx is MONITORINFOEXW.
type monitorInfoEx struct {
	Size    uint32
	Monitor rect
	Work    rect
	Flags   uint32
	Device  [32]uint16
}

// kbdLLHookStruct is KBDLLHOOKSTRUCT, what a low-level keyboard hook is
// given.
type kbdLLHookStruct struct {
	VKCode    uint32
	ScanCode  uint32
	Flags     uint32 // llkhfInjected, llkhfUp, ...
	Time      uint32 // milliseconds, as GetTickCount
	ExtraInfo uintptr
}

// msg is MSG.
type msg struct {
	HWnd     uintptr
	Message  uint32
	WParam   uintptr
	LParam   uintptr
	Time     uint32
	Pt       point
	LPrivate uint32
}

type point struct{ X, Y int32 }

// cursorInfo is CURSORINFO.
type cursorInfo struct {
	Size   uint32
	Flags  uint32 // cursorShowing, CURSOR_SUPPRESSED
	Cursor uintptr
	Pos    point // the hot spot, in screen coordinates
}

// iconInfo is ICONINFO.
type iconInfo struct {
	Icon       int32 // a BOOL: TRUE for an icon, FALSE for a cursor
	XHot, YHot uint32
	Mask       uintptr // an HBITMAP: the AND mask, over the XOR mask when Color is 0
	Color      uintptr // an HBITMAP, or 0 for a monochrome cursor
}

// bitmapObject is BITMAP, as GetObject fills it.
type bitmapObject struct {
	Type       int32
	Width      int32
	Height     int32
	WidthBytes int32
	Planes     uint16
	BitsPixel  uint16
	Bits       uintptr
}

func getSystemMetrics(i int) int {
	r, _, _ := procGetSystemMetrics.Call(uintptr(i))
	return int(int32(r))
}

// call returns r1, or err (never nil) when r1 is 0. As with LazyProc.Call,
// pointers converted to uintptr in call's own argument list stay valid
// for the call.
//
//go:uintptrescapes
func call(p *windows.LazyProc, args ...uintptr) (uintptr, error) {
	r, _, err := p.Call(args...)
	if r == 0 {
		if err == nil || err == windows.ERROR_SUCCESS {
			err = windows.ERROR_GEN_FAILURE
		}
		return 0, err
	}
	return r, nil
}
