package ews

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

const bearer = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*,00000004-0000-0ff1-ce00-000000000000@contoso.com", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`

// server is EWS on mail.example.com (the httptest certificate covers
// *.example.com) answering with the headers h sets.
func server(t *testing.T, h http.HandlerFunc) Config {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	web := &webclient.Options{
		RootCAs:   srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		ConnectTo: map[string]string{"mail.example.com:443": srv.Listener.Addr().String(), "wrong.contoso.test:443": srv.Listener.Addr().String()},
	}
	return Config{ExpectOAuth: true, Web: web, RequestTimeout: 2 * time.Second, MaxBody: 1 << 20}
}

func challenges(values ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, v := range values {
			w.Header().Add("WWW-Authenticate", v)
		}
		w.WriteHeader(401)
	}
}

const ewsURL = "https://mail.example.com/EWS/Exchange.asmx"

func probeOne(t *testing.T, cfg Config, u string) *Result {
	t.Helper()
	r, err := ProbeURL(context.Background(), cfg, u)
	if err != nil {
		t.Fatal(err)
	}
	return r.(*Result)
}

func TestEWSWithOAuth(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"separate headers":        challenges(bearer, "Negotiate", "NTLM"),
		"one comma-joined header": challenges(bearer + `, error="invalid_token",Negotiate,NTLM`),
	} {
		t.Run(name, func(t *testing.T) {
			r := probeOne(t, server(t, h), ewsURL)
			ep := r.Endpoints[0]
			if !ep.Up || !ep.OAuth || ep.Attempt.Status != 401 || len(r.Findings()) != 0 {
				t.Fatalf("%+v findings %v", ep, r.Findings())
			}
			if ep.ClientID != "00000002-0000-0ff1-ce00-000000000000" || ep.AuthorizationURI != "https://login.microsoftonline.com/common/oauth2/authorize" {
				t.Fatalf("bearer params %+v", ep)
			}
			if strings.Join(ep.TrustedIssuers, " ") != "00000001-0000-0000-c000-000000000000@* 00000004-0000-0ff1-ce00-000000000000@contoso.com" ||
				strings.Join(ep.TokenTypes, " ") != "app_asserted_user_v1 service_asserted_app_v1" {
				t.Fatalf("issuers %v token types %v", ep.TrustedIssuers, ep.TokenTypes)
			}
			if strings.Join(ep.Schemes, ",") != "bearer,negotiate,ntlm" {
				t.Fatalf("schemes %v", ep.Schemes)
			}
			if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "up, HTTP 401") || !strings.Contains(d, "TLS 1.3") {
				t.Fatalf("details %s", d)
			}
		})
	}
}

func TestEWSWithoutOAuth(t *testing.T) {
	cfg := server(t, challenges("Negotiate", "NTLM", `Basic realm="mail.example.com"`))
	r := probeOne(t, cfg, ewsURL)
	if len(r.Findings()) != 1 || r.Findings()[0].Severity != probes.Critical ||
		!strings.Contains(r.Findings()[0].Problem, "no OAuth (Bearer) challenge, only Negotiate, NTLM, Basic") ||
		!strings.Contains(r.Findings()[0].Fix, "-OAuthAuthentication $true") {
		t.Fatalf("findings %v", r.Findings())
	}
	cfg.ExpectOAuth = false
	if r = probeOne(t, cfg, ewsURL); len(r.Findings()) != 0 || r.Endpoints[0].OAuth {
		t.Fatalf("with OAuth not expected: %v", r.Findings())
	}
}

func TestEWSDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		u       string
		outcome httpprobe.Outcome
		fix     string
	}{
		{"503", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }, ewsURL, httpprobe.ServerError, "MSExchangeServicesAppPool"},
		{"404", http.NotFound, ewsURL, httpprobe.ClientError, "Get-WebServicesVirtualDirectory"},
		{"certificate for another name", challenges(bearer), "https://wrong.contoso.test/EWS/Exchange.asmx", httpprobe.TLSError, "certificate covering wrong.contoso.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probeOne(t, server(t, tc.h), tc.u)
			ep := r.Endpoints[0]
			if ep.Up || ep.Attempt.Outcome != tc.outcome {
				t.Fatalf("%+v", ep)
			}
			f := r.Findings()
			if len(f) != 1 || f[0].Severity != probes.Critical || !strings.Contains(f[0].Problem, "does not answer") || !strings.Contains(f[0].Fix, tc.fix) {
				t.Fatalf("findings %v", f)
			}
		})
	}
}

