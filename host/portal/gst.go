package portal

// The frames: gst-launch-1.0 reads the PipeWire stream and writes raw
// BGRx frames on a pipe; its verbose output, one line per caps event and
// per buffer of the identity element named "gethelp", frames them.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// identityName names the identity element whose last-message lines frame
// the pixels.
const identityName = "gethelp"

// maxPixels bounds a frame's size (two 8K screens' worth is beyond it):
// caps announcing more are refused rather than allocated.
const maxPixels = 1 << 25

// gstArgs returns gst-launch-1.0's arguments: the PipeWire remote is fd 3,
// the frames go to fd 4, the verbose output (-v) to stdout.
func gstArgs(node uint32) []string {
	return []string{
		"-v",
		"pipewiresrc", "fd=3", "path=" + strconv.FormatUint(uint64(node), 10), "do-timestamp=true", "client-name=gethelp",
		"!", "videoconvert",
		"!", "video/x-raw,format=BGRx",
		"!", "identity", "name=" + identityName, "silent=false",
		"!", "fdsink", "fd=4", "sync=false",
	}
}

// lineKind says what a line of gst-launch's verbose output is about.
type lineKind uint8

const (
	lineOther  lineKind = iota // anything else: ignored
	lineCaps                   // the frames' caps from now on
	lineBuffer                 // a buffer of n bytes follows on the frames' pipe
)

// gstLine is what parseGstLine read from one line.
type gstLine struct {
	kind   lineKind
	format string // lineCaps
	w, h   int    // lineCaps
	n      int    // lineBuffer
}

// parseGstLine reads one line of gst-launch -v output. The lines that
// count are the identity element's last-message, in the order of the
// stream (gst-launch 1.22):
//
//	/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = event   ******* (gethelp:sink) E (type: caps (12814), GstEventCaps, caps=(GstCaps)"video/x-raw\,\ format\=\(string\)BGRx\,\ width\=\(int\)320\,\ height\=\(int\)240\,\ framerate\=\(fraction\)30/1";) 0x…
//	/GstPipeline:pipeline0/GstIdentity:gethelp: last-message = chain   ******* (gethelp:sink) (307200 bytes, dts: …
//
// A caps line with a missing or implausible width or height (not
// positive, or more than maxPixels in all) and a buffer line with a
// missing or implausible size are lineOther.
func parseGstLine(line []byte) gstLine {
	const marker = "/GstIdentity:" + identityName + ": last-message = "
	i := bytes.Index(line, []byte(marker))
	if i < 0 {
		return gstLine{}
	}
	msg := line[i+len(marker):]
	switch {
	case bytes.HasPrefix(msg, []byte("chain ")):
		_, rest, ok := bytes.Cut(msg, []byte("("+identityName+":sink) ("))
		if !ok {
			return gstLine{}
		}
		num, _, ok := bytes.Cut(rest, []byte(" bytes"))
		n, err := strconv.Atoi(string(num))
		if !ok || err != nil || n < 0 || n > 4*maxPixels {
			return gstLine{}
		}
		return gstLine{kind: lineBuffer, n: n}
	case bytes.HasPrefix(msg, []byte("event ")):
		_, caps, ok := bytes.Cut(msg, []byte("(type: caps "))
		if !ok {
			return gstLine{}
		}
		_, caps, ok = bytes.Cut(caps, []byte("caps=(GstCaps)"))
		if !ok {
			return gstLine{}
		}
		s := strings.ReplaceAll(string(caps), `\`, "")
		w, okw := capsInt(s, "width")
		h, okh := capsInt(s, "height")
		if !okw || !okh || w <= 0 || h <= 0 || w > maxPixels || h > maxPixels || w*h > maxPixels {
			return gstLine{}
		}
		format, _ := capsField(s, "format=(string)")
		return gstLine{kind: lineCaps, format: format, w: w, h: h}
	}
	return gstLine{}
}

// capsInt reads "name=(int)N" from unescaped caps.
func capsInt(caps, name string) (int, bool) {
	v, ok := capsField(caps, " "+name+"=(int)")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// capsField returns the value after key, up to the next comma, semicolon
// or quote.
func capsField(caps, key string) (string, bool) {
	_, rest, ok := strings.Cut(caps, key)
	if !ok {
		return "", false
	}
	if end := strings.IndexAny(rest, ",;\""); end >= 0 {
		rest = rest[:end]
	}
	return rest, true
}

// pipeline is a running gst-launch-1.0 reading one PipeWire stream.
type pipeline struct {
	cmd    *exec.Cmd
	text   *os.File // the read end of its stdout
	frames *os.File // the read end of fd 4
	stderr *tail
	exited chan struct{} // closed when Wait returned
	err    error         // Wait's, once exited is closed
}

// startPipeline runs gst (gst-launch-1.0's path) with the PipeWire remote
// remote as its fd 3, reading node. It closes remote (the child has its
// own copy).
func startPipeline(gst string, remote *os.File, node uint32) (*pipeline, error) {
	defer remote.Close()
	textR, textW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	framesR, framesW, err := os.Pipe()
	if err != nil {
		textR.Close()
		textW.Close()
		return nil, fmt.Errorf("portal: %w", err)
	}
	growPipe(framesR)
	p := &pipeline{text: textR, frames: framesR, stderr: &tail{}, exited: make(chan struct{})}
	p.cmd = exec.Command(gst, gstArgs(node)...)
	p.cmd.Stdout = textW
	p.cmd.Stderr = p.stderr
	p.cmd.ExtraFiles = []*os.File{remote, framesW}
	p.cmd.SysProcAttr = childAttr()
	err = p.cmd.Start()
	textW.Close()
	framesW.Close()
	if err != nil {
		textR.Close()
		framesR.Close()
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (%s)", ErrNoGStreamer, gst)
		}
		return nil, fmt.Errorf("portal: starting %s: %w", gst, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop ends the child and waits for it.
func (p *pipeline) stop() {
	p.cmd.Process.Kill()
	<-p.exited
}

// close releases the pipes' read ends (after the reader ended).
func (p *pipeline) close() {
	p.text.Close()
	p.frames.Close()
}

// exitError describes how the child ended, with the last line it wrote on
// stderr.
func (p *pipeline) exitError() error {
	<-p.exited
	msg := p.stderr.last()
	if msg == "" && p.err != nil {
		msg = p.err.Error()
	}
	if msg == "" {
		msg = "it ended"
	}
	return fmt.Errorf("%w: %s", ErrStreamEnded, msg)
}

// tail keeps the last lines a child wrote, for its error message.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-2048:]...)
	}
	return len(p), nil
}

// last returns the last line that says something (gst-launch's ERROR
// line when there is one).
func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "ERROR:") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// readLine reads one line from r without its newline; longer lines than
// r's buffer are skipped whole. It returns io.EOF at the end.
func readLine(r *bufio.Reader) ([]byte, error) {
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil && len(line) == 0 {
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// discard reads and drops n bytes of r.
func discard(r io.Reader, n int) error {
	_, err := io.CopyN(io.Discard, r, int64(n))
	return err
}
