package webclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
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

// endless is a body without end that counts what was read of it.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}

func TestReadPrefixKeepsOnlyThePrefixAndStopsAtTheLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		body      string
		keep      int64
		prefix    string
		n         int64
		truncated bool
	}{
		{"empty", "", 4, "", 0, false},
		{"shorter than the prefix", "ab", 4, "ab", 2, false},
		{"exactly the limit", "abcdefghij", 4, "abcd", 10, false},
		{"one byte over the limit", "abcdefghijk", 4, "abcd", 10, true},
		{"prefix larger than the limit", "abcdefghijk", 64, "abcdefghij", 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix, n, truncated, err := ReadPrefix(strings.NewReader(tc.body), tc.keep, 10)
			if err != nil || string(prefix) != tc.prefix || n != tc.n || truncated != tc.truncated {
				t.Fatalf("ReadPrefix(%q) = %q, %d, %v, %v; want %q, %d, %v", tc.body, prefix, n, truncated, err, tc.prefix, tc.n, tc.truncated)
			}
		})
	}

	// An endless body at the largest allowed limit: read up to the limit and
	// one byte more, kept: the prefix only.
	const limit = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := &endless{}
	prefix, n, truncated, err := ReadPrefix(e, 4096, limit)
	runtime.ReadMemStats(&after)
	if err != nil || len(prefix) != 4096 || n != limit || !truncated {
		t.Fatalf("endless: %d bytes kept, n %d, truncated %v, %v", len(prefix), n, truncated, err)
	}
	if e.read < limit+1 || e.read > limit+64<<10 {
		t.Errorf("endless: read %d bytes of it, want just over the limit %d", e.read, limit)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("endless: reading %d bytes allocated %d bytes; it must keep only the prefix", e.read, alloc)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestReadPrefixReportsAReadError(t *testing.T) {
	for _, n := range []int{2, 100} {
		if _, _, _, err := ReadPrefix(&failAfter{n: n}, 8, 1000); err == nil || !strings.Contains(err.Error(), "reset") {
			t.Errorf("failing after %d bytes: err %v", n, err)
		}
	}
}
