package lab

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The SIP part of the lab (probes/sip): the Edge's Access Edge answers
// OPTIONS over TLS on 443 (remote clients, _sip._tls) and 5061
// (federation, _sipfederationtls._tcp, asking for a client certificate as
// federation's mutual TLS does), and the pool's Front End on 5061
// (_sipinternaltls._tcp). Each answers as Skype for Business Server 2019
// does (Server: RTC/7.0) unless a fault says otherwise.

// sipServerHeader is what the lab's servers put in Server.
const sipServerHeader = "RTC/7.0"

// sipPort is one SIP-over-TLS listener.
type sipPort struct {
	lab              *Lab
	edge, federation bool
	cert             func() *tls.Certificate
}

func (l *Lab) startSIP(dir string) error {
	keys, err := labKeys()
	if err != nil {
		return err
	}
	// The Edge's internal certificate, bound to the external federation
	// port by mistake: it lacks sip.contoso.test.
	internalCert, err := l.ca.Issue(CertSpec{Subject: pkix.Name{CommonName: "edge01." + Domain, Organization: []string{"Contoso"}},
		DNSNames: []string{"edge01." + Domain}, Key: keys.edge})
	if err != nil {
		return err
	}
	// The agent's client certificate, for the federation port's mutual TLS.
	client, err := l.ca.Issue(CertSpec{Subject: pkix.Name{CommonName: "sfbex-probe." + Domain, Organization: []string{"Contoso"}}, DNSNames: []string{"sfbex-probe." + Domain}})
	if err != nil {
		return err
	}
	l.sipClientCert = filepath.Join(dir, "sip-client.pem")
	if err := writeCertPEM(l.sipClientCert, client); err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(l.ca.Cert)
	for _, p := range []struct {
		hostPort         string
		edge, federation bool
		cert             func() *tls.Certificate
	}{
		{"sip." + Domain + ":443", true, false, l.Edge.Cert},
		{"sip." + Domain + ":5061", true, true, func() *tls.Certificate {
			// The Edge-wide certificate faults take precedence: with every
			// fault on, the TLS family's view of 5061 stays theirs.
			if l.On("sip-federation-cert-no-name") && !l.On("edge-cert-wrong-name") && !l.On("tls-expired") {
				return &internalCert
			}
			return l.Edge.Cert()
		}},
		{"pool01." + Domain + ":5061", false, false, l.Pool.Cert},
	} {
		sp := &sipPort{lab: l, edge: p.edge, federation: p.federation, cert: p.cert}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return sp.cert(), nil }}
		if p.federation {
			cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, pool
		}
		addr, err := l.serveTLS(cfg, sp.serve)
		if err != nil {
			return err
		}
		l.route(p.hostPort, addr)
	}
	return nil
}

// writeCertPEM writes a certificate and its key to one PEM file.
func writeCertPEM(path string, c tls.Certificate) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return err
	}
	var b []byte
	for _, der := range c.Certificate {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	return os.WriteFile(path, b, 0o600)
}

// serveTLS accepts TLS connections on a free loopback port and hands each
// to serve. Lab.Close stops it and closes open connections.
func (l *Lab) serveTLS(cfg *tls.Config, serve func(*tls.Conn)) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	done := false
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if done {
				mu.Unlock()
				c.Close()
				return
			}
			open[c] = true
			mu.Unlock()
			go func() {
				defer func() {
					mu.Lock()
					delete(open, c)
					mu.Unlock()
					c.Close()
				}()
				serve(tls.Server(c, cfg))
			}()
		}
	}()
	l.mu.Lock()
	l.closers = append(l.closers, func() {
		_ = ln.Close()
		mu.Lock()
		done = true
		for c := range open {
			c.Close()
		}
		mu.Unlock()
	})
	l.mu.Unlock()
	return ln.Addr().String(), nil
}

// serve answers SIP requests on one connection, as the Access Edge or the
// Front End would, with the active faults applied.
func (p *sipPort) serve(c *tls.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.Handshake(); err != nil {
		return
	}
	if p.edge && p.lab.On("sip-edge-stopped") {
		// A load balancer completes TLS, then finds no Access Edge
		// service behind it and drops the connection.
		return
	}
	parser := sip.NewParser()
	parser.MaxMessageLength = 16 << 10
	stream := parser.NewSIPStream()
	defer stream.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			_, _ = stream.Write(buf[:n])
			for stream.Buffer().Len() > 0 {
				msg, _, perr := stream.ParseNext()
				if errors.Is(perr, io.ErrUnexpectedEOF) {
					break
				}
				if perr != nil {
					return
				}
				req, ok := msg.(*sip.Request)
				if !ok {
					continue
				}
				if _, err := c.Write([]byte(p.answer(req).String())); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// answer is the lab server's answer to req.
func (p *sipPort) answer(req *sip.Request) *sip.Response {
	l := p.lab
	var res *sip.Response
	switch {
	case req.Method != sip.OPTIONS:
		res = sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
	case p.federation && l.On("sip-federation-504"):
		res = sip.NewResponseFromRequest(req, 504, "Server time-out", nil)
		res.AppendHeader(sip.NewHeader("ms-diagnostics", `1034;reason="Previous hop federated peer did not report diagnostic information";Domain="fabrikam.test";PeerServer="sip.fabrikam.test";source="sip.`+Domain+`"`))
	case p.federation && l.On("sip-federation-403"):
		res = sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		res.AppendHeader(sip.NewHeader("ms-diagnostics", `1000;reason="Federation is not allowed for this domain by the Access Edge configuration";source="sip.`+Domain+`"`))
	default:
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, BYE, ACK, CANCEL, INFO, UPDATE, MESSAGE, SUBSCRIBE, NOTIFY, PRACK, OPTIONS, BENOTIFY, SERVICE"))
		res.AppendHeader(sip.NewHeader("Supported", "ms-dialog-route-set-update, gruu-10, ms-benotify, ms-edge-proxy-message-trust"))
	}
	res.AppendHeader(sip.NewHeader("Server", sipServerHeader))
	return res
}

// sipEnv is the SIP family's configuration for the lab: every run a new
// connection to each of the three targets, 3 s each at most, and the
// lab's client certificate for the federation port.
func (l *Lab) sipEnv(interval time.Duration) map[string]string {
	return map[string]string{
		"SFBEX_SIP_INTERVAL":        interval.String(),
		"SFBEX_SIP_TIMEOUT":         min(interval, 10*time.Second).String(),
		"SFBEX_SIP_REQUEST_TIMEOUT": min(interval/2, 3*time.Second).String(),
		"SFBEX_SIP_CLIENT_CERT":     l.sipClientCert,
	}
}
