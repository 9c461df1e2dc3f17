package main

import (
	"fmt"
	"os/exec"
)

// showPage prints a local page's URL and, unless told not to, opens it in
// the user's browser ($BROWSER, else xdg-open). The URL carries the page's
// secret token, so it is printed only to this user's terminal.
func (m *Main) showPage(url string, noBrowser bool, what string) {
	fmt.Fprintf(m.Stdout, "%s %s\n", what, url)
	if noBrowser {
		return
	}
	opener := m.Getenv("BROWSER")
	if opener == "" {
		opener = "xdg-open"
	}
	path, err := exec.LookPath(opener)
	if err != nil {
		fmt.Fprintln(m.Stdout, "(No browser opener found: open that address yourself.)")
		return
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(m.Stdout, "(Could not open a browser: %v; open that address yourself.)\n", err)
		return
	}
	go cmd.Wait()
}
