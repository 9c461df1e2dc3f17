package main

import (
	"fmt"
	"os"

	"github.com/gethelp/gethelp/sessionlog"
)

func (m *Main) log(verb string, args []string) error {
	switch verb {
	case "verify", "show":
	default:
		return m.unknown("log", verb)
	}
	fs := m.flags("log "+verb, "log "+verb+" FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	if verb == "show" {
		return sessionlog.Show(m.Stdout, f)
	}
	n, err := sessionlog.Verify(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(m.Stdout, "%s: chain intact, %d entries\n", fs.Arg(0), n)
	return nil
}