func TestEWSTimeoutAndClosedPort(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	cfg := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	cfg.RequestTimeout = 200 * time.Millisecond
	if ep := probeOne(t, cfg, ewsURL).Endpoints[0]; ep.Attempt.Outcome != httpprobe.Timeout {
		t.Fatalf("%+v", ep)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cfg.Web.ConnectTo["mail.example.com:443"] = ln.Addr().String()
	ln.Close()
	r := probeOne(t, cfg, ewsURL)
	if ep := r.Endpoints[0]; ep.Attempt.Outcome != httpprobe.ConnectError || !strings.Contains(r.Findings()[0].Fix, "port 443") {
		t.Fatalf("%+v %v", ep, r.Findings())
	}
}

func TestLearnedURLs(t *testing.T) {
	cfg := server(t, challenges(bearer))
	at := time.Unix(1_700_000_000, 0)
	l := &Learned{Domain: "example.com", Config: cfg, Source: func(context.Context) (Discovered, error) {
		return Discovered{URLs: []string{ewsURL}, At: at, Stale: true}, nil
	}}
	res, err := l.Probe(context.Background())
	r := res.(*Result)
	if err != nil || r.Domain != "example.com" || len(r.Endpoints) != 1 || !r.LearnedStale || !r.LearnedAt.Equal(at) {
		t.Fatalf("%+v %v", r, err)
	}
	if !strings.Contains(strings.Join(r.Details(), "\n"), "did not confirm them") {
		t.Fatalf("details %v", r.Details())
	}

	l.Source = func(context.Context) (Discovered, error) {
		return Discovered{Note: "no autodiscover method works"}, nil
	}
	res, err = l.Probe(context.Background())
	if err != nil || len(res.Findings()) != 1 || res.Findings()[0].Severity != probes.Info || probes.Failing(res.Findings()) {
		t.Fatalf("no URLs yet: %v %v", res.Findings(), err)
	}

	l.Source = func(context.Context) (Discovered, error) {
		return Discovered{}, errors.New("not yet")
	}
	if res, err = l.Probe(context.Background()); res != nil || err == nil || probes.FixOf(err) == "" {
		t.Fatalf("source failure: %v %v", res, err)
	}

	many := make([]string, 20)
	for i := range many {
		many[i] = ewsURL + "?n=" + string(rune('a'+i))
	}
	l.Source = func(context.Context) (Discovered, error) { return Discovered{URLs: many}, nil }
	if res, _ = l.Probe(context.Background()); len(res.(*Result).Endpoints) != MaxLearned {
		t.Fatalf("%d endpoints, want at most %d", len(res.(*Result).Endpoints), MaxLearned)
	}
}

func TestSchemeLabelsAreBounded(t *testing.T) {
	cfg := server(t, challenges("Bearer", "X-Custom-"+strings.Repeat("a", 100), "x-other", "NTLM"))
	ep := probeOne(t, cfg, ewsURL).Endpoints[0]
	if strings.Join(ep.Schemes, ",") != "bearer,other,ntlm" {
		t.Fatalf("schemes %v", ep.Schemes)
	}
	b, _ := json.Marshal(ep)
	if strings.Contains(string(b), "token68") {
		t.Fatalf("json %s", b)
	}
}

// TestEWSAnswersThatAreNotEWS: a 200 with a web page, random bytes, a body
// without end or nothing is someone else answering, not EWS: down, each
// with its own outcome and a reason that says what came, and no "no OAuth
// challenge" finding, which would send the admin to the wrong place.
func TestEWSAnswersThatAreNotEWS(t *testing.T) {
	random := make([]byte, 2048)
	_, _ = rand.Read(random)
	random[0] = 0xff
	done := make(chan struct{})
	defer close(done)
	ok := func(ct string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(body)
		}
	}
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		outcome httpprobe.Outcome
		says    []string
	}{
		{"HTML page", ok("text/html; charset=utf-8", []byte("<!DOCTYPE html><html><head><title>Sign in to Contoso</title></head></html>")),
			httpprobe.WebPage, []string{"HTTP 200 (web_page)", "text/html", `"<!DOCTYPE html><html><head><title>Sign in to Contoso</title></he"…`}},
		{"random bytes", ok("application/octet-stream", random),
			httpprobe.Unexpected, []string{"HTTP 200 (unexpected_response)", "2048 bytes", "not XML", `"\xff`}},
		{"empty 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(200)
		},
			httpprobe.EmptyBody, []string{"HTTP 200 (empty_body)", "text/xml, 0 bytes", "empty body"}},
		{"endless body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			chunk := []byte(strings.Repeat("<a>", 10000))
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, httpprobe.BodyTooLarge, []string{"HTTP 200 (body_too_large)", "more than 1048576 bytes", "cut off", `"<a><a>`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probeOne(t, server(t, tc.h), ewsURL)
			ep := r.Endpoints[0]
			if ep.Up || ep.Attempt.Outcome != tc.outcome {
				t.Fatalf("up %v, outcome %s (%s), want down with %s", ep.Up, ep.Attempt.Outcome, ep.Attempt.Detail, tc.outcome)
			}
			f := r.Findings()
			if len(f) != 1 || f[0].Severity != probes.Critical || !strings.Contains(f[0].Problem, "does not answer as a live service") ||
				!strings.Contains(f[0].Fix, "Something other than Exchange's EWS answers") {
				t.Fatalf("findings %v", f)
			}
			for _, s := range tc.says {
				if !strings.Contains(f[0].Problem, s) {
					t.Errorf("the finding %q does not say %q", f[0].Problem, s)
				}
			}
			if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "DOWN, HTTP 200 ("+string(tc.outcome)+")") {
				t.Errorf("details %s", d)
			}
			if tc.outcome == httpprobe.BodyTooLarge && !ep.Attempt.Truncated {
				t.Error("an endless body is not marked truncated")
			}
		})
	}
}

