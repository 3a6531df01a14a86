package isolate

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if code, ran := Main(Prefer); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// Inside the namespace, loopback works and nothing else is routed.
func TestOnlyLoopback(t *testing.T) {
	if !Inside() {
		t.Skip("no private network namespace on this system")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialTimeout("tcp4", l.Addr().String(), time.Second)
	if err != nil {
		t.Fatalf("loopback: %v", err)
	}
	c.Close()
	// Only lo exists, and a UDP connect (a route lookup; it sends nothing)
	// to a TEST-NET-1 address fails: there is no route out.
	dev, err := os.ReadFile("/proc/self/net/dev") // per namespace, unlike /sys
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(dev), "\n")[2:] {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && name != "lo" {
			t.Errorf("interface %s in the namespace", name)
		}
	}
	if c, err := net.DialTimeout("udp4", "192.0.2.1:53", time.Second); err == nil {
		c.Close()
		t.Fatal("192.0.2.1 is routable from the namespace")
	}
}
