package loopback

import (
	"net"
	"sync"
)

// Silent listens on 127.0.0.1 and accepts connections without ever
// answering: a TLS handshake or a request to it hangs until the client
// gives up, as with a peer that stopped working. Closing the listener also
// closes the connections it accepted.
func Silent() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &silent{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	return s, nil
}

type silent struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (s *silent) Close() error {
	err := s.Listener.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
	return err
}
