package autodiscover

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/probes"
)

func run(t *testing.T, p *Prober) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if r == nil {
		t.Fatalf("no result (error %v)", err)
	}
	return r.(*Result), err
}

func findingWith(r probes.Result, sev probes.Severity, text string) bool {
	for _, f := range r.Findings() {
		if f.Severity == sev && strings.Contains(f.Subject+" "+f.Problem, text) {
			return true
		}
	}
	return false
}

func TestHealthyEstate(t *testing.T) {
	e := newEstate(t)
	p := NewProber(e.config())
	r, err := run(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, mr := range r.Methods {
		if !mr.Up || mr.Attempt.Outcome != httpprobe.Challenged {
			t.Errorf("%s: %+v", mr.Method, mr.Attempt)
		}
	}
	if r.Outlook != Root || r.Lync != Host {
		t.Errorf("ends on: outlook %q, lync %q", r.Outlook, r.Lync)
	}
	if srv := r.Method(SRV); srv.SRVTarget != "mail.contoso.test:443" || srv.Resolver != "external" || srv.Endpoint != "https://mail.contoso.test/autodiscover/autodiscover.xml" {
		t.Errorf("srv %+v", srv)
	}
	if hr := r.Method(HTTPRedirect); hr.Endpoint != "https://autodiscover.contoso.test/autodiscover/autodiscover.xml" || len(hr.Attempt.Redirects) != 1 {
		t.Errorf("http redirect %+v", hr)
	}
	if len(r.Requests) != 2 {
		t.Fatalf("requests %+v", r.Requests)
	}
	for _, rr := range r.Requests {
		if !rr.OK || rr.InternalEWS != internalEWS || rr.ExternalEWS != externalEWS || rr.Attempt.Scheme != "basic" {
			t.Errorf("%s: %+v", rr.Protocol, rr)
		}
		if !strings.HasPrefix(rr.Attempt.URL, "https://autodiscover.contoso.test/") {
			t.Errorf("%s asked %s, not the endpoint the Lync client ends on", rr.Protocol, rr.Attempt.URL)
		}
	}
	if v := r.Requests[0].ExchangeVersion; v != "15.2.2562" { // Exchange SE: in support
		t.Errorf("POX Exchange version %q", v)
	}
	if v := r.Requests[1].ExchangeVersion; v != "15.2.2562" {
		t.Errorf("SOAP Exchange version %q", v)
	}
	if s := r.SFB; s == nil || !s.SVC || !s.Up || !s.OAuth {
		t.Errorf("sfb %+v", s)
	}
	if len(r.Findings()) != 0 {
		t.Errorf("findings on a healthy estate: %v", r.Findings())
	}
	l, err := p.EWSURLs(context.Background())
	if err != nil || len(l.URLs) != 2 || l.URLs[0] != internalEWS || l.URLs[1] != externalEWS || l.Stale || l.At.IsZero() {
		t.Errorf("learned %+v %v", l, err)
	}
	if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "a Skype for Business client ends on: autodiscover_host") || !strings.Contains(d, "srv") {
		t.Errorf("details:\n%s", d)
	}
}

func TestMethodFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(e *testEstate)
		method  Method
		outcome httpprobe.Outcome
		outlook Method
		lync    Method
		sev     probes.Severity
		finding string
	}{
		{"root answers 503", func(e *testEstate) { e.status[testDomain] = 503 },
			Root, httpprobe.ServerError, Host, Host, probes.Info, "root (https://contoso.test/autodiscover/autodiscover.xml): HTTP 503"},
		{"root is a web site", func(e *testEstate) { e.html[testDomain] = true },
			Root, httpprobe.Unexpected, Host, Host, probes.Info, "web page"},
		{"autodiscover host has a certificate for another name", func(e *testEstate) { e.route("autodiscover."+testDomain, "wrong") },
			Host, httpprobe.TLSError, Root, SRV, probes.Warning, "fall back to srv"},
		{"autodiscover host and SRV both gone", func(e *testEstate) { e.status["autodiscover."+testDomain] = 500; e.srv = "" },
			Host, httpprobe.ServerError, Root, "", probes.Critical, "Skype for Business clients cannot find EWS"},
		{"HTTP redirect to a foreign host", func(e *testEstate) {
			e.redirectTo = "https://evil.example.net/autodiscover/autodiscover.xml"
		}, HTTPRedirect, httpprobe.WrongRedirect, Root, Host, probes.Warning, "a host outside contoso.test"},
		{"HTTP redirect to http", func(e *testEstate) {
			e.redirectTo = "http://autodiscover.contoso.test/autodiscover/autodiscover.xml"
		}, HTTPRedirect, httpprobe.InsecureRedirect, Root, Host, probes.Warning, "not https"},
		{"HTTP redirect to another path", func(e *testEstate) {
			e.redirectTo = "https://autodiscover.contoso.test/owa/"
		}, HTTPRedirect, httpprobe.WrongRedirect, Root, Host, probes.Warning, "not an autodiscover.xml URL"},
		{"no HTTP redirect", func(e *testEstate) { e.redirectTo = "" },
			HTTPRedirect, httpprobe.NoRedirect, Root, Host, probes.Info, "instead of a redirect"},
		{"SRV target fails", func(e *testEstate) { e.status["mail."+testDomain] = 503 },
			SRV, httpprobe.ServerError, Root, Host, probes.Warning, "no working fallback"},
		{"https redirect off the domain", func(e *testEstate) { e.status[testDomain] = 302 },
			Root, httpprobe.WrongRedirect, Host, Host, probes.Warning, "evil.example.net"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEstate(t)
			e.set(tc.breakIt)
			r, err := run(t, NewProber(e.config()))
			if err != nil {
				t.Fatal(err)
			}
			mr := r.Method(tc.method)
			if mr.Up || mr.Attempt.Outcome != tc.outcome {
				t.Errorf("%s: up %v, %+v; want %s", tc.method, mr.Up, mr.Attempt, tc.outcome)
			}
			if r.Outlook != tc.outlook || r.Lync != tc.lync {
				t.Errorf("ends on: outlook %q lync %q, want %q %q", r.Outlook, r.Lync, tc.outlook, tc.lync)
			}
			if !findingWith(r, tc.sev, tc.finding) {
				t.Errorf("no %s finding with %q in %v", tc.sev, tc.finding, r.Findings())
			}
			if hits, _ := e.count("evil.example.net"); hits != 0 {
				t.Errorf("the agent followed a redirect to a foreign host %d times", hits)
			}
		})
	}
}

func TestSRVRecordAbsentIsNoFinding(t *testing.T) {
	e := newEstate(t)
	e.set(func(e *testEstate) { e.srv = "" })
	r, err := run(t, NewProber(e.config()))
	if err != nil || r.Method(SRV).Attempt.Outcome != httpprobe.NoRecord || r.Method(SRV).Up {
		t.Fatalf("%+v %v", r.Method(SRV), err)
	}
	if len(r.Findings()) != 0 {
		t.Fatalf("an optional SRV record's absence is a finding: %v", r.Findings())
	}
}

