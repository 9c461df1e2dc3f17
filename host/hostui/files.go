package hostui

// Files the person sends: the page uploads the chosen file to the server
// (localweb's POST /upload: a browser never tells a page where a file
// is), then asks for it to be sent ({"type":"send_file","upload":ID});
// package filexfer does the rest. The copy is deleted once the helper has
// it or the transfer failed, and at Close.

import (
	"errors"

	"github.com/gethelp/gethelp/host"
)

// directionToHelper is a transfer's direction in host events when the
// person sends.
const directionToHelper = "to_helper"

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
		if e.Direction == directionToHelper {
			s.files.Done(e.ID)
		}
	}
}
