package hostui

// Files the person sends: the page uploads the chosen file to the server
// (localweb's POST /upload: a browser never tells a page where a file
// is), then asks for it to be sent ({"type":"send_file","upload":ID}).
// The copy is deleted once the helper has it or the transfer failed, and
// at Close.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gethelp/gethelp/host"
	"github.com/gethelp/gethelp/localweb"
	"github.com/gethelp/gethelp/session/files"
)

// directionToHelper is a transfer's direction in host events when the
// person sends.
const directionToHelper = "to_helper"

// checkName is localweb.Uploads.CheckName: the name must be one the
// helper's side accepts (files.SanitizeName), said in the person's words.
func checkName(name string) (string, error) {
	if _, err := files.SanitizeName(name); err != nil {
		why := strings.TrimPrefix(err.Error(), files.ErrBadName.Error()+": ")
		return "", fmt.Errorf("this file's name cannot be sent (%s): rename the file and try again", why)
	}
	return name, nil
}

// uploadAllowed is localweb.Uploads.Allowed: the person sends files only
// to a connected helper.
func (s *Server) uploadAllowed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return errors.New("no helper is connected")
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

// sendUpload sends the uploaded file id to the helper, in a goroutine of
// its own: the file is hashed first, and a big one takes a while. Failures
// are told to page p.
func (s *Server) sendUpload(p *localweb.Page, id string) error {
	if _, err := s.web.Upload(id); err != nil {
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
			p.SendText(errorReply("send_file", id, err))
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
	// host.SendFile will, to know when the copy can go.
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
	if err := s.h.SendFile(u.Path); err != nil {
		s.mu.Lock()
		delete(s.sending, offer.ID)
		s.mu.Unlock()
		s.web.RemoveUpload(id)
		return err
	}
	return nil
}

// track follows the events that matter to the server: whether a helper is
// connected, and the end of the transfers of uploaded files, whose copies
// are then deleted.
func (s *Server) track(e host.Event) {
	switch e.Type {
	case host.EventConnected, host.EventDisconnected:
		s.mu.Lock()
		s.connected = e.Type == host.EventConnected
		s.mu.Unlock()
	case host.EventFileSent, host.EventFileFailed:
		if e.Direction != directionToHelper {
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
}
