//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// promptPassword prints the prompt and reads a line without echo.
func promptPassword(tty *os.File, prompt io.Writer, text string) (string, error) {
	fmt.Fprint(prompt, text)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(prompt)
	return strings.TrimSpace(string(b)), err
}