// TestEWSSOAPAnswerIsUp: a 200 with a SOAP envelope (a fault) or a WSDL is
// EWS itself answering.
func TestEWSSOAPAnswerIsUp(t *testing.T) {
	for name, body := range map[string]string{
		"SOAP fault": `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault></s:Body></s:Envelope>`,
		"WSDL":       `<?xml version="1.0" encoding="utf-8"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"/>`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				_, _ = io.WriteString(w, body)
			})
			cfg.ExpectOAuth = false
			r := probeOne(t, cfg, ewsURL)
			if ep := r.Endpoints[0]; !ep.Up || ep.Attempt.Outcome != httpprobe.OK || len(r.Findings()) != 0 {
				t.Fatalf("%+v findings %v", ep, r.Findings())
			}
		})
	}
}

// Exchange Online's EWS policy block: 403 with X-EWS-Policy-Reason, in the
// two texts Learn "Control access to EWS in Exchange" documents. EWS
// answered, so it is up; the block is its own outcome, finding and fix.
func TestEWSPolicyBlock(t *testing.T) {
	for _, tc := range []struct {
		reason, kind, fix string
	}{
		{"EWS is disabled for this user or tenant", "disabled", "Set-OrganizationConfig -EwsEnabled $true"},
		{"EWS is blocked by policy for this user or tenant", "blocked_by_policy", "-RetrieveEwsOperationAccessPolicy"},
		{"Something new", "other", "EwsApplicationAccessPolicy"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			r := probeOne(t, server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-EWS-Policy-Reason", tc.reason)
				w.WriteHeader(http.StatusForbidden)
			}), ewsURL)
			ep := r.Endpoints[0]
			if !ep.Up || ep.PolicyReason != tc.reason || ep.Attempt.Outcome != httpprobe.PolicyBlocked || PolicyKind(ep.PolicyReason) != tc.kind {
				t.Fatalf("%+v", ep)
			}
			fs := r.Findings()
			if len(fs) != 1 || fs[0].Severity != probes.Critical || !strings.Contains(fs[0].Problem, `"`+tc.reason+`"`) ||
				!strings.Contains(fs[0].Fix, tc.fix) || !strings.Contains(fs[0].Fix, "2027-04-01") {
				t.Fatalf("findings %+v", fs)
			}
			if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "policy_blocked") || !strings.Contains(d, tc.reason) {
				t.Fatalf("details %s", d)
			}
		})
	}
	// A bare 403 proves nothing: down (client error), not a policy block.
	r := probeOne(t, server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }), ewsURL)
	if ep := r.Endpoints[0]; ep.Up || ep.PolicyReason != "" || ep.Attempt.Outcome != httpprobe.ClientError {
		t.Fatalf("bare 403: %+v", ep)
	}
	// The header on another status is not the policy block either.
	r = probeOne(t, server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-EWS-Policy-Reason", "EWS is disabled for this user or tenant")
		challenges(bearer)(w, r)
	}), ewsURL)
	if ep := r.Endpoints[0]; ep.PolicyReason != "" || len(r.Findings()) != 0 {
		t.Fatalf("401 with the header: %+v %v", ep, r.Findings())
	}
}

