package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gethelp/gethelp/helperkey"
	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/invitations"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/sessionlog"
)

// jsonOut writes one JSON object per line; safe for concurrent use.
type jsonOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *jsonOut) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"type": "error", "message": err.Error()})
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Write(append(b, '\n'))
}

// errorEvent is the --json form of a failure.
type errorEvent struct {
	Type    string    `json:"type"` // "error"
	Time    time.Time `json:"time"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
}

func newErrorEvent(err error) errorEvent {
	return errorEvent{Type: "error", Time: time.Now().UTC(), Code: errorCode(err), Message: userMessage(err)}
}

// errorCode is the machine-readable name of an error, for --json.
func errorCode(err error) string {
	var re *session.RejectError
	switch {
	case errors.As(err, &re):
		return string(re.Code)
	case errors.Is(err, session.ErrPinMismatch):
		return "pin_mismatch"
	case errors.Is(err, session.ErrUnreachable):
		return "unreachable"
	case errors.Is(err, invitations.ErrExpired), errors.Is(err, host.ErrExpired):
		return "expired"
	case errors.Is(err, host.ErrCancelled):
		return "cancelled"
	case errors.Is(err, invitations.ErrMalformed), errors.Is(err, invitations.ErrUnknownVersion):
		return "invalid_invitation"
	case errors.Is(err, invitations.ErrNotFound):
		return "not_found"
	case errors.Is(err, sessionlog.ErrTampered):
		return "tampered"
	case errors.Is(err, errPolicy):
		return "policy"
	case errors.Is(err, helperkey.ErrHostKeyChanged):
		return "host_key_changed"
	}
	return "error"
}

// errPolicy marks refusals that come from the administrator's policy.
var errPolicy = errors.New("policy")

type policyError struct{ err error }

func (e policyError) Error() string   { return e.err.Error() }
func (e policyError) Is(t error) bool { return t == errPolicy }

// userMessage turns an error into one line a person understands.
func userMessage(err error) string {
	var w interface{ userWords() string }
	if errors.As(err, &w) {
		return w.userWords()
	}
	var re *session.RejectError
	if errors.As(err, &re) {
		switch re.Code {
		case session.RejectBadPassword:
			msg := "wrong password: the host refused it"
			if re.AttemptsLeft > 0 {
				msg += fmt.Sprintf(" (%d more wrong attempts lock the invitation)", re.AttemptsLeft)
			}
			return msg + "; check the password with the person who invited you"
		case session.RejectLocked:
			return "the invitation is locked after too many wrong passwords; ask the person for a new invitation"
		case session.RejectBusy:
			return "busy: the person is already being helped by someone else"
		case session.RejectExpired:
			return "the invitation has expired (" + re.Reason + "); ask the person for a new one"
		case session.RejectCancelled:
			return "the invitation was cancelled by the person who made it"
		case session.RejectUnknown:
			return "the computer that answered is not waiting for this invitation"
		}
		return re.Error()
	}
	switch {
	case errors.Is(err, session.ErrPinMismatch):
		return "the computer that answered is not the one that made this invitation (its key does not match the invitation); nothing was sent to it"
	case errors.Is(err, invitations.ErrExpired):
		return strings.TrimPrefix(err.Error(), "invitations: ") + "; ask the person for a new invitation"
	}
	msg := err.Error()
	for _, p := range []string{"session: ", "invitations: ", "host: ", "viewer: ", "sessionlog: ", "helperkey: "} {
		msg = strings.TrimPrefix(msg, p)
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return msg
}

// command is one instruction from stdin: a JSON object in --json mode, or a
// line typed in the terminal.
type command struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Level   string `json:"level"`   // bandwidth
	Path    string `json:"path"`    // snapshot
	Monitor *int   `json:"monitor"` // monitor

	Capabilities []string `json:"capabilities"` // grant, revoke
	Key          string   `json:"key"`          // key
	X            *int     `json:"x"`            // pointer
	Y            *int     `json:"y"`            // pointer
	Buttons      int      `json:"buttons"`      // pointer: as MouseEvent.buttons
	DX           int      `json:"dx"`           // wheel
	DY           int      `json:"dy"`           // wheel
	ID           string   `json:"id"`           // accept_file, decline_file
	Accept       *bool    `json:"accept"`       // consent: the answer to an offer of help
}

// readCommands reads commands from r until it ends, calling do for each.
// In JSON mode a line that is not a valid command is reported with bad and
// skipped. In terminal mode a line is chat, unless it starts with '/'.
func readCommands(r *bufio.Reader, jsonMode bool, known []string, do func(command), bad func(error)) {
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			if c, perr := parseCommand(line, jsonMode, known); perr != nil {
				bad(perr)
			} else {
				do(c)
			}
		}
		if err != nil {
			return
		}
	}
}

func parseCommand(line string, jsonMode bool, known []string) (command, error) {
	var c command
	if jsonMode {
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return c, fmt.Errorf("not a JSON command: %v", err)
		}
		if c.Type == "" {
			return c, errors.New(`command has no "type"`)
		}
	} else {
		if !strings.HasPrefix(line, "/") {
			return command{Type: "chat", Text: line}, nil
		}
		f := strings.Fields(line)
		c.Type = strings.TrimPrefix(f[0], "/")
		arg := strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		switch c.Type {
		case "quit", "bye":
			c.Type = "disconnect"
		case "bandwidth":
			c.Level = arg
		case "snapshot":
			c.Path = arg
		case "monitor":
			n, err := strconv.Atoi(arg)
			if err != nil {
				return c, errors.New("usage: /monitor N (0, 1, ... or -1 for all)")
			}
			c.Monitor = &n
		case "release":
			c.Type = "release_control"
		case "control":
			c.Type = "request_control"
		case "allow":
			c.Type = "grant"
			c.Capabilities = []string{session.CapControl}
			for _, a := range strings.Fields(arg) {
				switch a {
				case "admin":
					c.Capabilities = append(c.Capabilities, session.CapAdminPrompts)
				case "files", "clipboard":
					c.Capabilities = append(c.Capabilities, a)
				default:
					return c, errors.New("usage: /allow [admin] [files] [clipboard]")
				}
			}
		case "stop":
			c.Type = "revoke"
		case "type":
			c.Type = "type_text"
			c.Text = arg
		case "key":
			c.Key = arg
		case "send":
			c.Type = "send_file"
			c.Path = arg
		case "accept", "decline":
			c.Type += "_file"
			c.ID = arg
		}
	}
	if !slices.Contains(known, c.Type) {
		if jsonMode {
			return c, fmt.Errorf("unknown command type %q (known: %s)", c.Type, strings.Join(known, ", "))
		}
		return c, fmt.Errorf("unknown command /%s; type /help", c.Type)
	}
	switch {
	case c.Type == "bandwidth" && c.Level == "":
		return c, errors.New("bandwidth needs a level: low, medium, high or full")
	case c.Type == "snapshot" && c.Path == "":
		return c, errors.New("snapshot needs a path for the PNG file")
	case c.Type == "monitor" && c.Monitor == nil:
		return c, errors.New("monitor needs a monitor number (-1 for all)")
	case c.Type == "grant" && len(c.Capabilities) == 0:
		return c, errors.New(`grant needs "capabilities": any of control, admin_prompts, files, clipboard`)
	case c.Type == "clipboard" && c.Text == "":
		return c, errors.New("clipboard needs the text to put on the person's clipboard")
	case c.Type == "type_text" && c.Text == "":
		return c, errors.New("type_text needs the text to type")
	case c.Type == "key" && c.Key == "":
		return c, errors.New(`key needs a key name, such as "Escape", "Enter", "F5" or "a"`)
	case c.Type == "pointer" && (c.X == nil || c.Y == nil):
		return c, errors.New(`pointer needs "x" and "y"`)
	case c.Type == "send_file" && c.Path == "":
		return c, errors.New("send_file needs the path of the file to send")
	case (c.Type == "accept_file" || c.Type == "decline_file") && c.ID == "":
		return c, errors.New(c.Type + " needs the transfer's id")
	}
	return c, nil
}

const terminalHelp = "Type a message and press Enter to chat. /quit disconnects; /help lists more."

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// byteSize writes n bytes for people: "512 bytes", "3.1 MB".
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
