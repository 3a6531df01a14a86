// Package lab is a simulated Skype for Business / Exchange estate for
// contoso.test that runs inside the agent (`--lab`): the README's first
// command, the end-to-end tests and the dashboard previews use it. Every
// fault the alerts exist for can be switched on and off at run time.
//
// Everything listens on 127.0.0.1 only.
package lab

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Domain is the lab's SIP and email domain.
const Domain = "contoso.test"

// Fault is one switchable problem in the lab estate.
type Fault struct {
	Name        string `json:"name"`
	Family      string `json:"family"`
	Description string `json:"description"`
}

// Faults lists every fault the lab can inject.
var Faults = []Fault{
	{"dns-drift", "dns", "the external sip.contoso.test A record moves from 127.0.1.10 to 127.0.1.11 (drift away from the expected answer)"},
	{"dns-missing", "dns", "lyncdiscoverinternal.contoso.test disappears from the internal view"},
	{"dns-mixed", "dns", "the external lyncdiscover.contoso.test points to Skype for Business Online while every other record stays on-premises"},
	{"dns-split", "dns", "the internal view's _sipfederationtls._tcp.contoso.test points to another Edge than the external view's"},
}

// Lab is a running simulated estate.
type Lab struct {
	mu     sync.RWMutex
	active map[string]bool

	dns     *dnsServer
	ca      *CA
	caFile  string            // the CA certificate on disk, for SFBEX_CA_FILE
	routes  map[string]string // host:port clients use -> loopback address serving it
	closers []func()

	// The estate's machines (servers.go).
	Exchange, WebExt, Pool, Edge *Machine
}

// Start starts every part of the lab on loopback.
func Start() (*Lab, error) {
	l := &Lab{active: map[string]bool{}, routes: map[string]string{}}
	var err error
	if l.dns, err = startDNS(l); err != nil {
		return nil, fmt.Errorf("lab: starting the DNS server: %w", err)
	}
	if l.ca, err = newCA(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: creating the lab CA: %w", err)
	}
	dir, err := os.MkdirTemp("", "sfbex-lab-")
	if err != nil {
		l.Close()
		return nil, err
	}
	l.closers = append(l.closers, func() { os.RemoveAll(dir) })
	l.caFile = filepath.Join(dir, "lab-ca.pem")
	if err := os.WriteFile(l.caFile, l.ca.PEM, 0o644); err != nil {
		l.Close()
		return nil, err
	}
	if err := l.startMachines(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting the HTTPS servers: %w", err)
	}
	return l, nil
}

// CA returns the lab's certificate authority.
func (l *Lab) CA() *CA { return l.ca }

// Close stops every part of the lab.
func (l *Lab) Close() {
	if l.dns != nil {
		l.dns.close()
	}
	l.mu.Lock()
	closers := l.closers
	l.closers = nil
	l.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

// Set switches a fault on or off.
func (l *Lab) Set(name string, on bool) error {
	if !slices.ContainsFunc(Faults, func(f Fault) bool { return f.Name == name }) {
		return fmt.Errorf("unknown lab fault %q; known faults: %s", name, strings.Join(FaultNames(), ", "))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if on {
		l.active[name] = true
	} else {
		delete(l.active, name)
	}
	return nil
}

// On reports whether a fault is switched on.
func (l *Lab) On(name string) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.active[name]
}

// Active lists the faults switched on, sorted.
func (l *Lab) Active() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []string
	for n := range l.active {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FaultNames lists every fault's name.
func FaultNames() []string {
	var out []string
	for _, f := range Faults {
		out = append(out, f.Name)
	}
	return out
}

// Env is the agent configuration that points it at the lab, as the
// SFBEX_* environment variables an admin would set. Every check runs every
// interval.
func (l *Lab) Env(interval time.Duration) map[string]string {
	d := Domain
	timeout := min(interval, 10*time.Second).String()
	env := map[string]string{
		"SFBEX_SIP_DOMAINS":            d,
		"SFBEX_EMAIL_DOMAINS":          d,
		"SFBEX_DEPLOYMENT":             "hybrid",
		"SFBEX_EXCHANGE_DEPLOYMENT":    "onprem",
		"SFBEX_DNS_RESOLVERS":          "internal=" + l.dns.internalAddr + ",external=" + l.dns.externalAddr,
		"SFBEX_DNS_INTERNAL_RESOLVERS": "internal",
		"SFBEX_DNS_EXPECT": strings.Join([]string{
			"external@lyncdiscover." + d + "/CNAME=webext." + d,
			"internal@lyncdiscoverinternal." + d + "/CNAME=pool01." + d,
			"external@sip." + d + "/A=127.0.1.10",
			"internal@sip." + d + "/A=127.0.2.10",
			"external@_sip._tls." + d + "/SRV=443 sip." + d,
			"external@_sipfederationtls._tcp." + d + "/SRV=5061 sip." + d,
			"internal@_sipinternaltls._tcp." + d + "/SRV=5061 pool01." + d,
			"autodiscover." + d + "/CNAME=mail." + d,
		}, ","),
		"SFBEX_DNS_INTERVAL": interval.String(),
		"SFBEX_DNS_TIMEOUT":  timeout,
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.routes) > 0 {
		// The lab's HTTPS servers listen on loopback ports; the agent reaches
		// them for the names clients use, and trusts the lab CA.
		var ct []string
		for _, from := range slices.Sorted(maps.Keys(l.routes)) {
			ct = append(ct, from+"="+l.routes[from])
		}
		env["SFBEX_CONNECT_TO"] = strings.Join(ct, ",")
		env["SFBEX_CA_FILE"] = l.caFile
	}
	return env
}
