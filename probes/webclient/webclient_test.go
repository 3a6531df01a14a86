package webclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseConnectTo(t *testing.T) {
	m, err := ParseConnectTo("Autodiscover.contoso.com:443=127.0.0.1:8443, sip.contoso.com:5061=127.0.0.2:5061")
	if err != nil {
		t.Fatal(err)
	}
	if m["autodiscover.contoso.com:443"] != "127.0.0.1:8443" || m["sip.contoso.com:5061"] != "127.0.0.2:5061" {
		t.Fatalf("%v", m)
	}
	for _, bad := range []string{"a:443", "a=b", "a:443=b", "a:0=b:1", ":443=b:1", "a:443=b:x"} {
		if _, err := ParseConnectTo(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseConnectTo(%q) = %v, want an error quoting it", bad, err)
		}
	}
}

func TestConnectToKeepsHostAndVerifiesTheName(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Host))
	}))
	defer srv.Close()
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	// httptest's certificate is for example.com: connect-to keeps that name.
	o := &Options{RootCAs: pool, ConnectTo: map[string]string{"example.com:443": srv.Listener.Addr().String()}}
	resp, err := o.Client().Get("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	body, _, _ := ReadBody(resp.Body, 100)
	resp.Body.Close()
	if string(body) != "example.com" {
		t.Fatalf("Host = %q", body)
	}
	// A name the certificate does not cover fails verification...
	o.ConnectTo["wrong.contoso.test:443"] = srv.Listener.Addr().String()
	if _, err := o.Client().Get("https://wrong.contoso.test/"); err == nil {
		t.Fatal("a certificate for another name was accepted")
	}
	// ...unless the admin turned verification off for that host.
	o.InsecureHosts = []string{"WRONG.contoso.test"}
	if _, err := o.Client().Get("https://wrong.contoso.test/"); err != nil {
		t.Fatalf("insecure host still verified: %v", err)
	}
}

func TestRedirectFromHTTPSToHTTPIsRefused(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL, http.StatusFound)
	}))
	defer tlsSrv.Close()
	o := &Options{RootCAs: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	_, err := o.Client().Get(tlsSrv.URL)
	if !errors.Is(err, ErrInsecureRedirect) {
		t.Fatalf("err = %v, want ErrInsecureRedirect", err)
	}
}

func TestRedirectsAreBounded(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	defer srv.Close()
	for n, want := range map[int]string{3: "stopped after 3 redirects", 1: "stopped after 1 redirect"} {
		o := &Options{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxRedirects: n}
		_, err := o.Client().Get(srv.URL)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("MaxRedirects %d: err = %v, want it to end in %q", n, err, want)
		}
	}
}

func TestReadBodyLimit(t *testing.T) {
	b, trunc, err := ReadBody(strings.NewReader("0123456789"), 4)
	if err != nil || !trunc || string(b) != "0123" {
		t.Fatalf("%q %v %v", b, trunc, err)
	}
	b, trunc, _ = ReadBody(strings.NewReader("0123"), 4)
	if trunc || string(b) != "0123" {
		t.Fatalf("%q %v", b, trunc)
	}
}

func TestDialWithoutOverrideGoesToTheAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := (&Options{}).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
