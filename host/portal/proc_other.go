//go:build !linux

package portal

import "syscall"

// childAttr: elsewhere the child is killed by Close only.
func childAttr() *syscall.SysProcAttr { return nil }
