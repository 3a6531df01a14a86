package autodiscover

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/loopback"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// testCA issues certificates the estate's servers present.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

const (
	testDomain   = "contoso.test"
	testUser     = "sfbex-probe@contoso.test"
	testPassword = "N0t-In-Any-0utput!"
	internalEWS  = "https://mail.contoso.test/EWS/Exchange.asmx"
	externalEWS  = "https://owa.contoso.test/EWS/Exchange.asmx"
)

// testEstate is a small contoso.test: Exchange answering on contoso.test,
// autodiscover.contoso.test and mail.contoso.test (one HTTPS server, by
// Host), the plain-HTTP redirect, a foreign host, a server with a wrong
// certificate, and a DNS server with the _autodiscover._tcp SRV record.
// Tests change its behaviour through the fields under mu.
type testEstate struct {
	web      *webclient.Options
	resolver estate.Resolver
	addr     map[string]string // server name -> address, for re-routing

	mu sync.Mutex
	// status forces a status on a host's autodiscover paths; 302 redirects
	// to evil.example.net.
	status map[string]int
	// html makes a host answer a web page with 200.
	html map[string]bool
	// redirectTo is the Location the plain-HTTP method answers ("" = 200).
	redirectTo string
	// srv is the SRV record's target ("" = NXDOMAIN); dnsSilent drops queries.
	srv       string
	dnsSilent bool
	// poxRedirect makes the first POX answer a redirectUrl to it.
	poxRedirect string
	// hits counts requests per host; authHits those with credentials.
	hits, authHits map[string]int
	hang           chan struct{}
}

func newEstate(t *testing.T) *testEstate {
	t.Helper()
	e := &testEstate{
		status: map[string]int{}, html: map[string]bool{}, hits: map[string]int{}, authHits: map[string]int{},
		redirectTo: "https://autodiscover." + testDomain + "/autodiscover/autodiscover.xml",
		srv:        "mail." + testDomain, addr: map[string]string{},
	}
	ca := newTestCA(t)
	quiet := log.New(io.Discard, "", 0)
	start := func(h http.Handler, cert tls.Certificate) string {
		s := httptest.NewUnstartedServer(h)
		s.Config.ErrorLog = quiet
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}
	good := start(e, ca.issue(t, testDomain, "autodiscover."+testDomain, "mail."+testDomain, "owa."+testDomain, "hosted.example.net"))
	wrong := start(e, ca.issue(t, "www.fabrikam.test"))
	plain := httptest.NewServer(http.HandlerFunc(e.plain))
	t.Cleanup(plain.Close)
	e.addr = map[string]string{"good": good, "wrong": wrong}
	e.web = &webclient.Options{RootCAs: ca.pool, UserAgent: "sfbex-test", ConnectTo: map[string]string{
		testDomain + ":443":                   good,
		"autodiscover." + testDomain + ":443": good,
		"mail." + testDomain + ":443":         good,
		"owa." + testDomain + ":443":          good,
		"hosted.example.net:443":              good,
		"evil.example.net:443":                good,
		"autodiscover." + testDomain + ":80":  plain.Listener.Addr().String(),
	}}
	e.resolver = estate.Resolver{Name: "external", Addr: e.serveDNS(t)}
	return e
}

// route sends host:443 to the server named ("good" or "wrong").
func (e *testEstate) route(host, server string) { e.web.ConnectTo[host+":443"] = e.addr[server] }

