package viewerui

// Files and the clipboard. A file the helper sends is uploaded by the page
// to the server (localweb's POST /upload: a browser never tells a page
// where a file is), then sent ({"type":"send_file","upload":ID}) by
// package filexfer; the copy is deleted once the person has it or the
// transfer failed, and at Close. Clipboard text from the page goes to the
// person's clipboard.

import (
	"errors"
	"slices"

	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/viewer"
)

// directionToHost is a transfer's direction in viewer events when the
// helper sends.
const directionToHost = "to_host"

// uploadAllowed is localweb.Uploads.Allowed: files go only once the person
// allowed them.
func (s *Server) uploadAllowed() error {
	if !slices.Contains(s.v.Capabilities(), session.CapFiles) {
		return errors.New(s.v.HostName() + " has not allowed files")
	}
	return nil
}

// track deletes the copies of uploaded files once their transfers end.
func (s *Server) track(e viewer.Event) {
	if (e.Type == viewer.EventFileSent || e.Type == viewer.EventFileFailed) && e.Direction == directionToHost {
		s.files.Done(e.ID)
	}
}

// setClipboard puts the helper's text on the person's clipboard and, since
// the viewer reports nothing of it, tells every page (a clipboard event
// with self set and the size, never the text).
func (s *Server) setClipboard(text string) error {
	if text == "" {
		return errors.New("there is no text to send")
	}
	if err := s.v.SetClipboard(text); err != nil {
		return err
	}
	s.Publish(viewer.Event{Type: viewer.EventClipboard, Self: true, Size: int64(len(text))})
	return nil
}
