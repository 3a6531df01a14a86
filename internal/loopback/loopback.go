// Package loopback binds servers to free ports on 127.0.0.1, for the lab
// and the tests. A DNS server needs one port for UDP and TCP alike; the
// kernel only picks a free port for one protocol at a time, so the other
// side can already be taken (by a listener or an outgoing connection of any
// program on the machine): ListenPair then tries another port.
package loopback

import (
	"errors"
	"fmt"
	"net"
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
	return listenPair(pairAttempts, listenUDP)
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

// listenPair is ListenPair with the UDP side injectable, so that a test can
// hand it a port already taken for TCP.
func listenPair(attempts int, udp func() (net.PacketConn, error)) (net.PacketConn, net.Listener, error) {
	var clash error
	for range attempts {
		pc, err := udp()
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
		clash = err
	}
	return nil, nil, fmt.Errorf("no port of %s free for both UDP and TCP in %d attempts, each one taken for TCP by another program (last: %w)", Host, attempts, clash)
}
