package x11

import (
	"fmt"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

// xgb keeps the constructors of extension events and errors in
// package-wide maps (xgb.NewEventFuncs, xgb.NewErrorFuncs) that every
// connection's reading goroutine consults, and each extension's Init writes
// them. Calling Init while any connection might be decoding an event or an
// error is a data race. So the extensions are initialised once per process,
// on the first connection that has them, under extensions.mu; every later
// connection only records the major opcodes in its own Conn.Extensions (a
// map guarded by the Conn's ExtLock) after checking that its server numbers
// the extension's events and errors as the first one did — otherwise the
// shared tables would decode its events wrongly.

// extNames are the extensions the source uses. DAMAGE and XFIXES are
// required; without MIT-SHM it captures with plain GetImage, without RANDR
// it reports the whole screen as one monitor.
var extNames = []string{"MIT-SHM", "DAMAGE", "XFIXES", "RANDR"}

var extInit = map[string]func(*xgb.Conn) error{
	"MIT-SHM": shm.Init,
	"DAMAGE":  damage.Init,
	"XFIXES":  xfixes.Init,
	"RANDR":   randr.Init,
}

// extBase is how one server numbers an extension's requests, events and
// errors.
type extBase struct {
	opcode, firstEvent, firstError byte
}

var extensions struct {
	mu    sync.Mutex
	done  bool               // the package-wide tables are set
	bases map[string]extBase // as the tables were set, for the extensions present then
}

// initExtensions makes the extensions of extNames usable on c and returns
// the names of those that are. The first call that finds DAMAGE and XFIXES
// initialises the package-wide tables; it must run before any other
// connection in the process can receive events or errors of an extension
// (Open calls it before it starts reading events; tests open their Source
// before their own drawing connection).
func initExtensions(c *xgb.Conn) (map[string]bool, error) {
	found := make(map[string]extBase)
	cookies := make([]xproto.QueryExtensionCookie, len(extNames))
	for i, name := range extNames {
		cookies[i] = xproto.QueryExtension(c, uint16(len(name)), name)
	}
	for i, name := range extNames {
		r, err := cookies[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("x11: query extension %s: %w", name, err)
		}
		if r.Present {
			found[name] = extBase{r.MajorOpcode, r.FirstEvent, r.FirstError}
		}
	}
	for _, name := range []string{"DAMAGE", "XFIXES"} {
		if _, ok := found[name]; !ok {
			return nil, fmt.Errorf("x11: the X server lacks the %s extension", name)
		}
	}

	extensions.mu.Lock()
	defer extensions.mu.Unlock()
	usable := make(map[string]bool)
	if !extensions.done {
		extensions.bases = make(map[string]extBase)
		for _, name := range extNames {
			if _, ok := found[name]; !ok {
				continue
			}
			if err := extInit[name](c); err != nil {
				return nil, fmt.Errorf("x11: init extension %s: %w", name, err)
			}
			extensions.bases[name] = found[name]
			usable[name] = true
		}
		extensions.done = true
		return usable, nil
	}
	for _, name := range extNames {
		b, ok := found[name]
		if !ok {
			continue
		}
		first, ok := extensions.bases[name]
		if !ok || first.firstEvent != b.firstEvent || first.firstError != b.firstError {
			// Its events or errors would be misread (or not read at all).
			if name == "DAMAGE" || name == "XFIXES" {
				return nil, fmt.Errorf("x11: the X server numbers %s events differently from the first display this process opened; the X library (xgb) can serve only one numbering per process", name)
			}
			continue
		}
		c.ExtLock.Lock()
		c.Extensions[name] = b.opcode
		c.ExtLock.Unlock()
		usable[name] = true
	}
	return usable, nil
}
