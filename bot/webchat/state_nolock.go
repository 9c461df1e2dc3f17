//go:build !unix || solaris || aix

package webchat

import "os"

// lockState does nothing where flock(2) is missing: two Servers on one
// state file are not detected.
func lockState(*os.File) error { return nil }

// syncDir does nothing: not every system can sync a directory. The
// header of a new state file may then be lost in a power cut, never
// torn.
func syncDir(string) error { return nil }