func TestAllDownIsCriticalAndKeepsLearnedURLs(t *testing.T) {
	e := newEstate(t)
	p := NewProber(e.config())
	if _, err := run(t, p); err != nil {
		t.Fatal(err)
	}
	e.set(func(e *testEstate) {
		for _, h := range []string{testDomain, "autodiscover." + testDomain, "mail." + testDomain} {
			e.status[h] = 503
		}
	})
	r, err := run(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outlook != "" || r.Lync != "" || len(r.Requests) != 0 {
		t.Fatalf("ends on %q/%q, requests %v", r.Outlook, r.Lync, r.Requests)
	}
	if !findingWith(r, probes.Critical, "no autodiscover method works") || !findingWith(r, probes.Critical, "does not answer: HTTP 503") {
		t.Fatalf("findings %v", r.Findings())
	}
	if len(r.EWS) != 4 || !r.EWSStale {
		t.Fatalf("EWS %v stale %v: the last URLs should stay, marked stale", r.EWS, r.EWSStale)
	}
	l, _ := p.EWSURLs(context.Background())
	if !l.Stale || len(l.URLs) != 2 || !strings.Contains(l.Note, "no autodiscover method works") {
		t.Fatalf("learned %+v", l)
	}
}

func TestSRVLookupFailureShowsLastAnswerStale(t *testing.T) {
	e := newEstate(t)
	p := NewProber(e.config())
	if _, err := run(t, p); err != nil {
		t.Fatal(err)
	}
	e.set(func(e *testEstate) { e.dnsSilent = true })
	r, err := run(t, p)
	if err == nil || !strings.Contains(err.Error(), "_autodiscover._tcp.contoso.test") || probes.FixOf(err) == "" {
		t.Fatalf("error %v (fix %q)", err, probes.FixOf(err))
	}
	srv := r.Method(SRV)
	if !srv.Stale || !srv.Up || srv.SRVTarget != "mail.contoso.test:443" {
		t.Fatalf("srv %+v: want the last good answer, stale", srv)
	}
	// Without an earlier answer there is nothing to show: not up, and no false finding.
	fresh := NewProber(e.config())
	r, err = run(t, fresh)
	if err == nil || r.Method(SRV).Up || r.Method(SRV).Attempt.Outcome != httpprobe.LookupError {
		t.Fatalf("fresh prober: %+v %v", r.Method(SRV), err)
	}
}

func TestRejectedCredentialsAreAnErrorThatNeverShowsThePassword(t *testing.T) {
	e := newEstate(t)
	p := NewProber(e.config())
	if _, err := run(t, p); err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Credentials = httpprobe.NewCredentials(testUser, "wrong-"+testPassword, httpprobe.AuthBasic)
	p.cfg.Credentials = cfg.Credentials
	r, err := run(t, p)
	if err == nil || !strings.Contains(err.Error(), "rejected the probe account") || !strings.Contains(probes.FixOf(err), "SFBEX_AUTODISCOVER_PASSWORD") {
		t.Fatalf("error %v", err)
	}
	if !r.EWSStale || len(r.EWS) == 0 {
		t.Fatalf("EWS %v stale %v", r.EWS, r.EWSStale)
	}
	js, _ := json.Marshal(r)
	everything := err.Error() + probes.FixOf(err) + string(js) + strings.Join(r.Details(), "\n")
	for _, f := range r.Findings() {
		everything += f.String() + f.Fix
	}
	for _, secret := range []string{testPassword, "wrong-" + testPassword} {
		if strings.Contains(everything, secret) {
			t.Fatalf("the password shows in the output:\n%s", everything)
		}
	}
}

func TestUnknownMailboxIsAFinding(t *testing.T) {
	e := newEstate(t)
	cfg := e.config()
	cfg.Mailbox = "nobody@contoso.test"
	r, err := run(t, NewProber(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if !findingWith(r, probes.Warning, "error 500") || !findingWith(r, probes.Warning, "InvalidUser") {
		t.Fatalf("findings %v", r.Findings())
	}
	if len(r.EWS) != 0 {
		t.Fatalf("learned %v from error answers", r.EWS)
	}
}

func TestRedirectURLAnswerIsFollowedWithinTheDomain(t *testing.T) {
	e := newEstate(t)
	e.set(func(e *testEstate) { e.poxRedirect = "https://mail.contoso.test/autodiscover/autodiscover.xml" })
	r, err := run(t, NewProber(e.config()))
	if err != nil {
		t.Fatal(err)
	}
	pox := r.Requests[0]
	if !pox.OK || pox.Redirects != 1 || pox.Attempt.URL != "https://mail.contoso.test/autodiscover/autodiscover.xml" {
		t.Fatalf("pox %+v", pox)
	}
	e.set(func(e *testEstate) { e.poxRedirect = "https://evil.example.net/autodiscover/autodiscover.xml" })
	r, _ = run(t, NewProber(e.config()))
	if r.Requests[0].OK || !findingWith(r, probes.Warning, "sends credentials only to") {
		t.Fatalf("pox %+v findings %v", r.Requests[0], r.Findings())
	}
	if _, auth := e.count("evil.example.net"); auth != 0 {
		t.Fatal("credentials went to a foreign host")
	}
}

func TestCredentialsGoOnlyToAllowedHosts(t *testing.T) {
	e := newEstate(t)
	e.set(func(e *testEstate) {
		e.status[testDomain] = 503
		e.status["autodiscover."+testDomain] = 503
		e.srv = "hosted.example.net"
	})
	r, err := run(t, NewProber(e.config()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Lync != SRV || len(r.Requests) != 0 || !findingWith(r, probes.Info, "sends the probe credentials only to") {
		t.Fatalf("lync %q requests %v findings %v", r.Lync, r.Requests, r.Findings())
	}
	if hits, auth := e.count("hosted.example.net"); hits == 0 || auth != 0 {
		t.Fatalf("hosted.example.net: %d requests, %d with credentials", hits, auth)
	}
	// Once the admin allows it, it gets them.
	cfg := e.config()
	cfg.RedirectHosts = []string{"hosted.example.net"}
	r, _ = run(t, NewProber(cfg))
	if len(r.Requests) != 2 || !r.Requests[0].OK {
		t.Fatalf("requests %+v", r.Requests)
	}
}

func TestSFBURLMustPointAtSVC(t *testing.T) {
	e := newEstate(t)
	cfg := e.config()
	cfg.SFBURL = "https://autodiscover.contoso.test/autodiscover/autodiscover.xml"
	r, _ := run(t, NewProber(cfg))
	if r.SFB.SVC || !r.SFB.Up || !findingWith(r, probes.Critical, "must point at autodiscover.svc") {
		t.Fatalf("sfb %+v findings %v", r.SFB, r.Findings())
	}
	cfg.SFBURL = "https://mail.contoso.test/autodiscover/autodiscover.svc"
	e.set(func(e *testEstate) { e.status["mail."+testDomain] = 503 })
	r, _ = run(t, NewProber(cfg))
	if !r.SFB.SVC || r.SFB.Up || !findingWith(r, probes.Critical, "it does not answer") {
		t.Fatalf("sfb %+v findings %v", r.SFB, r.Findings())
	}
}

func TestRunDeadlineKeepsNothingPartial(t *testing.T) {
	e := newEstate(t)
	hang := make(chan struct{})
	defer close(hang)
	e.set(func(e *testEstate) { e.hang = hang })
	cfg := e.config()
	cfg.RequestTimeout = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r, err := NewProber(cfg).Probe(ctx)
	if r != nil || err == nil || !strings.Contains(probes.FixOf(err), "SFBEX_HTTP_TIMEOUT") {
		t.Fatalf("result %v error %v", r, err)
	}
}

func TestEWSURLsRunsTheProberWhenItHasNotRun(t *testing.T) {
	e := newEstate(t)
	p := NewProber(e.config())
	l, err := p.EWSURLs(context.Background())
	if err != nil || len(l.URLs) != 2 {
		t.Fatalf("learned %+v %v", l, err)
	}
	hits, _ := e.count("autodiscover." + testDomain)
	if _, err := p.EWSURLs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.count("autodiscover." + testDomain); again != hits {
		t.Fatalf("a second EWSURLs ran the prober again (%d -> %d requests)", hits, again)
	}
	// A run that cannot finish leaves nothing learned, and says so.
	hang := make(chan struct{})
	defer close(hang)
	e.set(func(e *testEstate) { e.hang = hang })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := NewProber(e.config()).EWSURLs(ctx); err == nil || !strings.Contains(err.Error(), "has not completed a run") {
		t.Fatalf("error %v", err)
	}
}

// TestSFBURLAnsweringAWebPageIsNotUp: a 200 with a web page at
// Skype for Business' ExchangeAutodiscoverUrl is not autodiscover.svc.
func TestSFBURLAnsweringAWebPageIsNotUp(t *testing.T) {
	e := newEstate(t)
	cfg := e.config()
	cfg.SFBURL = "https://mail.contoso.test/autodiscover/autodiscover.svc"
	e.set(func(e *testEstate) { e.html["mail."+testDomain] = true })
	r, _ := run(t, NewProber(cfg))
	if r.SFB.Up || r.SFB.Attempt.Outcome != httpprobe.WebPage ||
		!findingWith(r, probes.Critical, `it does not answer: HTTP 200 (web_page): answers HTTP 200 (text/html, 59 bytes) with a web page`) {
		t.Fatalf("sfb %+v findings %v", r.SFB, r.Findings())
	}
}
