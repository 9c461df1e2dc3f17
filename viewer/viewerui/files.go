package viewerui

// Files and the clipboard. A file the helper sends is uploaded by the page
// to the server (localweb's POST /upload: a browser never tells a page
// where a file is), then sent ({"type":"send_file","upload":ID}); the
// copy is deleted once the person has it or the transfer failed, and at
// Close. Clipboard text from the page goes to the person's clipboard.

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session"
	"github.com/gethelp/gethelp/session/files"
	"github.com/gethelp/gethelp/viewer"
)

// directionToHost is a transfer's direction in viewer events when the
// helper sends.
const directionToHost = "to_host"

// checkName is localweb.Uploads.CheckName: the name must be one the
// person's side accepts (files.SanitizeName), said in the helper's words.
func checkName(name string) (string, error) {
	if _, err := files.SanitizeName(name); err != nil {
		why := strings.TrimPrefix(err.Error(), files.ErrBadName.Error()+": ")
		return "", fmt.Errorf("this file's name cannot be sent (%s): rename the file and try again", why)
	}
	return name, nil
}

// uploadAllowed is localweb.Uploads.Allowed: files go only once the person
// allowed them.
func (s *Server) uploadAllowed() error {
	if !slices.Contains(s.v.Capabilities(), session.CapFiles) {
		return errors.New(s.v.HostName() + " has not allowed files")
	}
	return nil
}

// queued tells the page that sent send_file which transfer its upload
// became: the events about it carry ID.
type queued struct {
	Type   string `json:"type"` // "file_queued"
	Upload string `json:"upload"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
}

// sendUpload sends the uploaded file id to the person, in a goroutine of
// its own: the file is hashed first, and a big one takes a while. Failures
// are told to page p.
func (s *Server) sendUpload(p *localweb.Page, id string) error {
	if _, err := s.web.Upload(id); err != nil {
		return err
	}
	if err := s.uploadAllowed(); err != nil {
		s.web.RemoveUpload(id)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("gethelp is stopping")
	}
	s.wg.Go(func() {
		if err := s.sendUploadNow(p, id); err != nil {
			s.logger.Info("sending a file failed", "err", err)
			p.SendText(s.errorReply("send_file", id, err))
		}
	})
	return nil
}

func (s *Server) sendUploadNow(p *localweb.Page, id string) error {
	u, err := s.web.Upload(id)
	if err != nil {
		return err
	}
	// The events of the transfer name its offer ID: computed here, as
	// viewer.SendFile will, to know when the copy can go.
	offer, err := files.OfferFile(s.ctx, u.Path)
	if err != nil {
		s.web.RemoveUpload(id)
		return err
	}
	s.mu.Lock()
	if _, busy := s.sending[offer.ID]; busy {
		s.mu.Unlock()
		s.web.RemoveUpload(id)
		return fmt.Errorf("%s is already being sent", u.Name)
	}
	s.sending[offer.ID] = id
	s.mu.Unlock()
	b, _ := json.Marshal(queued{Type: "file_queued", Upload: id, ID: offer.ID, Name: offer.Name, Size: offer.Size})
	p.SendText(b) // before any event of the transfer
	if err := s.v.SendFile(s.ctx, u.Path); err != nil {
		s.mu.Lock()
		delete(s.sending, offer.ID)
		s.mu.Unlock()
		s.web.RemoveUpload(id)
		return err
	}
	return nil
}

// track deletes the copies of uploaded files once their transfers end.
func (s *Server) track(e viewer.Event) {
	if (e.Type != viewer.EventFileSent && e.Type != viewer.EventFileFailed) || e.Direction != directionToHost {
		return
	}
	s.mu.Lock()
	id, ok := s.sending[e.ID]
	delete(s.sending, e.ID)
	s.mu.Unlock()
	if ok {
		s.web.RemoveUpload(id)
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
