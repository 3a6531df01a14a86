package httpprobe

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// ch builds an expected challenge: scheme, then name/value pairs.
func ch(scheme string, kv ...string) Challenge {
	c := Challenge{Scheme: scheme}
	for i := 0; i+1 < len(kv); i += 2 {
		if c.Params == nil {
			c.Params = map[string]string{}
		}
		c.Params[kv[i]] = kv[i+1]
	}
	return c
}

func tok(scheme, token string) Challenge { return Challenge{Scheme: scheme, Token68: token} }

const (
	exchangeBearer = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`
)

var bearerParams = []string{
	"client_id", "00000002-0000-0ff1-ce00-000000000000",
	"trusted_issuers", "00000001-0000-0000-c000-000000000000@*",
	"token_types", "app_asserted_user_v1 service_asserted_app_v1",
	"authorization_uri", "https://login.microsoftonline.com/common/oauth2/authorize",
}

func TestParseChallengesRealWorldShapes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{"Exchange on-premises EWS: one challenge per header",
			[]string{exchangeBearer, "Negotiate", "NTLM"},
			[]Challenge{ch("Bearer", bearerParams...), ch("Negotiate"), ch("NTLM")}},
		{"Exchange Online: Bearer and Basic joined in one header, error param, no space after the comma",
			[]string{exchangeBearer + `, error="invalid_token",Basic Realm=""`},
			[]Challenge{ch("Bearer", append(bearerParams, "error", "invalid_token")...), ch("Basic", "realm", "")}},
		{"everything in one comma-joined header",
			[]string{`Negotiate, NTLM, Basic realm="mail.contoso.com", ` + exchangeBearer},
			[]Challenge{ch("Negotiate"), ch("NTLM"), ch("Basic", "realm", "mail.contoso.com"), ch("Bearer", bearerParams...)}},
		{"trusted_issuers with a comma inside the quotes",
			[]string{`Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*,00000004-0000-0ff1-ce00-000000000000@contoso.com"`},
			[]Challenge{ch("Bearer", "client_id", "00000002-0000-0ff1-ce00-000000000000",
				"trusted_issuers", "00000001-0000-0000-c000-000000000000@*,00000004-0000-0ff1-ce00-000000000000@contoso.com")}},
		{"Skype for Business web ticket: MsRtcOAuth, quoted href, comma list in grant_type",
			[]string{`MsRtcOAuth href="https://pool01.contoso.com/WebTicket/oauthtoken",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"`},
			[]Challenge{ch("MsRtcOAuth", "href", "https://pool01.contoso.com/WebTicket/oauthtoken",
				"grant_type", "urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password")}},
		{"MsRtcOAuth with an unquoted URL (domain-facts §2)",
			[]string{`MsRtcOAuth href=https://pool01.contoso.com/WebTicket/oauthtoken,grant_type="urn:microsoft.rtc:windows"`},
			[]Challenge{ch("MsRtcOAuth", "href", "https://pool01.contoso.com/WebTicket/oauthtoken", "grant_type", "urn:microsoft.rtc:windows")}},
		{"NTLM challenge token with base64 padding",
			[]string{"NTLM TlRMTVNTUAACAAAADgAOADgAAAAFgomiESIzRFVmd4g=="},
			[]Challenge{tok("NTLM", "TlRMTVNTUAACAAAADgAOADgAAAAFgomiESIzRFVmd4g==")}},
		{"Negotiate token with + and /, then another challenge",
			[]string{"Negotiate oYG3MIG0oAMKAQ+h/gQ=, Basic realm=x"},
			[]Challenge{tok("Negotiate", "oYG3MIG0oAMKAQ+h/gQ="), ch("Basic", "realm", "x")}},
		{"Digest with a quoted comma list and escaped quotes",
			[]string{`Digest realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", algorithm=SHA-256, note="say \"hi\""`},
			[]Challenge{ch("Digest", "realm", "http-auth@example.org", "qop", "auth, auth-int",
				"nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
				"algorithm", "SHA-256", "note", `say "hi"`)}},
		{"case: scheme kept, parameter names lowered, spaces around =",
			[]string{`BEARER Client_ID = "x" ,  AUTHORIZATION_URI= "https://login.windows.net/common/oauth2/authorize"`},
			[]Challenge{ch("BEARER", "client_id", "x", "authorization_uri", "https://login.windows.net/common/oauth2/authorize")}},
		{"empty and comma-only headers, leading commas",
			[]string{"", " , ,", ", Basic realm=\"a\""},
			[]Challenge{ch("Basic", "realm", "a")}},
		{"junk is skipped to the next comma",
			[]string{`"garbage", NTLM`},
			[]Challenge{ch("NTLM")}},
		{"unterminated quoted value takes the rest",
			[]string{`Basic realm="contoso, NTLM`},
			[]Challenge{ch("Basic", "realm", "contoso, NTLM")}},
		{"duplicate parameter: the first counts",
			[]string{`Basic realm="a", Realm="b"`},
			[]Challenge{ch("Basic", "realm", "a")}},
		{"parameters do not continue across headers",
			[]string{"Negotiate", `realm="orphan"`},
			[]Challenge{ch("Negotiate")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseChallenges(tc.values)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseChallenges(%q)\n got %#v\nwant %#v", tc.values, got, tc.want)
			}
		})
	}
}

func TestChallengesReadsEveryHeaderAndFinds(t *testing.T) {
	h := http.Header{}
	h.Add("Www-Authenticate", exchangeBearer)
	h.Add("WWW-Authenticate", "Negotiate")
	cs := Challenges(h)
	if len(cs) != 2 {
		t.Fatalf("%d challenges from two headers", len(cs))
	}
	b, ok := Find(cs, "bearer")
	if !ok || b.Param("Authorization_URI") != "https://login.microsoftonline.com/common/oauth2/authorize" {
		t.Fatalf("Find bearer: %v %v", b, ok)
	}
	if _, ok := Find(cs, "Basic"); ok {
		t.Fatal("found a Basic challenge that was not sent")
	}
}

func TestParseChallengesIsBounded(t *testing.T) {
	many := strings.Repeat("NTLM, ", 1000)
	if n := len(ParseChallenges([]string{many, many})); n != maxChallenges {
		t.Fatalf("%d challenges, want the limit %d", n, maxChallenges)
	}
	params := "Basic " + strings.Repeat(`a="1", `, 10) // same name: one
	for i := range 100 {
		params += "p" + strings.Repeat("x", i) + `="v", `
	}
	if n := len(ParseChallenges([]string{params})[0].Params); n != maxParams {
		t.Fatalf("%d params, want the limit %d", n, maxParams)
	}
}

func TestChallengeStringRoundTrips(t *testing.T) {
	in := []string{exchangeBearer + `, note="a \"quoted\" \\ value"`, "NTLM abc+/=="}
	cs := ParseChallenges(in)
	var out []string
	for _, c := range cs {
		out = append(out, c.String())
	}
	if again := ParseChallenges([]string{strings.Join(out, ", ")}); !reflect.DeepEqual(again, cs) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", again, cs)
	}
}
