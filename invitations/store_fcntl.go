//go:build solaris || aix

package invitations

import (
	"io"
	"syscall"
)

// lockFD takes (lock) or releases an exclusive fcntl(2) lock on the whole
// file, as the syscall package has no flock here. An fcntl lock belongs to
// the process; Store.lock's mutex excludes the goroutines of this process.
func lockFD(fd int, lock bool) error {
	l := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: io.SeekStart}
	if lock {
		l.Type = syscall.F_WRLCK
	}
	return syscall.FcntlFlock(uintptr(fd), syscall.F_SETLKW, &l)
}
