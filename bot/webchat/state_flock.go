//go:build unix && !solaris && !aix

package webchat

import (
	"os"
	"syscall"
)

// lockState takes an exclusive flock(2) on f without waiting: another
// Server has the file open otherwise. The kernel releases it when f is
// closed or the process dies, even by kill -9.
func lockState(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
