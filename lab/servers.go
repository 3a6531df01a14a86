package lab

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Machine is one server of the lab estate, reachable over HTTPS on the
// names clients use. Probe families add their endpoints to Mux in their own
// lab files, and faults swap the certificate with SetCert. The Edge serves
// SIP over TLS instead (sip.go): its Mux is unused and its Addr empty.
type Machine struct {
	// Names are the host names clients use for this machine (the first is
	// its FQDN); each is routed on port 443 unless Ports says otherwise.
	Names []string
	Mux   *http.ServeMux
	Addr  string // loopback address of its HTTPS listener
	cert  atomic.Pointer[tls.Certificate]
}

// SetCert replaces the certificate the machine presents, from the next
// handshake on.
func (m *Machine) SetCert(c tls.Certificate) { m.cert.Store(&c) }

// Cert returns the certificate the machine presents now.
func (m *Machine) Cert() *tls.Certificate { return m.cert.Load() }

// The lab estate's machines, all for contoso.test.
var (
	// Exchange: autodiscover (on the domain and autodiscover.<d>), EWS, OWA,
	// and the Exchange auth metadata document.
	exchangeNames = []string{"mail." + Domain, "autodiscover." + Domain, Domain}
	// The reverse proxy publishing the external web services (lyncdiscover).
	webextNames = []string{"webext." + Domain, "lyncdiscover." + Domain}
	// The Front End pool: internal web services, lyncdiscoverinternal, and
	// the Skype for Business auth metadata document.
	poolNames = []string{"pool01." + Domain, "lyncdiscoverinternal." + Domain}
	// The Edge server's Access Edge interface: SIP over TLS on 443 and 5061.
	edgeNames = []string{"sip." + Domain}
)

// startMachines starts one HTTPS listener per machine, each with a lab-CA
// certificate for its names, and routes the names to it. The Edge's SIP
// ports (443 and 5061, as its SRV records give) are served by startSIP.
func (l *Lab) startMachines() error {
	for _, spec := range []struct {
		m     **Machine
		names []string
		ports []int
	}{
		{&l.Exchange, exchangeNames, []int{443}},
		{&l.WebExt, webextNames, []int{443}},
		{&l.Pool, poolNames, []int{443}},
		{&l.Edge, edgeNames, nil}, // SIP over TLS, not HTTPS: sip.go serves its ports
	} {
		m := &Machine{Names: spec.names, Mux: http.NewServeMux()}
		cert, err := l.ca.Issue(CertSpec{Subject: pkix.Name{CommonName: spec.names[0], Organization: []string{"Contoso"}}, DNSNames: spec.names})
		if err != nil {
			return err
		}
		m.SetCert(cert)
		if len(spec.ports) == 0 {
			*spec.m = m
			continue
		}
		if m.Addr, err = l.serveHTTPS(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return m.Cert(), nil }, m.Mux); err != nil {
			return err
		}
		for _, n := range spec.names {
			for _, p := range spec.ports {
				l.route(fmt.Sprintf("%s:%d", n, p), m.Addr)
			}
		}
		*spec.m = m
	}
	return nil
}

// servePlainHTTP starts a plain HTTP listener on loopback for hostPort
// ("autodiscover.contoso.test:80") and routes it.
func (l *Lab) servePlainHTTP(hostPort string, h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	l.mu.Lock()
	l.closers = append(l.closers, func() { _ = srv.Close() })
	l.mu.Unlock()
	l.route(hostPort, ln.Addr().String())
	return nil
}
