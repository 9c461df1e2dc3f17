package wlroots

import "context"

// PressEvdev presses and releases the key of evdev code on inj's virtual
// keyboard, as a physical keyboard would (the Injector itself never types
// KEY_ESC, 1): the tests' stand-in for the person's keyboard.
func PressEvdev(ctx context.Context, inj *Injector, code uint32) error {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	reqs := append(inj.keyReq(code, true), inj.keyReq(code, false)...)
	if err := inj.d.c.send(reqs...); err != nil {
		return err
	}
	return inj.d.c.roundtrip(ctx)
}

// SyncKeys returns once every binding event sway sent k before the call
// was handled.
func SyncKeys(ctx context.Context, k *SwayKeys) error {
	_, err := k.ic.request(ctx, ipcGetTree, nil)
	return err
}