// The reason a peer sends is bounded and printable before it is shown.
func TestEWSPolicyReasonIsBounded(t *testing.T) {
	r := probeOne(t, server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-EWS-Policy-Reason", strings.Repeat("é", 4000))
		w.WriteHeader(http.StatusForbidden)
	}), ewsURL)
	if ep := r.Endpoints[0]; len(ep.PolicyReason) > httpprobe.MaxHeaderValue || ep.PolicyReason == "" || PolicyKind(ep.PolicyReason) != "other" {
		t.Fatalf("reason of %d bytes", len(ep.PolicyReason))
	}
}

func TestEWSPolicyBlockMetrics(t *testing.T) {
	r := &Result{ExpectOAuth: true, Endpoints: []Endpoint{
		{URL: "https://a/EWS/Exchange.asmx", Up: true, PolicyReason: ReasonBlocked, Attempt: httpprobe.Attempt{Status: 403, Outcome: httpprobe.PolicyBlocked}, Schemes: []string{}},
		{URL: "https://b/EWS/Exchange.asmx", Up: true, OAuth: true, Attempt: httpprobe.Attempt{Status: 401, Outcome: httpprobe.Challenged}, Schemes: []string{"bearer"}},
	}}
	got := map[string]string{}
	for _, m := range r.AppendMetrics(nil) {
		d := m.Desc().String()
		if strings.Contains(d, "sfbex_ews_policy_blocked") || strings.Contains(d, "sfbex_ews_oauth_challenge") {
			var pb dto.Metric
			m.Write(&pb)
			var ls []string
			for _, l := range pb.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			name := "policy"
			if strings.Contains(d, "oauth_challenge") {
				name = "oauth"
			}
			got[name+" "+strings.Join(ls, ",")] = fmt.Sprint(pb.GetGauge().GetValue())
		}
	}
	want := map[string]string{
		"policy domain=,reason=blocked_by_policy,url=https://a/EWS/Exchange.asmx": "1",
		"policy domain=,reason=,url=https://b/EWS/Exchange.asmx":                  "0",
		"oauth domain=,url=https://b/EWS/Exchange.asmx":                           "1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// /owa/ on the EWS host tells the full build in X-OWA-Version; an Exchange
// 2016 build (15.1.2507.6) is out of support, Exchange SE (15.2.2562.17)
// is not; a header that is no build is ignored.
func TestOWAVersion(t *testing.T) {
	for _, tc := range []struct {
		header, want string
		finding      bool
	}{
		{"15.2.2562.17", "15.2.2562.17", false},
		{"15.1.2507.6", "15.1.2507.6", true},
		{"<script>", "", false},
	} {
		mux := http.NewServeMux()
		mux.HandleFunc("/EWS/Exchange.asmx", challenges(bearer, "NTLM"))
		mux.HandleFunc("/owa/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-OWA-Version", tc.header)
			http.Redirect(w, r, "/owa/auth/logon.aspx", http.StatusFound)
		})
		r := probeOne(t, server(t, mux.ServeHTTP), ewsURL)
		ep := r.Endpoints[0]
		fs := r.Findings()
		if ep.OWAVersion != tc.want || (len(fs) == 1) != tc.finding {
			t.Errorf("%q: version %q findings %v", tc.header, ep.OWAVersion, fs)
		}
		if tc.finding && (!strings.Contains(fs[0].Problem, "Exchange Server 2016 (X-OWA-Version 15.1.2507.6), out of support since 2025-10-14") || fs[0].Severity != probes.Warning) {
			t.Errorf("finding %+v", fs[0])
		}
		if tc.want != "" && !strings.Contains(strings.Join(r.Details(), "\n"), "X-OWA-Version "+tc.want) {
			t.Errorf("details %v", r.Details())
		}
	}
}
