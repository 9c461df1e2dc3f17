package webchat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gethelp/gethelp/bot"
)

// The state file (Options.StateFile), version 1.
//
// It is JSON lines: UTF-8 JSON objects, each ending in '\n', appended and
// never rewritten. The first line is the header
//
//	{"webchat_state":1,"workspace":"demo"}
//
// and every later line records one change, with exactly one of these
// fields:
//
//	{"msg": {"id", "channel" | "dm", "thread", "author", "text", "buttons": [{"label", "action", "value", "style"}],
//	         "file": {"name", "content_type", "data"}, "visible_to", "command", "time", "key"}}
//	    a message was posted; "data" is base64; "key" is the Message.Key of a Send
//	{"mail": {"id", "from", "to", "subject", "date", "text", "html", "attachments": [{"name", "content_type", "data"}]}}
//	    a mail was added
//	{"seq": N}
//	    ids up to N are taken (the id of a command or a button press, which is no message)
//	{"delivered": "m000012"}
//	    the user's message m000012 was handed to Handler.Post, which returned
//
// Optional fields are left out when empty. Message ids grow from line to
// line. testdata/state-v1.jsonl is a golden example.

// Errors about the state file.
var (
	// ErrCorruptState is returned by New when Options.StateFile is not a
	// webchat state file or not one this version can read. The error says
	// which file and line, on one line.
	ErrCorruptState = errors.New("webchat: corrupt state file")
	// ErrStateInUse is returned by New when another Server, in this
	// process or another, has Options.StateFile open.
	ErrStateInUse = errors.New("webchat: the state file is in use by another webchat")
	// ErrStateFull is returned by the calls that change something when
	// the change would take the state file over MaxState bytes. Retrying
	// does not help until the chat restarts with a new file.
	ErrStateFull = errors.New("webchat: the state file is full")
)

// MaxState bounds the state file: what is persisted is kept in memory
// too, and read whole on restart. Files (up to MaxFile each) are stored
// in it, base64, a third larger.
const MaxState = 64 << 20

// stateVersion is the version of the state file's format that this
// package writes and reads.
const stateVersion = 1

// record is one line of the state file.
type record struct {
	Version   int         `json:"webchat_state,omitempty"` // header only
	Workspace string      `json:"workspace,omitempty"`     // header only
	Msg       *msgRecord  `json:"msg,omitempty"`
	Mail      *mailRecord `json:"mail,omitempty"`
	Seq       int         `json:"seq,omitempty"`
	Delivered string      `json:"delivered,omitempty"`
}

// fields returns how many changes r records: 1 for a good line.
func (r *record) fields() int {
	n := 0
	for _, set := range []bool{r.Msg != nil, r.Mail != nil, r.Seq != 0, r.Delivered != ""} {
		if set {
			n++
		}
	}
	return n
}

type msgRecord struct {
	ID        string         `json:"id"`
	Channel   string         `json:"channel,omitempty"`
	DM        string         `json:"dm,omitempty"`
	Thread    string         `json:"thread,omitempty"`
	Author    string         `json:"author"`
	Text      string         `json:"text,omitempty"`
	Buttons   []buttonRecord `json:"buttons,omitempty"`
	File      *fileRecord    `json:"file,omitempty"`
	VisibleTo string         `json:"visible_to,omitempty"`
	Command   string         `json:"command,omitempty"`
	Time      time.Time      `json:"time"`
	Key       string         `json:"key,omitempty"`
}

type buttonRecord struct {
	Label  string `json:"label"`
	Action string `json:"action"`
	Value  string `json:"value,omitempty"`
	Style  string `json:"style,omitempty"`
}

type fileRecord struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Data        []byte `json:"data"`
}

type mailRecord struct {
	ID          string       `json:"id"`
	From        string       `json:"from,omitempty"`
	To          string       `json:"to,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Date        time.Time    `json:"date"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attachments []fileRecord `json:"attachments,omitempty"`
}

// stateFile is the open state file, locked for this Server. Its methods
// are called with Server.mu held.
type stateFile struct {
	path string
	f    *os.File
	size int64 // the end of the last complete record
	err  error // once a write failed, every later one returns it
}

