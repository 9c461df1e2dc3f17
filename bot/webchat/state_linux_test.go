package webchat_test

import (
	"context"
	"net"
	"syscall"
)

func init() {
	listenWithoutReuse = func(addr string) (net.Listener, error) {
		lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			if cerr := c.Control(func(fd uintptr) {
				err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 0)
			}); cerr != nil {
				return cerr
			}
			return err
		}}
		return lc.Listen(context.Background(), "tcp", addr)
	}
}
