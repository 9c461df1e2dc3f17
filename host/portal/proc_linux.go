package portal

import "syscall"

// childAttr makes gst-launch-1.0 die with the host, however the host ends.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