// openState opens the state file at path, creating it if it does not
// exist or is empty, locks it, and calls apply with each record after the
// header, in order. A torn last line (the write of a call that never
// returned) is dropped and cut off. It returns ErrStateInUse,
// ErrCorruptState (wrapped, with the line), an error for another
// workspace's file or from apply, or the file system's error.
func openState(path, workspace string, logger *slog.Logger, apply func(record) error) (_ *stateFile, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		if fi, statErr := f.Stat(); statErr == nil && fi.Size() == 0 {
			f.Close()
			err = fs.ErrNotExist // created but never written: start it
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := createState(path, workspace); err != nil {
			return nil, fmt.Errorf("webchat: creating the state file: %w", err)
		}
		f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if err := lockState(f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrStateInUse, path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	if fi.Size() > MaxState {
		return nil, fmt.Errorf("%w %s: %d bytes, over %d", ErrCorruptState, path, fi.Size(), MaxState)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return nil, fmt.Errorf("webchat: reading the state file: %w", err)
	}

	good := 0 // the end of the last line read
	for n := 1; good < len(data); n++ {
		end := bytes.IndexByte(data[good:], '\n')
		if end < 0 {
			if n == 1 {
				return nil, fmt.Errorf("%w %s: not a webchat state file", ErrCorruptState, path)
			}
			break // a torn write: its call never returned
		}
		line := data[good : good+end]
		var r record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		derr := dec.Decode(&r)
		if derr == nil && dec.More() {
			derr = errors.New("more than one JSON value")
		}
		if derr != nil {
			if n == 1 {
				return nil, fmt.Errorf("%w %s: not a webchat state file", ErrCorruptState, path)
			}
			if good+end+1 == len(data) {
				break // the last line, torn (a crash while the disk wrote it): its call never returned
			}
			return nil, fmt.Errorf("%w %s: line %d: %v", ErrCorruptState, path, n, derr)
		}
		if n == 1 {
			switch {
			case r.Version == 0 || r.fields() != 0:
				return nil, fmt.Errorf("%w %s: not a webchat state file", ErrCorruptState, path)
			case r.Version != stateVersion:
				return nil, fmt.Errorf("%w %s: version %d; this gethelp reads version %d", ErrCorruptState, path, r.Version, stateVersion)
			case r.Workspace != workspace:
				return nil, fmt.Errorf("webchat: state file %s is workspace %q's, not %q's", path, r.Workspace, workspace)
			}
		} else {
			if r.Version != 0 || r.Workspace != "" || r.fields() != 1 {
				return nil, fmt.Errorf("%w %s: line %d: not one change", ErrCorruptState, path, n)
			}
			if err := apply(r); errors.Is(err, ErrCorruptState) {
				return nil, fmt.Errorf("%w %s: line %d: %s", ErrCorruptState, path, n, err)
			} else if err != nil {
				return nil, fmt.Errorf("webchat: state file %s: line %d: %w", path, n, err)
			}
		}
		good += end + 1
	}
	if good < len(data) {
		logger.Warn("dropping a torn write at the end of the state file", "path", path, "bytes", len(data)-good)
		if err := f.Truncate(int64(good)); err != nil {
			return nil, fmt.Errorf("webchat: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("webchat: %w", err)
		}
	}
	return &stateFile{path: path, f: f, size: int64(good)}, nil
}

// createState makes path a state file with only a header, atomically: a
// crash leaves either no file (or the empty one there was) or the whole
// header.
func createState(path, workspace string) error {
	b, err := marshalLine(record{Version: stateVersion, Workspace: workspace})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // messages hold secrets
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// append writes r at the end of the file and waits until it is on disk.
// After a failed write or sync it returns that error forever, as what is
// on disk is no longer known; a restart recovers (a torn last line is
// dropped). It returns ErrStateFull, without writing, when r would take
// the file over MaxState.
func (st *stateFile) append(r record) error {
	if st.err != nil {
		return st.err
	}
	b, err := marshalLine(r)
	if err != nil {
		return fmt.Errorf("webchat: %w", err)
	}
	if st.size+int64(len(b)) > MaxState {
		return fmt.Errorf("%w: %s would exceed %d bytes", ErrStateFull, st.path, MaxState)
	}
	if _, err = st.f.WriteAt(b, st.size); err == nil {
		err = st.f.Sync()
	}
	if err != nil {
		st.f.Truncate(st.size) // best effort: end at a whole line
		st.err = fmt.Errorf("webchat: writing the state file failed, restart to recover: %w", err)
		return st.err
	}
	st.size += int64(len(b))
	return nil
}

// marshalLine returns r as a line of the state file: JSON, with '<', '>'
// and '&' as they are, and '\n'.
func marshalLine(r record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// close releases the file and its lock.
func (st *stateFile) close() error {
	if err := st.f.Close(); err != nil {
		return fmt.Errorf("webchat: %w", err)
	}
	return nil
}

// formatID returns the id with prefix and number n: "m000012".
func formatID(prefix string, n int) string {
	return fmt.Sprintf("%s%06d", prefix, n)
}

// parseID returns the number of an id with prefix, as formatID wrote it.
func parseID(prefix, id string) (int, bool) {
	if len(id) <= len(prefix) || id[:len(prefix)] != prefix {
		return 0, false
	}
	n, err := strconv.Atoi(id[len(prefix):])
	return n, err == nil && n > 0 && formatID(prefix, n) == id
}

// record returns m as the state file keeps it; key is the Message.Key of
// the Send that posted it.
func (m *message) record(key string) *msgRecord {
	r := &msgRecord{
		ID: m.id, Channel: m.conv.channel, DM: m.conv.dm, Thread: m.thread, Author: m.author, Text: m.text,
		VisibleTo: m.visibleTo, Command: m.command, Time: m.time, Key: key,
	}
	for _, b := range m.buttons {
		r.Buttons = append(r.Buttons, buttonRecord{Label: b.Label, Action: b.Action, Value: b.Value, Style: b.Style})
	}
	if f := m.file; f != nil {
		r.File = &fileRecord{Name: f.Name, ContentType: f.ContentType, Data: f.Data}
	}
	return r
}

func mailRecordOf(m *Mail) *mailRecord {
	r := &mailRecord{ID: m.ID, From: m.From, To: m.To, Subject: m.Subject, Date: m.Date, Text: m.Text, HTML: m.HTML}
	for _, a := range m.Attachments {
		r.Attachments = append(r.Attachments, fileRecord{Name: a.Name, ContentType: a.ContentType, Data: a.Data})
	}
	return r
}

// loader applies the records of a state file to a new Server.
type loader struct {
	s         *Server
	posts     []*message      // users' messages, oldest first: each was queued for Handler.Post
	delivered map[string]bool // the ids of posts that Handler.Post returned from
}

// apply makes the change r records. Its errors wrap ErrCorruptState for a
// file that contradicts itself; others say what in Options changed.
func (l *loader) apply(r record) error {
	s := l.s
	switch {
	case r.Msg != nil:
		return l.message(r.Msg)
	case r.Mail != nil:
		mr := r.Mail
		if mr.ID == "" || s.mailLocked(mr.ID) != nil {
			return corrupt("mail %q again", mr.ID)
		}
		m := &Mail{ID: mr.ID, From: mr.From, To: mr.To, Subject: mr.Subject, Date: mr.Date, Text: mr.Text, HTML: mr.HTML}
		for _, a := range mr.Attachments {
			m.Attachments = append(m.Attachments, Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data})
		}
		s.mails = append(s.mails, m)
	case r.Seq != 0:
		if r.Seq <= s.seq {
			return corrupt("the counter goes back from %d to %d", s.seq, r.Seq)
		}
		s.seq = r.Seq
	case r.Delivered != "":
		m, ok := s.byID[r.Delivered]
		if !ok || m.author == botID {
			return corrupt("%q delivered, but no user posted it", r.Delivered)
		}
		l.delivered[m.id] = true
	}
	return nil
}

func (l *loader) message(mr *msgRecord) error {
	s := l.s
	n, ok := parseID("m", mr.ID)
	if !ok || n <= s.seq {
		return corrupt("message id %q after id %d", mr.ID, s.seq)
	}
	var c *conv
	switch {
	case mr.Channel != "" && mr.DM == "":
		if c = s.convs["#"+mr.Channel]; c == nil {
			return fmt.Errorf("message %s is in #%s, which is not in Options.Channels", mr.ID, mr.Channel)
		}
	case mr.Channel == "" && mr.DM != "":
		if c = s.convs["@"+mr.DM]; c == nil {
			return fmt.Errorf("message %s is to %q, who is not in Options.Users", mr.ID, mr.DM)
		}
	default:
		return corrupt("message %s is neither in a channel nor a direct message", mr.ID)
	}
	if mr.Author == "" {
		return corrupt("message %s has no author", mr.ID)
	}
	for _, id := range []string{mr.Author, mr.VisibleTo} {
		if id == "" || id == botID && id == mr.Author {
			continue
		}
		if u, err := s.user(id); err != nil || u.ID != id {
			return fmt.Errorf("message %s names %q, who is not in Options.Users", mr.ID, id)
		}
	}
	if mr.Thread != "" {
		if _, err := s.rootLocked(c, mr.Thread); err != nil {
			return corrupt("message %s answers %s: %s", mr.ID, mr.Thread, strings.TrimPrefix(err.Error(), "webchat: "))
		}
	}
	if _, ok := s.keys[mr.Key]; ok && mr.Key != "" {
		return corrupt("message %s has the key of %s", mr.ID, s.keys[mr.Key])
	}
	m := &message{
		id: mr.ID, conv: c, thread: mr.Thread, author: mr.Author, text: mr.Text,
		visibleTo: mr.VisibleTo, command: mr.Command, time: mr.Time,
	}
	for _, b := range mr.Buttons {
		m.buttons = append(m.buttons, bot.Button{Label: b.Label, Action: b.Action, Value: b.Value, Style: b.Style})
	}
	if f := mr.File; f != nil {
		m.file = &bot.File{Name: f.Name, ContentType: f.ContentType, Data: f.Data}
	}
	s.seq = n
	c.msgs = append(c.msgs, m)
	s.byID[m.id] = m
	if mr.Key != "" {
		s.keys[mr.Key] = m.id
	}
	if m.author != botID {
		l.posts = append(l.posts, m)
	}
	return nil
}

// corrupt returns an error about a state file that contradicts itself:
// the words, wrapping ErrCorruptState.
func corrupt(format string, args ...any) error {
	return &wrapped{msg: fmt.Sprintf(format, args...), errs: []error{ErrCorruptState}}
}
