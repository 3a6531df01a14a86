package lab

import (
	"context"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-ntlmssp"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

func TestMD4(t *testing.T) {
	// RFC 1320 appendix A.5.
	for in, want := range map[string]string{
		"":    "31d6cfe0d16ae931b73c59d7e0c089c0",
		"a":   "bde52cb31de33e46245e05fbdbd6fb24",
		"abc": "a448017aaf21d8525fc10ae87aa6729d",
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890": "e33b4ddc9c38f2199c3e7b164fcc0536",
	} {
		if got := hex.EncodeToString(md4Sum([]byte(in))); got != want {
			t.Errorf("md4(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestNTLMServerChecksTheResponseOnItsConnection(t *testing.T) {
	s := &ntlmServer{user: "sfbex-probe", domain: Domain, password: "right"}
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	for _, tc := range []struct {
		user, password, conn string
		ok                   bool
	}{
		{"sfbex-probe@" + Domain, "right", "c1", true},
		{`CONTOSO\sfbex-probe`, "right", "c1", true},
		{"sfbex-probe@" + Domain, "wrong", "c1", false},
		{"someone@" + Domain, "right", "c1", false},
		{"sfbex-probe@" + Domain, "right", "c2", false}, // the challenge went to another connection
	} {
		ch, err := s.challenge("c1", neg)
		if err != nil {
			t.Fatal(err)
		}
		auth, err := ntlmssp.NewAuthenticateMessage(ch, tc.user, tc.password, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.verify(tc.conn, auth); got != tc.ok {
			t.Errorf("%s / %s on %s: verified %v, want %v", tc.user, tc.password, tc.conn, got, tc.ok)
		}
	}
	if _, err := s.challenge("c1", []byte("garbage")); err == nil {
		t.Error("a garbage negotiate message got a challenge")
	}
	if s.verify("c1", []byte("NTLMSSP\x00\x03\x00\x00\x00")) {
		t.Error("a truncated authenticate message passed")
	}
}

func labClient(t *testing.T, l *Lab) *webclient.Options {
	t.Helper()
	env := l.Env(time.Minute)
	pool, err := webclient.LoadCAFile(env["SFBEX_CA_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	ct, err := webclient.ParseConnectTo(env["SFBEX_CONNECT_TO"])
	if err != nil {
		t.Fatal(err)
	}
	return &webclient.Options{RootCAs: pool, ConnectTo: ct}
}

func TestLabAutodiscoverSignsInTheProbeAccount(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := l.Env(time.Minute)
	pw, err := os.ReadFile(env["SFBEX_AUTODISCOVER_PASSWORD_FILE"])
	if err != nil || strings.TrimSpace(string(pw)) != l.ProbePassword() || env["SFBEX_AUTODISCOVER_USER"] != ProbeUser {
		t.Fatalf("password file %q (%v), user %q", pw, err, env["SFBEX_AUTODISCOVER_USER"])
	}
	web := labClient(t, l)
	req := httpprobe.Request{Method: "POST", URL: "https://autodiscover." + Domain + "/autodiscover/autodiscover.xml",
		Header: http.Header{"Content-Type": {"text/xml"}}, Timeout: 5 * time.Second,
		Body: []byte(`<Autodiscover><Request><EMailAddress>` + ProbeUser + `</EMailAddress></Request></Autodiscover>`)}
	for _, mode := range []httpprobe.AuthMode{httpprobe.AuthNTLM, httpprobe.AuthBasic} {
		a, body := httpprobe.DoAuthenticated(context.Background(), web, req, httpprobe.NewCredentials(ProbeUser, l.ProbePassword(), mode))
		if a.Outcome != httpprobe.OK || !strings.Contains(string(body), "<EwsUrl>https://mail.contoso.test/EWS/Exchange.asmx</EwsUrl>") {
			t.Fatalf("%s: %+v %s", mode, a, body)
		}
		a, _ = httpprobe.DoAuthenticated(context.Background(), web, req, httpprobe.NewCredentials(ProbeUser, "not-"+l.ProbePassword(), mode))
		if a.Outcome != httpprobe.AuthRejected {
			t.Fatalf("%s with a wrong password: %+v", mode, a)
		}
	}
	a, _ := httpprobe.Do(context.Background(), web, httpprobe.Request{URL: req.URL})
	if a.Status != 401 || len(a.Challenges) != 4 {
		t.Fatalf("anonymous: %+v", a)
	}
	if b, ok := httpprobe.Find(a.Challenges, "Bearer"); !ok || !strings.Contains(b.Param("trusted_issuers"), ",") {
		t.Fatalf("the joined Bearer challenge: %+v", a.Challenges)
	}
}

func TestLabWebFaults(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	web := labClient(t, l)
	get := func(u string, follow bool) httpprobe.Attempt {
		a, _ := httpprobe.Do(context.Background(), web, httpprobe.Request{URL: u, FollowRedirects: follow, Timeout: 5 * time.Second})
		return a
	}
	ews := "https://mail." + Domain + "/EWS/Exchange.asmx"
	if a := get(ews, false); a.Status != 401 || len(a.Challenges) != 3 || a.Challenges[0].Scheme != "Bearer" {
		t.Fatalf("EWS: %+v", a)
	}
	plain := "http://autodiscover." + Domain + "/autodiscover/autodiscover.xml"
	if a := get(plain, false); a.Status != 302 || a.Location != "https://autodiscover."+Domain+"/autodiscover/autodiscover.xml" {
		t.Fatalf("plain redirect: %+v", a)
	}
	for _, tc := range []struct {
		fault string
		check func() bool
	}{
		{"ews-503", func() bool { return get(ews, false).Status == 503 }},
		{"ews-no-oauth", func() bool {
			_, bearer := httpprobe.Find(get(ews, false).Challenges, "Bearer")
			return !bearer
		}},
		{"ews-html", func() bool { return soapOutcome(t, web, ews) == httpprobe.WebPage }},
		{"ews-garbage", func() bool { return soapOutcome(t, web, ews) == httpprobe.Unexpected }},
		{"ews-endless", func() bool { return soapOutcome(t, web, ews) == httpprobe.BodyTooLarge }},
		{"ews-empty", func() bool { return soapOutcome(t, web, ews) == httpprobe.EmptyBody }},
		{"autodiscover-down", func() bool {
			return get("https://"+Domain+"/autodiscover/autodiscover.xml", false).Status == 503 &&
				get("https://mail."+Domain+"/Autodiscover/Autodiscover.svc", false).Status == 503
		}},
		{"autodiscover-wrong-redirect", func() bool { return strings.Contains(get(plain, false).Location, "hosting-old.example") }},
		{"lyncdiscover-html", func() bool {
			return strings.HasPrefix(get("https://lyncdiscover."+Domain+"/", false).ContentType, "text/html") &&
				get("https://lyncdiscoverinternal."+Domain+"/", false).ContentType == "application/json"
		}},
	} {
		if tc.check() {
			t.Errorf("%s: already true before the fault", tc.fault)
		}
		if err := l.Set(tc.fault, true); err != nil {
			t.Fatal(err)
		}
		if !tc.check() {
			t.Errorf("%s: no effect", tc.fault)
		}
		_ = l.Set(tc.fault, false)
	}
}

// soapOutcome is how the EWS check judges what u answers.
func soapOutcome(t *testing.T, web *webclient.Options, u string) httpprobe.Outcome {
	t.Helper()
	a, prefix := httpprobe.Do(context.Background(), web, httpprobe.Request{URL: u, Timeout: 5 * time.Second, MaxBody: 1 << 20, Keep: httpprobe.SOAPPrefix})
	httpprobe.CheckSOAPAnswer(&a, prefix)
	return a.Outcome
}
