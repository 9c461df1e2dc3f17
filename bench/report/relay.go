package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// byteLog writes one line per read: "<unix_us> <conn> <dir> <bytes>".
// It is safe for concurrent use. The timestamp is taken by the caller right
// after the read returned, before the bytes are passed on.
type byteLog struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer // guarded by mu
	err error         // first write error; guarded by mu

	stop chan struct{}
	done chan struct{}
}

// newByteLog creates path and flushes it every 200 ms until Close.
func newByteLog(path string) (*byteLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	l := &byteLog{f: f, w: bufio.NewWriterSize(f, 256<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.flushLocked()
				l.mu.Unlock()
			}
		}
	}()
	return l, nil
}

func (l *byteLog) add(t time.Time, conn int, dir string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := fmt.Fprintf(l.w, "%d %d %s %d\n", t.UnixMicro(), conn, dir, n); err != nil && l.err == nil {
		l.err = err
	}
}

func (l *byteLog) flushLocked() {
	if err := l.w.Flush(); err != nil && l.err == nil {
		l.err = err
	}
}

// Close stops the flusher, flushes and closes the file; it returns the first
// write error.
func (l *byteLog) Close() error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	if err := l.f.Close(); err != nil && l.err == nil {
		l.err = err
	}
	return l.err
}

type relayFlags struct {
	listen, to, log string
}

func parseRelayFlags(name string, args []string) (relayFlags, error) {
	var rf relayFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&rf.listen, "listen", "127.0.0.1:0", "loopback address to listen on")
	fs.StringVar(&rf.to, "to", "", "loopback address of the server")
	fs.StringVar(&rf.log, "log", "", "file to log every read to")
	if err := fs.Parse(args); err != nil {
		return rf, errUsage
	}
	if rf.to == "" || rf.log == "" || fs.NArg() > 0 {
		return rf, errUsage
	}
	for _, a := range []string{rf.listen, rf.to} {
		ap, err := netip.ParseAddrPort(a)
		if err != nil {
			return rf, fmt.Errorf("%s: %w", name, err)
		}
		if !ap.Addr().IsLoopback() {
			return rf, fmt.Errorf("%s: %s is not a loopback address; the benchmark stays on this machine", name, a)
		}
	}
	return rf, nil
}

// runTCPRelay forwards every connection accepted on -listen to -to until ctx
// is done, logging each read.
func runTCPRelay(ctx context.Context, args []string, stdout io.Writer) error {
	rf, err := parseRelayFlags("relay", args)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", rf.listen)
	if err != nil {
		return err
	}
	lg, err := newByteLog(rf.log)
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
	for id := 1; ; id++ {
		c, err := ln.Accept()
		if err != nil {
			break
		}
		wg.Go(func() { relayTCP(ctx, c.(*net.TCPConn), rf.to, id, lg) })
	}
	cancel()
	wg.Wait()
	return lg.Close()
}

// relayTCP copies both ways between the viewer's connection v and a new
// connection to the server, until both directions end or ctx is done.
func relayTCP(ctx context.Context, v *net.TCPConn, to string, id int, lg *byteLog) {
	defer v.Close()
	lg.add(time.Now(), id, "open", 0)
	defer func() { lg.add(time.Now(), id, "close", 0) }()
	c, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintf(os.Stderr, "relay: %v\n", err)
		return
	}
	s := c.(*net.TCPConn)
	defer s.Close()
	stop := context.AfterFunc(ctx, func() {
		v.Close()
		s.Close()
	})
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { pump(s, v, id, "s2c", lg) })
	pump(v, s, id, "c2s", lg)
	wg.Wait()
}

// pump copies src to dst, logging each read, then half-closes dst.
func pump(src, dst *net.TCPConn, id int, dir string, lg *byteLog) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			lg.add(time.Now(), id, dir, n)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.CloseWrite()
}

// runUDPRelay forwards datagrams between viewers that send to -listen and
// -to, one upstream socket per viewer address, until ctx is done.
func runUDPRelay(ctx context.Context, args []string, stdout io.Writer) error {
	rf, err := parseRelayFlags("udprelay", args)
	if err != nil {
		return err
	}
	to, err := net.ResolveUDPAddr("udp", rf.to)
	if err != nil {
		return err
	}
	la, err := net.ResolveUDPAddr("udp", rf.listen)
	if err != nil {
		return err
	}
	pc, err := net.ListenUDP("udp", la)
	if err != nil {
		return err
	}
	// Large buffers: a datagram dropped here would be retransmitted by QUIC
	// and counted twice.
	pc.SetReadBuffer(8 << 20)
	pc.SetWriteBuffer(8 << 20)
	lg, err := newByteLog(rf.log)
	if err != nil {
		pc.Close()
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", pc.LocalAddr())

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	type upstream struct {
		conn *net.UDPConn
		id   int
	}
	ups := map[netip.AddrPort]upstream{} // owned by the loop below
	wg.Go(func() {
		<-ctx.Done()
		pc.Close()
	})
	buf := make([]byte, 64<<10)
	for {
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "udprelay: %v\n", err)
			}
			break
		}
		now := time.Now()
		up, ok := ups[from]
		if !ok {
			c, err := net.DialUDP("udp", nil, to)
			if err != nil {
				fmt.Fprintf(os.Stderr, "udprelay: %v\n", err)
				continue
			}
			c.SetReadBuffer(8 << 20)
			c.SetWriteBuffer(8 << 20)
			up = upstream{conn: c, id: len(ups) + 1}
			ups[from] = up
			lg.add(now, up.id, "open", 0)
			wg.Go(func() { udpBack(c, pc, from, up.id, lg) })
		}
		lg.add(now, up.id, "c2s", n)
		up.conn.Write(buf[:n])
	}
	cancel()
	for _, up := range ups {
		up.conn.Close()
	}
	wg.Wait()
	return lg.Close()
}

// udpBack passes the server's datagrams on to the viewer at v until up is
// closed.
func udpBack(up, pc *net.UDPConn, v netip.AddrPort, id int, lg *byteLog) {
	buf := make([]byte, 64<<10)
	for {
		n, err := up.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable after the server left
		}
		lg.add(time.Now(), id, "s2c", n)
		pc.WriteToUDPAddrPort(buf[:n], v)
	}
}
