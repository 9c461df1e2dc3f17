//go:build unix && !solaris && !aix

package invitations

import "syscall"

// lockFD takes (lock) or releases an exclusive flock(2) on fd. A flock
// belongs to the open file description, so it also excludes other
// descriptors of the same file in this process.
func lockFD(fd int, lock bool) error {
	how := syscall.LOCK_UN
	if lock {
		how = syscall.LOCK_EX
	}
	return syscall.Flock(fd, how)
}
