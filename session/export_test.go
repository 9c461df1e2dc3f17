package session

// SendRawForTest writes a frame on c's control stream without any check, so
// tests can play a broken peer.
func SendRawForTest(c *Conn, f Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return WriteFrame(c.ctrl, f)
}
