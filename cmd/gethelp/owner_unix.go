//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// adminOwned reports whether a file is owned by root and writable by no one
// else.
func adminOwned(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0 && fi.Mode().Perm()&0o022 == 0
}
