package autodiscover

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// lyncEstate serves lyncdiscover.contoso.test (through webext), the
// internal lyncdiscoverinternal.contoso.test (pool01) and a redirect
// directory (webdir), with handlers a test may replace.
type lyncEstate struct {
	web      *webclient.Options
	mux      map[string]http.HandlerFunc // "host path" -> handler
	wrongTLS string
}

func links(host string) string {
	root := "https://" + host + "/Autodiscover/AutodiscoverService.svc/root"
	return fmt.Sprintf(`{"_links":{"self":{"href":"%s?originalDomain=contoso.test"},"user":{"href":"%s/oauth/user?originalDomain=contoso.test"},"xframe":{"href":"https://%s/Autodiscover/XFrame/XFrame.html"}}}`, root, root, host)
}

func jsonAnswer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

func msRtcOAuth(host string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `MsRtcOAuth href="https://`+host+`/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"`)
		w.WriteHeader(401)
	}
}

func newLyncEstate(t *testing.T) *lyncEstate {
	t.Helper()
	e := &lyncEstate{mux: map[string]http.HandlerFunc{
		"lyncdiscover.contoso.test /":                                               jsonAnswer(links("webext.contoso.test")),
		"lyncdiscoverinternal.contoso.test /":                                       jsonAnswer(links("pool01.contoso.test")),
		"webext.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user": msRtcOAuth("webext.contoso.test"),
		"pool01.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user": msRtcOAuth("pool01.contoso.test"),
		"webdir.contoso.test /Autodiscover/AutodiscoverService.svc/root":            jsonAnswer(links("webdir.contoso.test")),
		"webdir.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user": msRtcOAuth("webdir.contoso.test"),
	}}
	ca := newTestCA(t)
	names := []string{"lyncdiscover.contoso.test", "lyncdiscoverinternal.contoso.test", "webext.contoso.test", "pool01.contoso.test", "webdir.contoso.test"}
	start := func(names ...string) string {
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, _, _ := strings.Cut(r.Host, ":")
			if h, ok := e.mux[host+" "+r.URL.Path]; ok {
				h(w, r)
				return
			}
			http.NotFound(w, r)
		}))
		s.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, names...)}}
		s.StartTLS()
		t.Cleanup(s.Close)
		return s.Listener.Addr().String()
	}
	addr := start(names...)
	e.wrongTLS = start("www.fabrikam.test")
	e.web = &webclient.Options{RootCAs: ca.pool, ConnectTo: map[string]string{}}
	for _, n := range names {
		e.web.ConnectTo[n+":443"] = addr
	}
	return e
}

func (e *lyncEstate) probe(t *testing.T, views ...View) *LyncResult {
	t.Helper()
	if len(views) == 0 {
		views = []View{Internal, External}
	}
	r, err := ProbeLync(context.Background(), LyncConfig{Domain: testDomain, Views: views, Web: e.web, RequestTimeout: 2 * time.Second, MaxBody: 1 << 20, MaxRedirects: 3})
	if err != nil {
		t.Fatal(err)
	}
	return r.(*LyncResult)
}

func TestLyncdiscoverHealthy(t *testing.T) {
	r := newLyncEstate(t).probe(t)
	if len(r.Views) != 2 || len(r.Findings()) != 0 {
		t.Fatalf("%+v findings %v", r.Views, r.Findings())
	}
	for _, v := range r.Views {
		want := map[View]string{Internal: "pool01.contoso.test", External: "webext.contoso.test"}[v.View]
		if !v.Up || !v.OAuth || v.Pool != want || v.Status != 200 || v.TokenURL != "https://"+want+"/WebTicket/oauthtoken" || len(v.GrantTypes) != 3 || len(v.Steps) != 2 {
			t.Errorf("%s: %+v", v.View, v)
		}
	}
	if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "pool pool01.contoso.test") || !strings.Contains(d, "https://lyncdiscover.contoso.test/ (external view)") {
		t.Errorf("details:\n%s", d)
	}
}

func TestLyncdiscoverFollowsRedirectLinks(t *testing.T) {
	e := newLyncEstate(t)
	e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/Autodiscover/AutodiscoverService.svc/root?originalDomain=contoso.test"}}}`)
	v := e.probe(t, External).Views[0]
	if !v.Up || v.Redirects != 1 || v.Pool != "webdir.contoso.test" || !v.OAuth {
		t.Fatalf("%+v", v)
	}
}

func TestLyncdiscoverFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(e *lyncEstate)
		outcome httpprobe.Outcome
		sev     probes.Severity
		text    string
	}{
		{"web page instead of JSON", func(e *lyncEstate) {
			e.mux["lyncdiscover.contoso.test /"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>Sign in</body></html>")
			}
		}, httpprobe.Unexpected, probes.Critical, "answers a web page (text/html)"},
		{"JSON without links", func(e *lyncEstate) { e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"error":"no"}`) },
			httpprobe.Unexpected, probes.Critical, "no _links"},
		{"503", func(e *lyncEstate) {
			e.mux["lyncdiscover.contoso.test /"] = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }
		}, httpprobe.ServerError, probes.Critical, "HTTP 503"},
		{"certificate for another name", func(e *lyncEstate) { e.web.ConnectTo["lyncdiscover.contoso.test:443"] = e.wrongTLS },
			httpprobe.TLSError, probes.Critical, "certificate"},
		{"redirect loop", func(e *lyncEstate) {
			e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/loop"}}}`)
			e.mux["webdir.contoso.test /loop"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/loop"}}}`)
		}, httpprobe.TooManyRedirects, probes.Critical, "loop back"},
		{"too many redirect links", func(e *lyncEstate) {
			for i := range 6 {
				e.mux[fmt.Sprintf("webdir.contoso.test /r%d", i)] = jsonAnswer(fmt.Sprintf(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/r%d"}}}`, i+1))
			}
			e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/r0"}}}`)
		}, httpprobe.TooManyRedirects, probes.Critical, "more than 3 redirect links"},
		{"redirect link to http", func(e *lyncEstate) {
			e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"_links":{"redirect":{"href":"http://webdir.contoso.test/x"}}}`)
		}, httpprobe.InsecureRedirect, probes.Critical, "not https"},
		{"user link fails", func(e *lyncEstate) {
			e.mux["webext.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user"] = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }
		}, httpprobe.ServerError, probes.Critical, "the user link"},
		{"user link answers a web page with 200", func(e *lyncEstate) {
			e.mux["webext.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>Sign in</body></html>")
			}
		}, httpprobe.Unexpected, probes.Critical, "fails: HTTP 200 (unexpected_response): it answers a web page (text/html) instead of the _links JSON"},
		{"user link answers an empty 200", func(e *lyncEstate) {
			e.mux["webext.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user"] = func(w http.ResponseWriter, r *http.Request) {}
		}, httpprobe.Unexpected, probes.Critical, `that is not Lync autodiscover`},
		{"user link without MsRtcOAuth", func(e *lyncEstate) {
			e.mux["webext.contoso.test /Autodiscover/AutodiscoverService.svc/root/oauth/user"] = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", "Negotiate")
				w.WriteHeader(401)
			}
		}, httpprobe.Challenged, probes.Warning, "instead of 401 with an MsRtcOAuth challenge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLyncEstate(t)
			tc.change(e)
			r := e.probe(t)
			in, ext := r.Views[0], r.Views[1]
			if !in.Up || !in.OAuth {
				t.Errorf("the internal view suffered too: %+v", in)
			}
			if ext.Outcome != tc.outcome {
				t.Errorf("external outcome %s, want %s (%s)", ext.Outcome, tc.outcome, ext.Problem)
			}
			if len(r.Findings()) != 1 || r.Findings()[0].Severity != tc.sev || !strings.Contains(r.Findings()[0].Problem, tc.text) || r.Findings()[0].Fix == "" {
				t.Errorf("findings %v, want one %s with %q", r.Findings(), tc.sev, tc.text)
			}
		})
	}
}

func TestLyncdiscoverRunDeadline(t *testing.T) {
	e := newLyncEstate(t)
	block := make(chan struct{})
	defer close(block)
	e.mux["lyncdiscover.contoso.test /"] = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r, err := ProbeLync(ctx, LyncConfig{Domain: testDomain, Views: []View{External}, Web: e.web, RequestTimeout: 5 * time.Second})
	if r != nil || err == nil {
		t.Fatalf("%v %v", r, err)
	}
}

func TestLyncdiscoverOneRedirectLinkIsSingular(t *testing.T) {
	e := newLyncEstate(t)
	e.mux["lyncdiscover.contoso.test /"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/r0"}}}`)
	e.mux["webdir.contoso.test /r0"] = jsonAnswer(`{"_links":{"redirect":{"href":"https://webdir.contoso.test/r1"}}}`)
	r, err := ProbeLync(context.Background(), LyncConfig{Domain: testDomain, Views: []View{External}, Web: e.web, RequestTimeout: 2 * time.Second, MaxBody: 1 << 20, MaxRedirects: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v := r.(*LyncResult).Views[0]; v.Outcome != httpprobe.TooManyRedirects || v.Problem != "more than 1 redirect link" {
		t.Fatalf("outcome %s, problem %q; want too many redirects, \"more than 1 redirect link\"", v.Outcome, v.Problem)
	}
}
