package main

import (
	"os"
	"os/user"
	"slices"
)

// adminGroups are the groups whose members answer administrator prompts
// (sudo, polkit) on common distributions: Debian and Ubuntu (sudo, and
// admin on old Ubuntu), Fedora, Arch and SUSE (wheel).
var adminGroups = []string{"sudo", "wheel", "admin"}

// canAnswerAdminPrompts reports whether the person at this computer could
// answer an administrator prompt themselves: root, or a member of one of
// adminGroups. As in Windows, only such a person may let a helper answer
// those prompts.
func canAnswerAdminPrompts() bool {
	if os.Geteuid() == 0 {
		return true
	}
	u, err := user.Current()
	if err != nil {
		return false
	}
	gids, err := u.GroupIds()
	if err != nil {
		return false
	}
	for _, gid := range gids {
		if g, err := user.LookupGroupId(gid); err == nil && slices.Contains(adminGroups, g.Name) {
			return true
		}
	}
	return false
}
