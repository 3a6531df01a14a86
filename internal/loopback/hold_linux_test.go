package loopback

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

func refused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", addr, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection, want it refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

// A held port refuses connections, keeps other listeners out, and can be
// listened on, closed and listened on again.
func TestHeldPort(t *testing.T) {
	h, err := HoldTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	refused(t, h.Addr())
	if ln, err := net.Listen("tcp4", h.Addr()); err == nil {
		ln.Close()
		t.Fatal("another listener could bind the held port")
	}
	for range 2 {
		ln, err := h.Listen()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if c, err := ln.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := net.DialTimeout("tcp4", h.Addr(), 2*time.Second)
		if err != nil {
			t.Fatalf("listening on the held port: %v", err)
		}
		c.Close()
		ln.Close()
		refused(t, h.Addr())
		if ln, err := net.Listen("tcp4", h.Addr()); err == nil {
			ln.Close()
			t.Fatal("another listener could bind the held port after ours closed")
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", h.Addr())
	if err != nil {
		t.Fatalf("the port is still held after Close: %v", err)
	}
	ln.Close()
}

func TestListenUDPHoldTCP(t *testing.T) {
	pc, h, err := ListenUDPHoldTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	defer h.Close()
	if u := portOf(pc.LocalAddr()); u != h.Port() {
		t.Fatalf("UDP on %d, TCP held on %d", u, h.Port())
	}
	refused(t, h.Addr())
}

// Holding the TCP side retries on a clash like ListenPair does.
func TestListenUDPHoldTCPRetriesWhenTheTCPSideIsTaken(t *testing.T) {
	first := takenForTCP(t)
	calls := 0
	pc, h, err := pair(pairAttempts, func() (net.PacketConn, error) {
		calls++
		if calls == 1 {
			return first, nil
		}
		return listenUDP()
	}, holdTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	defer h.Close()
	if calls != 2 || portOf(pc.LocalAddr()) != h.Port() || h.Port() == portOf(first.LocalAddr()) {
		t.Fatalf("%d tries, UDP on %v, TCP held on %d", calls, pc.LocalAddr(), h.Port())
	}
}
