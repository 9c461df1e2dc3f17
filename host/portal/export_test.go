package portal

import "time"

// FramesRead returns how many frames s read from the stream so far.
func FramesRead(s *Source) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames
}

// GstPID returns the pid of s's gst-launch-1.0.
func GstPID(s *Source) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p.cmd.Process.Pid
}

// Busy returns the time s spent reading frames from the pipe and
// comparing them.
func Busy(s *Source) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy
}
