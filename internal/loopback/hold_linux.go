package loopback

import (
	"context"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Held is a TCP port of 127.0.0.1 bound by a socket that does not listen:
// connections to it are refused, and no other program can bind it until
// Close. Listen serves on it; closing that listener refuses connections
// again without ever releasing the port. A port freed and bound again later
// can be taken in between by any program on the machine; a held one cannot.
type Held struct {
	fd   int
	port int
}

// HoldTCP holds a free TCP port of 127.0.0.1.
func HoldTCP() (*Held, error) {
	return holdTCP(0)
}

func holdTCP(port int) (*Held, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("hold tcp port: socket: %w", err)
	}
	// SO_REUSEPORT (no SO_REUSEADDR) lets Listen bind the port beside this
	// socket, and keeps every ordinary listener out of it.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("hold tcp port: SO_REUSEPORT: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, &net.OpError{Op: "hold", Net: "tcp4", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, Err: err}
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("hold tcp port: getsockname: %w", err)
	}
	return &Held{fd: fd, port: sa.(*syscall.SockaddrInet4).Port}, nil
}

// Port is the held port number.
func (h *Held) Port() int { return h.port }

// Addr is the held address, host:port.
func (h *Held) Addr() string {
	return (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: h.port}).String()
}

// Listen starts a listener on the held port. The caller closes it.
func (h *Held) Listen() (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp4", h.Addr())
}

// Close releases the port.
func (h *Held) Close() error { return syscall.Close(h.fd) }
