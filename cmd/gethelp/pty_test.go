package main_test

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestPasswordPromptDoesNotEcho runs the viewer on a real terminal (a pty),
// as a helper would, and types the password at its prompt.
func TestPasswordPromptDoesNotEcho(t *testing.T) {
	e := newEnv(t)
	h, inv := e.hostInvite()
	password := str(inv, "password")

	cmd := exec.Command(binary, "viewer", "open", "--name", "Bob", str(inv, "file"))
	cmd.Env = e.vars
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); tty.Close() })

	screen := make(chan string, 100)
	go func() {
		r := bufio.NewReader(tty)
		var sb strings.Builder
		buf := make([]byte, 256)
		for {
			n, err := r.Read(buf)
			sb.Write(buf[:n])
			screen <- sb.String()
			if err != nil { // EIO once the program has exited
				close(screen)
				return
			}
		}
	}()
	waitFor := func(want string) string {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case s, ok := <-screen:
				if !ok {
					t.Fatalf("terminal closed before %q appeared", want)
				}
				if strings.Contains(s, want) {
					return s
				}
			case <-deadline:
				t.Fatalf("%q never appeared on the terminal", want)
			}
		}
	}
	waitFor("Password for Alice's invitation: ")
	tty.Write([]byte(strings.ToLower(password) + "\r"))
	shown := waitFor("Connected to Alice")
	h.next("connected")
	for _, secret := range []string{password, strings.ToLower(password)} {
		if strings.Contains(shown, secret) {
			t.Fatalf("the password was echoed on the terminal:\n%s", shown)
		}
	}
	tty.Write([]byte("thanks, I see it\r"))
	if ev := h.next("chat"); str(ev, "text") != "thanks, I see it" {
		t.Errorf("chat typed at the terminal: %v", ev)
	}
	tty.Write([]byte("/quit\r"))
	h.next("disconnected")
}
