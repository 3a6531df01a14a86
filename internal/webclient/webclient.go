// Package webclient builds the HTTP clients and TLS dialers every
// HTTPS-speaking probe uses, so that they share one set of rules: TLS
// verification on unless an admin turns it off for one host, a custom CA
// bundle, connect-to overrides, bounded redirects that never downgrade from
// https to http, and bounded bodies.
package webclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/plural"
)

// Options configure clients and dialers.
type Options struct {
	// RootCAs verifies servers; nil means the system pool.
	RootCAs *x509.CertPool
	// InsecureHosts lists host names whose certificates are not verified.
	// Every use is logged by the caller at start.
	InsecureHosts []string
	// ConnectTo maps "host:port" to the "addr:port" to dial instead, like
	// curl's --connect-to: the request keeps its Host header and SNI.
	ConnectTo map[string]string
	// MaxRedirects bounds redirects followed (default 5).
	MaxRedirects int
	// UserAgent is sent with every request.
	UserAgent string
}

// LoadCAFile reads a PEM bundle into a pool that also trusts the system's
// roots. Every CERTIFICATE block must parse: a CA that is silently left
// out would surface later as an untrusted server. The error says which
// blocks the file holds and why each certificate was refused, and what to
// do about it.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	var (
		types    []string // every PEM block's type, in order
		problems []string
		loaded   int
		negative bool
	)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		types = append(types, block.Type)
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			problems = append(problems, fmt.Sprintf("block %d (CERTIFICATE): %v", len(types), err))
			negative = negative || strings.Contains(err.Error(), "negative serial number")
			continue
		}
		pool.AddCert(cert)
		loaded++
	}
	switch {
	case len(problems) > 0:
		hint := "replace the certificates Go cannot parse"
		if negative {
			hint = "a negative serial number (Samba's self-generated certificates have one) is refused by Go since 1.23: " +
				"issue the server a proper certificate, or start the agent with GODEBUG=x509negativeserial=1 in its environment; " +
				"SFBEX_TLS_INSECURE_HOSTS does not help, as Go refuses such a certificate before any verification"
		}
		return nil, &CAFileError{msg: fmt.Sprintf("%s holds %d PEM block(s), of which %d certificate(s) cannot be parsed: %s", path, len(types), len(problems), strings.Join(problems, "; ")), Hint: hint}
	case loaded == 0 && len(types) > 0:
		return nil, &CAFileError{msg: fmt.Sprintf("%s holds no CERTIFICATE block, only %s", path, strings.Join(types, ", ")),
			Hint: "point it at the CA certificates (BEGIN CERTIFICATE), not at a key or a request"}
	case loaded == 0:
		return nil, &CAFileError{msg: fmt.Sprintf("%s holds no PEM certificate", path),
			Hint: "point it at a PEM bundle of the CAs that issued your servers' certificates, e.g. SFBEX_CA_FILE=/etc/ssl/certs/contoso-root.pem"}
	}
	return pool, nil
}

// CAFileError is a CA file LoadCAFile refuses; Hint says what to do.
type CAFileError struct {
	msg  string
	Hint string
}

func (e *CAFileError) Error() string { return e.msg }

// ParseConnectTo parses "host:port=addr:port,..." (curl's --connect-to).
func ParseConnectTo(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		from, to, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not host:port=addr:port", item)
		}
		for _, hp := range []string{from, to} {
			h, p, err := net.SplitHostPort(hp)
			n, perr := strconv.Atoi(p)
			if err != nil || h == "" || perr != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("%q is not host:port=addr:port (%q has no valid port)", item, hp)
			}
		}
		out[strings.ToLower(from)] = to
	}
	return out, nil
}

// TLSConfig returns the TLS configuration for connecting to serverName.
func (o *Options) TLSConfig(serverName string) *tls.Config {
	return &tls.Config{
		RootCAs:            o.RootCAs,
		ServerName:         serverName,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: o.Insecure(serverName), //nolint:gosec // per host, chosen by the admin, logged at start
	}
}

