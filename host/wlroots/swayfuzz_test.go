package wlroots

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gethelp/gethelp/session/screen"
)

// FuzzIPC feeds bytes to the IPC message decoder and each message to the
// parsers of replies and events: errors, never a panic.
func FuzzIPC(f *testing.F) {
	msg := func(typ uint32, payload string) []byte {
		var b bytes.Buffer
		writeIPC(&b, typ, []byte(payload))
		return b.Bytes()
	}
	f.Add(msg(ipcGetTree, `{"id":1,"type":"root","nodes":[{"type":"output","name":"HEADLESS-1","active":true,"scale":1.5,"rect":{"x":0,"y":0,"width":640,"height":480},"nodes":[{"type":"workspace","nodes":[{"id":5,"type":"con","app_id":"pinentry","visible":true,"rect":{"x":10,"y":20,"width":300,"height":200}}],"floating_nodes":[{"id":6,"type":"floating_con","app_id":null,"window_properties":{"class":"XTerm","instance":"xterm"},"rect":{"x":-5,"y":0,"width":50,"height":50}}]}]}]}`))
	f.Add(append(msg(ipcEventWindow, `{"change":"close","container":{"id":5,"type":"con","app_id":"keepassxc","rect":{"x":0,"y":0,"width":1,"height":1}}}`),
		msg(ipcEventBinding, `{"change":"run","binding":{"command":"nop gethelp-escape","input_code":9}}`)...))
	f.Add(msg(ipcRunCommand, `[{"success":false,"parse_error":false,"error":"Could not find binding"}]`))
	f.Add([]byte("i3-ipc\xff\xff\xff\xff\x04\x00\x00\x00"))
	f.Add([]byte("i3-ipx\x00\x00\x00\x00\x04\x00\x00\x00"))
	l := swayLayout{outputs: []swayOutput{{logical: screen.Rect{W: 640, H: 480}, scale: 1}, {logical: screen.Rect{X: 640, W: 100, H: 100}, scale: 2}}, extent: screen.Rect{W: 740, H: 480}}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			typ, p, err := readIPC(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && bytes.ContainsRune([]byte(err.Error()), '\n') {
					t.Errorf("a multi-line error: %q", err)
				}
				return
			}
			if _, _, err := parseTree(p); err != nil && bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Errorf("a multi-line error: %q", err)
			}
			parseCloseEvent(p, l)
			isEscapeBinding(p)
			parseCommandReply(p)
			_ = typ
		}
	})
}
