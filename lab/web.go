package lab

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// serveHTTPS starts an HTTPS server on a free loopback port. getCert is asked
// on every handshake, so a fault can swap the certificate at run time. The
// server is stopped by Lab.Close. Callers map the host names clients use to
// the returned address with Lab.route, so the agent reaches it through
// SFBEX_CONNECT_TO exactly as it would reach a real server on port 443.
func (l *Lab) serveHTTPS(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{GetCertificate: getCert, MinVersion: tls.VersionTLS12},
		ErrorLog:          nil,
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener was closed under us: Close is running
		}
	}()
	l.mu.Lock()
	l.closers = append(l.closers, func() { _ = srv.Close() })
	l.mu.Unlock()
	return ln.Addr().String(), nil
}

// route makes the agent reach hostPort ("autodiscover.contoso.test:443") at
// addr, through SFBEX_CONNECT_TO.
func (l *Lab) route(hostPort, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.routes[hostPort] = addr
}