// Insecure reports whether verification is off for host.
func (o *Options) Insecure(host string) bool {
	return slices.ContainsFunc(o.InsecureHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// DialContext dials addr ("host:port"), or where ConnectTo sends it.
func (o *Options) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := o.ConnectTo[strings.ToLower(addr)]; ok {
		addr = to
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// ErrInsecureRedirect is returned when a redirect would leave https for http.
var ErrInsecureRedirect = errors.New("redirect from https to http refused")

// Client returns an HTTP client that follows at most MaxRedirects redirects,
// never from https to http, with keep-alives off (probes measure a fresh
// connection each run, as a client that starts up would).
func (o *Options) Client() *http.Client { return o.client(false) }

// SessionClient is Client with keep-alives on and one connection per host,
// for connection-bound authentication (NTLM, Negotiate), whose handshake
// must stay on one TCP connection. Call CloseIdleConnections when done.
func (o *Options) SessionClient() *http.Client { return o.client(true) }

func (o *Options) client(session bool) *http.Client {
	maxRedirects := o.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = 5
	}
	tr := &http.Transport{
		DialContext:           o.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableKeepAlives:     !session,
		ForceAttemptHTTP2:     false,
		Proxy:                 nil, // probes test the direct path clients use; a proxy would hide it
	}
	if session {
		tr.MaxConnsPerHost = 1
		tr.IdleConnTimeout = 30 * time.Second
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		raw, err := o.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, o.TLSConfig(host))
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %s", plural.Count(maxRedirects, "redirect", "redirects"))
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: %s", ErrInsecureRedirect, req.URL.Redacted())
			}
			return nil
		},
	}
}

// ReadBody reads at most limit bytes of r and says whether there was more.
// It is for bodies a parser needs whole; ReadPrefix is for checks that need
// only their start.
func ReadBody(r io.Reader, limit int64) (body []byte, truncated bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(body)) > limit {
		return body[:limit], true, err
	}
	return body, false, err
}

// ReadPrefix keeps the first keep bytes of r and reads the rest, up to
// limit bytes in all, without keeping it: a check that classifies a body
// by its start still learns its length (n) and whether it was longer than
// limit, and its memory stays that of the prefix whatever the limit.
func ReadPrefix(r io.Reader, keep, limit int64) (prefix []byte, n int64, truncated bool, err error) {
	keep = max(0, min(keep, limit))
	buf := make([]byte, keep)
	k, err := io.ReadFull(r, buf)
	prefix, n = buf[:k], int64(k)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return prefix, n, false, nil // the whole body fits in the prefix
	case err != nil:
		return prefix, n, false, err
	}
	// io.Discard reads through a small pooled buffer.
	rest, err := io.Copy(io.Discard, io.LimitReader(r, limit-n+1))
	n += rest
	if n > limit {
		return prefix, limit, true, err
	}
	return prefix, n, false, err
}

// DialTarget connects where a client would reach hostPort: through a
// SFBEX_CONNECT_TO override if there is one; else to addrs (the SRV
// target's addresses the configured resolvers gave), the first that
// answers; else to the host name through the system resolver. It returns
// the address it connected to.
func (o *Options) DialTarget(ctx context.Context, hostPort string, addrs []string, port int) (net.Conn, string, error) {
	if to, ok := o.ConnectTo[strings.ToLower(hostPort)]; ok || len(addrs) == 0 {
		c, err := o.DialContext(ctx, "tcp", hostPort)
		if ok {
			hostPort = to
		}
		if err != nil {
			return nil, hostPort, fmt.Errorf("connecting to %s: %w", hostPort, err)
		}
		return c, hostPort, nil
	}
	var errs []error
	var d net.Dialer
	for _, a := range addrs {
		addr := net.JoinHostPort(a, strconv.Itoa(port))
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c, addr, nil
		}
		errs = append(errs, fmt.Errorf("connecting to %s: %w", addr, err))
	}
	return nil, "", errors.Join(errs...)
}
