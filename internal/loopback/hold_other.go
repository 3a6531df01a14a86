//go:build !linux

package loopback

import (
	"errors"
	"fmt"
	"net"
)

// Held is a TCP port held without listening; only Linux has it here.
type Held struct{}

// HoldTCP holds a free TCP port of 127.0.0.1: Linux only.
func HoldTCP() (*Held, error) { return holdTCP(0) }

func holdTCP(int) (*Held, error) {
	return nil, fmt.Errorf("holding a TCP port without listening is implemented on Linux only: %w", errors.ErrUnsupported)
}

// Port is the held port number.
func (*Held) Port() int { return 0 }

// Addr is the held address.
func (*Held) Addr() string { return "" }

// Listen starts a listener on the held port.
func (*Held) Listen() (net.Listener, error) { return nil, errors.ErrUnsupported }

// Close releases the port.
func (*Held) Close() error { return nil }
