//go:build unix

package invitations

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, waiting for it.
func lockFile(f *os.File) error {
	for {
		err := lockFD(int(f.Fd()), true)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// unlockFile releases the lock on f. Closing f releases it too.
func unlockFile(f *os.File) {
	lockFD(int(f.Fd()), false)
}

// processAlive reports whether a process with this pid exists. Signal 0
// checks without sending anything; EPERM means it exists but belongs to
// someone else.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false // 0 and negative pids name process groups, not a process
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
