package httpprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// tlsServer starts an httptest TLS server (its certificate covers
// example.com and *.example.com) and options that trust it and reach
// every given host:443 there.
func tlsServer(t *testing.T, h http.Handler, hosts ...string) (*httptest.Server, *webclient.Options) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point of some tests
	srv.StartTLS()
	t.Cleanup(srv.Close)
	o := &webclient.Options{
		RootCAs:   srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		ConnectTo: map[string]string{},
		UserAgent: "sfbex-test",
	}
	for _, h := range append(hosts, "example.com") {
		o.ConnectTo[h+":443"] = srv.Listener.Addr().String()
	}
	return srv, o
}

func TestDoStatusOutcomes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fine") })
	mux.HandleFunc("/challenge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("WWW-Authenticate", "Negotiate")
		w.Header().Add("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(401)
	})
	mux.HandleFunc("/bare401", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/ok", http.StatusFound)
	})
	mux.HandleFunc("/ua", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.UserAgent()) })
	_, o := tlsServer(t, mux)
	for _, tc := range []struct {
		path    string
		follow  bool
		outcome Outcome
		status  int
		detail  string
	}{
		{"/ok", false, OK, 200, ""},
		{"/challenge", false, Challenged, 401, ""},
		{"/bare401", false, ClientError, 401, "without an authentication challenge"},
		{"/missing", false, ClientError, 404, ""},
		{"/down", false, ServerError, 503, ""},
		{"/moved", false, Redirect, 302, "redirects to https://example.com/ok"},
		{"/moved", true, OK, 200, ""},
	} {
		a, _ := Do(context.Background(), o, Request{URL: "https://example.com" + tc.path, FollowRedirects: tc.follow, Timeout: 5 * time.Second})
		if a.Outcome != tc.outcome || a.Status != tc.status || !strings.Contains(a.Detail, tc.detail) {
			t.Errorf("%s (follow %v): %+v, want %s %d %q", tc.path, tc.follow, a, tc.outcome, tc.status, tc.detail)
		}
		if a.Outcome.Reachable() != (tc.outcome == OK || tc.outcome == Challenged) {
			t.Errorf("%s: Reachable wrong", tc.path)
		}
		if a.TLS == nil || !a.TLS.Verified || a.TLS.Version == "" || a.Duration <= 0 {
			t.Errorf("%s: TLS %+v, duration %v", tc.path, a.TLS, a.Duration)
		}
	}
	a, _ := Do(context.Background(), o, Request{URL: "https://example.com/challenge"})
	if len(a.Challenges) != 2 || a.Challenges[1].Param("realm") != "x" {
		t.Errorf("challenges %+v", a.Challenges)
	}
	a, _ = Do(context.Background(), o, Request{URL: "https://example.com/moved", FollowRedirects: true})
	if a.FinalURL != "https://example.com/ok" || len(a.Redirects) != 1 {
		t.Errorf("final %q redirects %v", a.FinalURL, a.Redirects)
	}
	_, body := Do(context.Background(), o, Request{URL: "https://example.com/ua"})
	if string(body) != "sfbex-test" {
		t.Errorf("User-Agent %q", body)
	}
}

func TestDoTLSFailures(t *testing.T) {
	srv, o := tlsServer(t, http.NotFoundHandler())
	// A name the certificate does not cover.
	o.ConnectTo["mail.contoso.test:443"] = srv.Listener.Addr().String()
	a, _ := Do(context.Background(), o, Request{URL: "https://mail.contoso.test/", Timeout: 5 * time.Second})
	if a.Outcome != TLSError || !strings.Contains(a.Detail, "certificate") {
		t.Errorf("wrong name: %+v", a)
	}
	// A CA the agent does not trust.
	untrusted := *o
	untrusted.RootCAs = nil
	a, _ = Do(context.Background(), &untrusted, Request{URL: "https://example.com/", Timeout: 5 * time.Second})
	if a.Outcome != TLSError {
		t.Errorf("untrusted CA: %+v", a)
	}
	// Verification off for the host: answered, and marked unverified.
	untrusted.InsecureHosts = []string{"example.com"}
	a, _ = Do(context.Background(), &untrusted, Request{URL: "https://example.com/", Timeout: 5 * time.Second})
	if a.Outcome != ClientError || a.TLS == nil || a.TLS.Verified {
		t.Errorf("insecure host: %+v %+v", a, a.TLS)
	}
}

func TestDoTimeoutAndConnectError(t *testing.T) {
	block := make(chan struct{})
	_, o := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer close(block)
	start := time.Now()
	a, _ := Do(context.Background(), o, Request{URL: "https://example.com/", Timeout: 200 * time.Millisecond})
	if a.Outcome != Timeout || time.Since(start) > 3*time.Second {
		t.Errorf("hanging server: %+v after %v", a, time.Since(start))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o.ConnectTo["closed.example.com:443"] = addr
	a, _ = Do(context.Background(), o, Request{URL: "https://closed.example.com/", Timeout: 2 * time.Second})
	if a.Outcome != ConnectError {
		t.Errorf("closed port: %+v", a)
	}
}

func TestDoRedirectRules(t *testing.T) {
	var elsewhere atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("example.com/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example.com/x", http.StatusFound)
	})
	mux.HandleFunc("evil.example.com/", func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) })
	mux.HandleFunc("example.com/plain", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.com/x", http.StatusFound)
	})
	mux.HandleFunc("example.com/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	_, o := tlsServer(t, mux, "evil.example.com")
	allow := func(h string) bool { return h == "example.com" }

	a, _ := Do(context.Background(), o, Request{URL: "https://example.com/away", FollowRedirects: true, AllowHost: allow})
	if a.Outcome != WrongRedirect || !strings.Contains(a.Detail, "evil.example.com") || elsewhere.Load() != 0 {
		t.Errorf("redirect to a host not allowed: %+v, contacted %d times", a, elsewhere.Load())
	}
	a, _ = Do(context.Background(), o, Request{URL: "https://example.com/plain", FollowRedirects: true})
	if a.Outcome != InsecureRedirect {
		t.Errorf("https to http: %+v", a)
	}
	o.MaxRedirects = 3
	a, _ = Do(context.Background(), o, Request{URL: "https://example.com/loop", FollowRedirects: true})
	if a.Outcome != TooManyRedirects || len(a.Redirects) != 4 {
		t.Errorf("loop: %+v", a)
	}
}

func TestDoBoundsTheBody(t *testing.T) {
	_, o := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 10000)))
	}))
	a, body := Do(context.Background(), o, Request{URL: "https://example.com/", MaxBody: 100})
	if len(body) != 100 || !a.Truncated || a.Outcome != OK {
		t.Fatalf("%d bytes, truncated %v, %s", len(body), a.Truncated, a.Outcome)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Outcome
	}{
		{&net.DNSError{Err: "no such host", Name: "x.contoso.test", IsNotFound: true}, NameError},
		{&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}, Timeout},
		{context.DeadlineExceeded, Timeout},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ConnectError},
		{tls.AlertError(40), TLSError},
		{fmt.Errorf("x: %w", webclient.ErrInsecureRedirect), InsecureRedirect},
		{errors.New("something else"), Error},
	} {
		if got, _ := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}
