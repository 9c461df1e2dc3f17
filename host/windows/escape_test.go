package windows

import "testing"

func TestOurs(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags uint32
		extra uintptr
		want  bool
	}{
		{"keyboard", 0, 0, false},
		{"keyboard release", llkhfUp, 0, false},
		{"keyboard with our marker (a driver's extra information)", 0, InjectedExtraInfo, false},
		{"gethelp's injector", llkhfInjected, InjectedExtraInfo, true},
		{"gethelp's injector, release", llkhfInjected | llkhfUp, InjectedExtraInfo, true},
		{"another program's SendInput (on-screen keyboard)", llkhfInjected, 0, false},
		{"another program's SendInput with other extra information", llkhfInjected, 0x1234, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ours(c.flags, c.extra); got != c.want {
				t.Errorf("ours(%#x, %#x) = %v, want %v", c.flags, c.extra, got, c.want)
			}
		})
	}
}

func TestEscState(t *testing.T) {
	type ev struct {
		flags uint32
		extra uintptr
		time  uint32
		want  bool
	}
	const inj, up, mark = llkhfInjected, llkhfUp, InjectedExtraInfo
	for _, c := range []struct {
		name string
		evs  []ev
	}{
		{"a press, and another", []ev{{0, 0, 100, true}, {up, 0, 180, false}, {0, 0, 300, true}, {up, 0, 350, false}}},
		{"held: autorepeat is one press", []ev{{0, 0, 1000, true}, {0, 0, 1500, false}, {0, 0, 1533, false}, {0, 0, 1566, false}, {up, 0, 1600, false}, {0, 0, 1700, true}}},
		{"held long: autorepeat chains", []ev{{0, 0, 0, true}, {0, 0, 1000, false}, {0, 0, 2000, false}, {0, 0, 3000, false}}},
		{"a lost release: a press long after counts", []ev{{0, 0, 0, true}, {0, 0, escRepeatWindow, true}}},
		{"the clock wraps", []ev{{0, 0, 0xffffff00, true}, {0, 0, 0x40, false}, {up, 0, 0x50, false}, {0, 0, 0x60, true}}},
		{"gethelp's Escape is never the person's", []ev{{inj, mark, 100, false}, {inj | up, mark, 110, false}}},
		{"gethelp's Escape leaves the person's alone", []ev{{0, 0, 100, true}, {inj | up, mark, 110, false}, {0, 0, 120, false}, {up, 0, 130, false}, {inj, mark, 140, false}, {0, 0, 150, true}}},
		{"another program's injected Escape counts", []ev{{inj, 0, 100, true}, {inj | up, 0, 110, false}, {inj, 0x99, 200, true}}},
		{"a release alone", []ev{{up, 0, 100, false}, {0, 0, 110, true}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s escState
			for i, e := range c.evs {
				if got := s.key(e.flags, e.extra, e.time); got != e.want {
					t.Errorf("event %d (flags %#x, extra %#x, time %d): new press %v, want %v", i, e.flags, e.extra, e.time, got, e.want)
				}
			}
		})
	}
}