func (e *testEstate) set(f func(e *testEstate)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

func (e *testEstate) count(host string) (hits, auth int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[host], e.authHits[host]
}

func (e *testEstate) config() Config {
	return Config{
		Domain: testDomain, Exchange: estate.OnPrem, Resolvers: []estate.Resolver{e.resolver}, QueryTimeout: time.Second, // generous: CI shares two cores
		Web: e.web, RequestTimeout: 2 * time.Second, MaxBody: 1 << 20,
		Credentials: httpprobe.NewCredentials(testUser, testPassword, httpprobe.AuthBasic), Mailbox: testUser,
		SFBURL: "https://autodiscover." + testDomain + "/autodiscover/autodiscover.svc",
	}
}

func (e *testEstate) plain(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	to := e.redirectTo
	e.mu.Unlock()
	if to == "" {
		fmt.Fprint(w, "<html>IIS default page</html>")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// ServeHTTP is Exchange: 401 with challenges without credentials, POX and
// SOAP answers for the probe mailbox with Basic.
func (e *testEstate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	e.mu.Lock()
	e.hits[host]++
	if r.Header.Get("Authorization") != "" {
		e.authHits[host]++
	}
	status, html, hang := e.status[host], e.html[host], e.hang
	e.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	path := strings.ToLower(r.URL.Path)
	switch {
	case status == http.StatusFound:
		http.Redirect(w, r, "https://evil.example.net/autodiscover/autodiscover.xml", http.StatusFound)
		return
	case status != 0:
		w.WriteHeader(status)
		return
	case html:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!DOCTYPE html><html><body>Welcome to Contoso</body></html>")
		return
	case path != "/autodiscover/autodiscover.xml" && path != "/autodiscover/autodiscover.svc":
		http.NotFound(w, r)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPassword {
		w.Header().Add("WWW-Authenticate", `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="`+host+`"`)
		w.WriteHeader(401)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	known := strings.Contains(string(body), ">"+testUser+"<")
	var poxRedirect string
	if strings.HasSuffix(path, ".xml") {
		e.mu.Lock()
		poxRedirect, e.poxRedirect = e.poxRedirect, ""
		e.mu.Unlock()
	}
	switch {
	case strings.HasSuffix(path, ".xml") && poxRedirect != "":
		fmt.Fprintf(w, `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="%s"><Account><Action>redirectUrl</Action><RedirectUrl>%s</RedirectUrl></Account></Response></Autodiscover>`, poxResponseSchema, poxRedirect)
	case strings.HasSuffix(path, ".xml") && !known:
		fmt.Fprint(w, `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="10:00:00" Id="1"><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message></Error></Response></Autodiscover>`)
	case strings.HasSuffix(path, ".xml"):
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="%s"><Account><Action>settings</Action>`+
			`<Protocol><Type>EXCH</Type><ServerVersion>73C28A02</ServerVersion><EwsUrl>%s</EwsUrl></Protocol>`+
			`<Protocol><Type>EXPR</Type><EwsUrl>%s</EwsUrl></Protocol></Account></Response></Autodiscover>`, poxResponseSchema, internalEWS, externalEWS)
	case !known:
		fmt.Fprint(w, soapAnswer("InvalidUser", ""))
	default:
		fmt.Fprint(w, soapAnswer("NoError", internalEWS))
	}
}

func soapAnswer(code, ews string) string {
	settings := ""
	if ews != "" {
		settings = `<UserSettings><UserSetting><Name>InternalEwsUrl</Name><Value>` + ews + `</Value></UserSetting><UserSetting><Name>ExternalEwsUrl</Name><Value>` + externalEWS + `</Value></UserSetting></UserSettings>`
	}
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo xmlns:h="` + soapNS + `"><h:MajorVersion>15</h:MajorVersion><h:MinorVersion>2</h:MinorVersion><h:MajorBuildNumber>2562</h:MajorBuildNumber></h:ServerVersionInfo></s:Header>` +
		`<s:Body><GetUserSettingsResponseMessage xmlns="` + soapNS + `"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>` + code + `</ErrorCode><ErrorMessage>x</ErrorMessage>` + settings +
		`</UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`
}

// serveDNS answers _autodiscover._tcp.contoso.test SRV and the targets' A
// records, on UDP and TCP.
func (e *testEstate) serveDNS(t *testing.T) string {
	t.Helper()
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		e.mu.Lock()
		silent, target := e.dnsSilent, e.srv
		e.mu.Unlock()
		if silent {
			return
		}
		m := new(mdns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch {
		case q.Qtype == mdns.TypeSRV && strings.EqualFold(q.Name, "_autodiscover._tcp."+testDomain+".") && target != "":
			rr, _ := mdns.NewRR(q.Name + " 300 IN SRV 0 0 443 " + target + ".")
			m.Answer = append(m.Answer, rr)
		case q.Qtype == mdns.TypeA && !strings.HasPrefix(q.Name, "_"):
			rr, _ := mdns.NewRR(q.Name + " 300 IN A 127.0.0.1")
			m.Answer = append(m.Answer, rr)
		default:
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc, ln, err := loopback.ListenPair()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go s.ActivateAndServe()
		<-started
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return pc.LocalAddr().String()
}
