// Package windows shares a Windows desktop: a host.Source over GDI that is
// also a host.PointerSource, a host.Injector over SendInput, a
// host.KeyWatcher over a low-level keyboard hook (the person's ESC takes
// control back) and a host.WindowLister that reports the secure desktop,
// all through golang.org/x/sys/windows with no cgo. The platform code
// builds only for GOOS=windows; the pure parts (tile comparison, key
// names, SendInput's structures, which Escape counts, cursor pixels)
// build and are tested everywhere.
//
// Decisions:
//
//   - Capture is GDI: BitBlt (SRCCOPY|CAPTUREBLT, so layered windows are
//     included) from the screen DC into a top-down 32-bit DIB section,
//     whose memory is BGRX as screen.Image is, so a capture is a copy,
//     never a conversion. The image covers the virtual screen (all
//     monitors); image 0,0 is the virtual screen's top-left corner, which
//     may have negative screen coordinates. The pointer is not in the
//     image (BitBlt draws no cursor; capture programs that want it draw
//     it themselves with DrawIconEx, which this one does not): as on
//     X11, it goes to the helper as its own stream (Pointer), so that it
//     moves without a screen update.
//   - GDI has no damage, so Next polls: every Options.Interval (33 ms,
//     30 Hz) it captures into the DIB and compares it with the previous
//     image in 64×64 tiles (tiles.DiffCopy, shared with host/portal: one
//     memcmp per row of the screen while it is still, tile by tile only in
//     rows that differ), copies the changed tiles into the image and
//     returns them as Dirty. A still screen makes Next wait and return
//     nothing; its cost is the BitBlt and the comparison, 30 times a
//     second. The image is Go memory, not
//     the DIB, so an image kept past Close never points into freed GDI
//     memory. NextAfter (the sharer's pace) simply polls first at the
//     time given. Under Wine on Xvfb a 1024×768 BitBlt takes 1–4 ms and
//     the comparison 0.07 ms; a still 1920×1080 screen compares in 0.18
//     ms (BenchmarkDiffCopyStill).
//   - GDI is the capture path, and the only one. DXGI Desktop
//     Duplication (damage and move rects from the GPU, far cheaper, the
//     pointer's shape and position with it) is the faster path for later,
//     with GDI as the fallback; Wine stubs it, so it cannot be tested
//     here, and the package holds no untested DXGI code.
//   - The pointer (Source.Pointer) is polled with GetCursorInfo while the
//     sharer waits for it: every 16 ms while it moves, backing off to 200
//     ms once it has been still for a second, as host/x11 does. Its shape
//     is read when the cursor's handle changes (GetIconInfo, GetDIBits
//     into 32-bit rows) and converted to RGBA: colour cursors with alpha
//     as they are, others through their AND mask; pixels that Windows
//     inverts become black. Its serial is a hash of the pixels, so a
//     cursor shown again is known again. Under Wine on Xvfb one look
//     costs 0.02–0.3 ms (a round trip to wineserver; more on a busy
//     machine): at most 60 a second while the pointer moves, 5 while it
//     is still. Positions are relative to the virtual screen's corner as
//     of the last capture (GetSystemMetrics costs more than
//     GetCursorInfo under Wine).
//   - The process is made per-monitor DPI aware (once, by Open,
//     OpenInjector and WatchDesktop) so that pixels and positions are the
//     monitors' own; a manifest that set it first wins, which is fine.
//   - Input is SendInput. The pointer moves in absolute coordinates over
//     the virtual desktop (MOUSEEVENTF_ABSOLUTE|MOUSEEVENTF_VIRTUALDESK),
//     0..65535 across it, chosen so that the system's v*n>>16 gives back
//     the pixel. Buttons 1, 2, 3 and the X buttons 8, 9; the wheel is 120
//     (WHEEL_DELTA) per notch, vertical and horizontal. Named keys are
//     virtual keys with their scan codes and the extended flag where the
//     key has it. Characters, typed or pressed, are sent as characters
//     (KEYEVENTF_UNICODE), so any text types whatever the person's
//     layout, except that a character pressed while the helper holds
//     Control, Alt or Meta is pressed as the layout's virtual key
//     (VkKeyScanEx), so that shortcuts work. Every event carries
//     InjectedExtraInfo as its dwExtraInfo. The keys and buttons the helper
//     holds are remembered and released by ReleaseAll and Close. What is
//     typed never reaches the log.
//   - The secure desktop is Windows' secure-prompt rule. UAC prompts,
//     Ctrl+Alt+Del and the lock screen switch the input to the Winlogon
//     desktop, which a program of the person's can neither read nor send
//     input to: OpenInputDesktop fails (access denied) or names another
//     desktop than "Default". The host learns of it through its window
//     list: DesktopWatcher (a host.WindowLister) adds a synthetic
//     full-screen window of class SecureDesktopClass
//     ("Winlogon-SecureDesktop") while the input desktop is not the
//     person's, and signals Changed when that flips (it looks every 250
//     ms). The host's secure-prompt patterns must contain it:
//     DefaultSecurePrompts does. The host then blanks the helper's view
//     and drops input, as it does for polkit prompts on Linux, and shows
//     the helper the waiting frame. Meanwhile Next keeps waiting (BitBlt
//     fails or the image does not change) and returns the whole screen
//     once it reads it again; Inject returns ErrBlocked. Failing to tell
//     which desktop has the input counts as the secure desktop (fail
//     closed). Capturing the secure desktop itself (with admin_prompts
//     consent) needs a SYSTEM service in the session that switches its
//     thread to the input desktop: not done.
//   - ESC (KeyWatcher) is a low-level keyboard hook (WH_KEYBOARD_LL) on
//     a thread of its own (locked, with its own message loop, as Windows
//     calls the hook from the installing thread's GetMessage), installed
//     only while the helper has control (SetActive; WatchKeys returns it
//     active, as host/x11's, and the host turns it off until control is
//     granted), so that otherwise the person's typing never passes
//     through gethelp. The hook looks at Escape only, passes every key on
//     (CallNextHookEx; it never swallows one) and returns at once: it
//     signals a channel. Windows marks what SendInput sends as injected
//     (LLKHF_INJECTED), and the Injector puts InjectedExtraInfo in every
//     event it sends: the watcher ignores exactly the injected events
//     that carry it, gethelp's own, so the helper's Escape never takes
//     control back. Injected Escape without it counts as the person's: an
//     on-screen keyboard (osk.exe), a switch-access or speech tool, a key
//     remapper all send input with SendInput, and a person who types with
//     one must be able to take control back too. The cost of that choice
//     is that another program, or the helper clicking Escape on the
//     on-screen keyboard, can also end control: a revoke too many is
//     safe (the helper asks again), one too few is not. A keyboard's own
//     events are never injected, whatever their extra information.
//     Autorepeat (a held key repeats its press) counts once: a press while
//     the key is down and less than 1.5 s after the previous press is a
//     repeat, so a lost release cannot silence Escape for longer.
//   - What the hook cannot see, on Windows as documented (not verifiable
//     under Wine): keys on the secure desktop (UAC, Ctrl+Alt+Del; the
//     host blanks the view and drops input there anyway); keys to a
//     window of a higher integrity level (an elevated program) when the
//     host is not elevated, as UIPI keeps low-level hooks of lower
//     processes from them (the helper's input does not reach such a
//     window either); and a hook that takes longer than
//     LowLevelHooksTimeout is skipped, and since Windows 7 silently
//     removed, with no way to know: the hook's thread does nothing else,
//     so only a stalled process (paging, a debugger) could let that
//     happen. Stop control in the host's page and Disconnect always work.
//   - The window list also gives the visible top-level windows with
//     their class names, so the host's masked-window patterns work by
//     window class ("Chrome_WidgetWin_1", "KeePass…").
//   - The tests of the desktop run under Wine 8.0 on Xvfb (TestWine, from
//     linux). What Wine does and the tests rely on: WH_KEYBOARD_LL fires
//     for keys that reach Wine from the X server, which are not injected
//     (flags 0), so xdotool typing on the X display plays the person's
//     keyboard; SendInput's events reach the hook with LLKHF_INJECTED and
//     their dwExtraInfo intact; GetCursorInfo gives the position and the
//     handle of the cursor that Wine's windows set. xdotool runs from
//     within the Windows test binary: Wine starts a Unix program named on
//     drive Z: (but its process cannot be waited for, so the tests wait
//     for xdotool's effects). What Wine cannot show: a real keyboard's
//     path into the hook (Wine sees only X events, and only for its own
//     windows: X gives keys to the window with the focus, so a test
//     window has it), osk.exe, UIPI, the secure desktop, the hook's
//     timeout and removal, and any cursor but Wine's. Figures under Wine
//     on a loaded 2-core machine: xdotool's Escape reaches the Escapes
//     channel 6–12 ms after xdotool starts (a process and a connection to
//     the X server included), sooner than a letter reaches an edit
//     control (11–13 ms).
package windows
