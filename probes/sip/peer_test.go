package sip

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/lab"
)

// testCA issues the test peers' certificates; made once per test binary.
var testCA = sync.OnceValues(lab.NewCA)

func issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	ca, err := testCA()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(lab.CertSpec{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func roots(t testing.TB) *x509.CertPool {
	ca, err := testCA()
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// peer is an in-process TLS server on loopback whose behaviour after the
// handshake is handle's. It stops when the test ends.
type peer struct {
	addr string
	ln   net.Listener
	wg   sync.WaitGroup
}

func startPeer(t testing.TB, cfg *tls.Config, handle func(c *tls.Conn)) *peer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{addr: ln.Addr().String(), ln: ln}
	var mu sync.Mutex
	var conns []net.Conn
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				if tc.Handshake() != nil {
					return
				}
				handle(tc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// readRequest reads one SIP request from c with sipgo's parser.
func readRequest(c io.Reader) (*sip.Request, error) {
	stream := sip.NewParser().NewSIPStream()
	defer stream.Close()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			_, _ = stream.Write(buf[:n])
			msg, _, perr := stream.ParseNext()
			if perr == nil {
				if r, ok := msg.(*sip.Request); ok {
					return r, nil
				}
				return nil, errors.New("not a request")
			}
			if !errors.Is(perr, io.ErrUnexpectedEOF) {
				return nil, perr
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// answerWith answers the request with status, reason and extra headers
// ("Name: value").
func answerWith(status int, reason string, headers ...string) func(*tls.Conn) {
	return func(c *tls.Conn) {
		req, err := readRequest(c)
		if err != nil {
			return
		}
		res := sip.NewResponseFromRequest(req, status, reason, nil)
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			res.AppendHeader(sip.NewHeader(k, v))
		}
		_, _ = c.Write([]byte(res.String()))
		_, _ = io.Copy(io.Discard, c) // hold until the client closes
	}
}

func serverConfig(t testing.TB, names ...string) *tls.Config {
	c := issue(t, names...)
	return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}
}

// configured builds a prober for one configured target, host:port, that
// the test reaches at addr.
func configured(t testing.TB, host string, port int, addr string, s *Settings) *Prober {
	t.Helper()
	if s == nil {
		s = &Settings{RequestTimeout: time.Second, MaxAnswerBytes: 65536, From: "sfbex-probe@contoso.test", Accept: []int{200}}
	}
	web := &webclient.Options{RootCAs: roots(t), ConnectTo: map[string]string{net.JoinHostPort(host, strconv.Itoa(port)): addr}, UserAgent: "sfbex_exporter/test"}
	p, err := NewProber(Config{Service: Configured, Settings: s, Web: web, Targets: []Target{{Host: host, Port: port}}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t testing.TB, p *Prober, timeout time.Duration) (*Result, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	r, err := p.Probe(ctx)
	took := time.Since(start)
	res, ok := r.(*Result)
	if !ok || res == nil {
		t.Fatalf("Probe returned %T", r)
	}
	return res, took, err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
