package infra

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/loopback"
)

// FreePort returns a port on 127.0.0.1 that is free for both TCP and UDP
// right now. Another process may take it before the caller binds it: start
// the server through StartOnFreePorts, which retries on other ports.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("FreePort: %v", err)
	}
	return port
}

// freePort is loopback.FreePort; a test replaces it to hand a starter a
// port that is already taken.
var freePort = loopback.FreePort

// PortTaken tells whether a server's output says that it could not bind
// its port because another program holds it (Go servers and slapd say
// "address already in use", named "address in use").
func PortTaken(output string) bool {
	s := strings.ToLower(output)
	return strings.Contains(s, "address already in use") || strings.Contains(s, "address in use")
}

// StartOnFreePorts starts a server process on ports from FreePort: start
// picks them, starts the server and waits until it is ready; on failure it
// stops the server and returns what the server wrote during the attempt.
// A port can be taken between FreePort and the server's own bind; when the
// output says so (PortTaken), start runs again with other ports, at most
// attempts times in all. Any other failure is returned at once.
func StartOnFreePorts(t testing.TB, what string, attempts int, start func() (output string, err error)) error {
	t.Helper()
	for attempt := 1; ; attempt++ {
		out, err := start()
		switch {
		case err == nil:
			return nil
		case !PortTaken(out):
			return err
		case attempt >= attempts:
			return fmt.Errorf("%w (another program took the chosen port on each of %d attempts)", err, attempts)
		}
		t.Logf("%s: a port was taken between choosing and binding it (attempt %d of %d), retrying on other ports", what, attempt, attempts)
	}
}
