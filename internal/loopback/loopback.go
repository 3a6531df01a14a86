// Package loopback binds servers to free ports on 127.0.0.1, for the lab
// and the tests. A DNS server needs one port for UDP and TCP alike; the
// kernel only picks a free port for one protocol at a time, so the other
// side can already be taken (by a listener or an outgoing connection of any
// program on the machine): ListenPair then tries another port.
package loopback

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
)

// Host is the address every listener of this package binds.
const Host = "127.0.0.1"

// pairAttempts bounds the ports ListenPair tries. A clash on one port is
// rare; twenty in a row means something else is wrong.
const pairAttempts = 20

// ListenPair returns a UDP socket and a TCP listener bound to the same free
// port of 127.0.0.1. When the port the kernel gave the UDP socket is taken
// for TCP, it closes the socket and tries another port, up to 20 times.
// The caller closes both.
func ListenPair() (net.PacketConn, net.Listener, error) {
	return pair(pairAttempts, listenUDP, listenTCP)
}

// ListenUDPHoldTCP is ListenPair with the TCP side held instead of
// listening: a DNS server whose TCP fallback is refused (and cannot reach
// another program) until the caller listens on it.
func ListenUDPHoldTCP() (net.PacketConn, *Held, error) {
	return pair(pairAttempts, listenUDP, holdTCP)
}

// FreePort returns a port of 127.0.0.1 that is free for both UDP and TCP
// at the time of the call, for a server started as another process. That
// process may still find it taken when it binds: its starter must retry on
// another port when the server says so.
func FreePort() (int, error) {
	pc, ln, err := ListenPair()
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	pc.Close()
	return port, nil
}

func listenUDP() (net.PacketConn, error) {
	return net.ListenPacket("udp4", Host+":0")
}

func listenTCP(port int) (net.Listener, error) {
	return net.Listen("tcp4", net.JoinHostPort(Host, strconv.Itoa(port)))
}

// pair binds udp, then tcp on the same port, trying another port when the
// TCP side is taken. udp is injectable so that a test can hand it a port
// already taken for TCP.
func pair[T io.Closer](attempts int, udp func() (net.PacketConn, error), tcp func(port int) (T, error)) (net.PacketConn, T, error) {
	var none T
	var clash error
	for range attempts {
		pc, err := udp()
		if err != nil {
			return nil, none, err
		}
		t, err := tcp(pc.LocalAddr().(*net.UDPAddr).Port)
		if err == nil {
			return pc, t, nil
		}
		pc.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, none, err
		}
		clash = err
	}
	return nil, none, fmt.Errorf("no port of %s free for both UDP and TCP in %d attempts, each one taken for TCP by another program (last: %w)", Host, attempts, clash)
}
