package portal

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr makes gst-launch-1.0 die with the host, however the host ends.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// growPipe enlarges the frames' pipe to 1 MiB (the most an unprivileged
// process may ask, by default): a 1080p frame then crosses in 8 writes
// rather than 128. A refusal leaves the pipe as it was.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
}
