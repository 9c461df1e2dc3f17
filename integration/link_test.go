package integration_test

import (
	"net"
	"sync"
	"testing"
	"time"
)

// slowLink is a UDP relay on loopback that shapes the host-to-viewer
// direction like a thin link: a fixed one-way delay, a rate limit, and a
// bounded queue that drops what overflows (as a router does).
type slowLink struct {
	t        *testing.T
	front    *net.UDPConn // the viewer talks to this
	back     *net.UDPConn // this talks to the host
	host     *net.UDPAddr
	delay    time.Duration
	rate     float64 // bytes per second, host to viewer
	queueMax int     // bytes

	mu     sync.Mutex
	viewer *net.UDPAddr
	queued int
	free   time.Time // when the link finishes sending what is queued
	wg     sync.WaitGroup
}

func newSlowLink(t *testing.T, host *net.UDPAddr, delay time.Duration, bitsPerSecond float64, queueBytes int) *slowLink {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	l := &slowLink{t: t, front: front, back: back, host: host, delay: delay, rate: bitsPerSecond / 8, queueMax: queueBytes}
	l.wg.Add(2)
	go l.upstream()
	go l.downstream()
	t.Cleanup(func() { front.Close(); back.Close(); l.wg.Wait() })
	return l
}

func (l *slowLink) addr() *net.UDPAddr { return l.front.LocalAddr().(*net.UDPAddr) }

// upstream: viewer to host, delayed only.
func (l *slowLink) upstream() {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := l.front.ReadFromUDP(buf)
		if err != nil {
			return
		}
		l.mu.Lock()
		l.viewer = from
		l.mu.Unlock()
		p := append([]byte(nil), buf[:n]...)
		time.AfterFunc(l.delay, func() { l.back.WriteToUDP(p, l.host) })
	}
}

// downstream: host to viewer, serialised at the link rate after the delay.
func (l *slowLink) downstream() {
	defer l.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, _, err := l.back.ReadFromUDP(buf)
		if err != nil {
			return
		}
		l.mu.Lock()
		to := l.viewer
		if to == nil || l.queued+n > l.queueMax {
			l.mu.Unlock()
			continue // dropped: queue full
		}
		now := time.Now()
		if l.free.Before(now) {
			l.free = now
		}
		l.free = l.free.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
		at := l.free.Add(l.delay)
		l.queued += n
		l.mu.Unlock()
		p := append([]byte(nil), buf[:n]...)
		time.AfterFunc(time.Until(at), func() {
			l.front.WriteToUDP(p, to)
			l.mu.Lock()
			l.queued -= len(p)
			l.mu.Unlock()
		})
	}
}
