package loopback

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
)

// takenForTCP returns a UDP socket on a port of 127.0.0.1 whose TCP side a
// listener of this test holds (closed at the end of the test).
func takenForTCP(t *testing.T) net.PacketConn {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp4", Host+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		pc, err := net.ListenPacket("udp4", ln.Addr().String())
		if err == nil {
			return pc
		}
	}
	t.Fatal("no port with a free UDP side found for the test")
	return nil
}

func portOf(a net.Addr) int {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.Port
	case *net.TCPAddr:
		return a.Port
	}
	return -1
}

func TestListenPairSamePort(t *testing.T) {
	pc, ln, err := ListenPair()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	defer ln.Close()
	if u, l := portOf(pc.LocalAddr()), portOf(ln.Addr()); u != l || u <= 0 {
		t.Fatalf("UDP on %v, TCP on %v: want one port", pc.LocalAddr(), ln.Addr())
	}
	if !strings.HasPrefix(ln.Addr().String(), Host+":") {
		t.Fatalf("TCP on %v, want %s", ln.Addr(), Host)
	}
}

// The first port the kernel gives the UDP socket is taken for TCP: the pair
// comes from another port, and the socket on the taken port is released.
func TestListenPairRetriesWhenTheTCPSideIsTaken(t *testing.T) {
	first := takenForTCP(t)
	taken := portOf(first.LocalAddr())
	calls := 0
	pc, ln, err := pair(pairAttempts, func() (net.PacketConn, error) {
		calls++
		if calls == 1 {
			return first, nil
		}
		return listenUDP()
	}, listenTCP)
	if err != nil {
		t.Fatalf("after a clash on port %d: %v", taken, err)
	}
	defer pc.Close()
	defer ln.Close()
	if calls != 2 {
		t.Errorf("UDP sockets opened: %d, want 2", calls)
	}
	if u, l := portOf(pc.LocalAddr()), portOf(ln.Addr()); u != l || u == taken {
		t.Fatalf("UDP on %d, TCP on %d (taken: %d)", u, l, taken)
	}
	if _, err := first.WriteTo([]byte{0}, pc.LocalAddr()); err == nil {
		t.Error("the UDP socket on the taken port was left open")
	}
}

// Every port clashes: a bounded number of tries, then an error that says
// what happened.
func TestListenPairGivesUpWithAReason(t *testing.T) {
	calls := 0
	_, _, err := pair(3, func() (net.PacketConn, error) {
		calls++
		return takenForTCP(t), nil
	}, listenTCP)
	if err == nil {
		t.Fatal("no error with every port taken for TCP")
	}
	if calls != 3 {
		t.Errorf("tries: %d, want 3", calls)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "3 attempts") || !strings.Contains(err.Error(), "free for both UDP and TCP") {
		t.Errorf("error does not say what happened: %v", err)
	}
}

// A failure that another port cannot cure is returned at once.
func TestListenPairDoesNotRetryOtherErrors(t *testing.T) {
	calls := 0
	boom := errors.New("no sockets left")
	_, _, err := pair(pairAttempts, func() (net.PacketConn, error) {
		calls++
		return nil, boom
	}, listenTCP)
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d tries, want %v after 1", err, calls, boom)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.ParseIP(Host), Port: port}).String()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatalf("port %d not free for TCP: %v", port, err)
	}
	ln.Close()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("port %d not free for UDP: %v", port, err)
	}
	pc.Close()
}
