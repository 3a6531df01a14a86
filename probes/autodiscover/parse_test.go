package autodiscover

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
)

// An Exchange 2016 answer, shortened: the WEB protocol nests its own EXCH
// protocol, which must not be taken for the account's.
const exchange2016POX = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User><DisplayName>Probe</DisplayName><LegacyDN>/o=Contoso/ou=Exchange Administrative Group/cn=Recipients/cn=probe</LegacyDN></User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>ex01.contoso.com</Server>
        <ServerVersion>73C18880</ServerVersion>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <EwsUrl>https://webmail.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <Protocol><Type>EXCH</Type><EwsUrl>https://nested.example/wrong</EwsUrl></Protocol>
        </Internal>
      </Protocol>
      <Protocol Type="mapiHttp" Version="1"><MailStore><InternalUrl>https://mail.contoso.com/mapi/emsmdb/</InternalUrl></MailStore></Protocol>
    </Account>
  </Response>
</Autodiscover>`

func utf16WithBOM(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func TestParsePOX(t *testing.T) {
	for _, tc := range []struct {
		name, body       string
		raw              []byte
		internal, extern string
		version          string
		check            func(*POXResponse) bool
	}{
		{name: "Exchange 2016", body: exchange2016POX, internal: "https://mail.contoso.com/EWS/Exchange.asmx",
			extern: "https://webmail.contoso.com/EWS/Exchange.asmx", version: "15.1.2176",
			check: func(r *POXResponse) bool { return len(r.Protocols) == 4 && r.Protocols[3].Type == "mapiHttp" }},
		{name: "UTF-8 BOM, other prefixes and case", body: "\xEF\xBB\xBF" +
			`<a:AUTODISCOVER xmlns:a="x"><b:response xmlns:b="y"><b:account><b:protocol><b:type>exch</b:type><b:ewsurl>https://a/EWS/Exchange.asmx</b:ewsurl></b:protocol></b:account></b:response></a:AUTODISCOVER>`,
			internal: "https://a/EWS/Exchange.asmx"},
		{name: "UTF-16 with BOM", raw: utf16WithBOM(strings.Replace(exchange2016POX, `encoding="utf-8"`, `encoding="utf-16"`, 1)),
			internal: "https://mail.contoso.com/EWS/Exchange.asmx", extern: "https://webmail.contoso.com/EWS/Exchange.asmx", version: "15.1.2176"},
		{name: "error answer", body: `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="1" Id="2"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData /></Error></Response></Autodiscover>`,
			check: func(r *POXResponse) bool { return r.ErrorCode == "600" && r.ErrorMessage == "Invalid Request" }},
		{name: "redirectUrl", body: `<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml</RedirectUrl></Account></Response></Autodiscover>`,
			check: func(r *POXResponse) bool {
				return r.Action == "redirectUrl" && r.RedirectURL == "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml"
			}},
		{name: "redirectAddr keeps no address", body: `<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>someone@contoso.mail.onmicrosoft.com</RedirectAddr></Account></Response></Autodiscover>`,
			check: func(r *POXResponse) bool {
				return r.RedirectAddr && !strings.Contains(r.RedirectURL+r.Action, "someone")
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.raw
			if body == nil {
				body = []byte(tc.body)
			}
			r, err := ParsePOX(body)
			if err != nil {
				t.Fatal(err)
			}
			if r.EWS("EXCH") != tc.internal || r.EWS("EXPR") != tc.extern || r.ExchangeVersion() != tc.version {
				t.Fatalf("EXCH %q EXPR %q version %q", r.EWS("EXCH"), r.EWS("EXPR"), r.ExchangeVersion())
			}
			if tc.check != nil && !tc.check(r) {
				t.Fatalf("%+v", r)
			}
		})
	}
	for _, bad := range []string{"", "<html><body>IIS</body></html>", "not xml at all", "<Autodiscover><a></b>", "<Autodiscover/><x/>", strings.Repeat("<a>", 100)} {
		if _, err := ParsePOX([]byte(bad)); err == nil {
			t.Errorf("ParsePOX(%.30q) accepted", bad)
		}
	}
}

func TestParseSOAP(t *testing.T) {
	r, err := ParseSOAP([]byte(soapAnswer("NoError", internalEWS)))
	if err != nil || r.Failed() != "" || r.InternalEwsURL != internalEWS || r.ExternalEwsURL != externalEWS || r.ExchangeVersion != "15.2.2562" {
		t.Fatalf("%+v %v", r, err)
	}
	r, _ = ParseSOAP([]byte(soapAnswer("InvalidUser", "")))
	if r.Failed() != "InvalidUser" {
		t.Fatalf("%+v", r)
	}
	fault := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ActionNotSupported</faultcode><faultstring xml:lang="en-US">The message with Action '' cannot be processed</faultstring></s:Fault></s:Body></s:Envelope>`
	if r, err = ParseSOAP([]byte(fault)); err != nil || r.Failed() != "SOAP fault" || !strings.Contains(r.Fault, "cannot be processed") {
		t.Fatalf("fault: %+v %v", r, err)
	}
	redirect := strings.Replace(soapAnswer("RedirectAddress", ""), "<ErrorMessage>x</ErrorMessage>", "<ErrorMessage>x</ErrorMessage><RedirectTarget>someone@contoso.com</RedirectTarget>", 1)
	if r, _ = ParseSOAP([]byte(redirect)); r.Failed() != "RedirectAddress" || r.RedirectTarget != "" {
		t.Fatalf("redirect address kept: %+v", r)
	}
	if _, err := ParseSOAP([]byte(exchange2016POX)); err == nil {
		t.Fatal("a POX answer passed for SOAP")
	}
	req := string(SOAPRequest("https://a/autodiscover/autodiscover.svc", "x&y@contoso.com"))
	if !strings.Contains(req, "<a:Mailbox>x&amp;y@contoso.com</a:Mailbox>") || !strings.Contains(req, "InternalEwsUrl") {
		t.Fatalf("request %s", req)
	}
	if pox := string(POXRequest("a<b@c.d")); !strings.Contains(pox, "<EMailAddress>a&lt;b@c.d</EMailAddress>") || !strings.Contains(pox, poxResponseSchema) {
		t.Fatalf("POX request %s", pox)
	}
}

func TestParseLinks(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Links
	}{
		{`{"_links":{"self":{"href":"https://webext/self"},"user":{"href":"https://webext/user"},"xframe":{"href":"https://webext/xframe"}}}`,
			Links{Self: "https://webext/self", User: "https://webext/user", XFrame: "https://webext/xframe"}},
		{`{"_links":{"redirect":{"href":"https://webdir1a.online.lync.com/Autodiscover/AutodiscoverService.svc/root?originalDomain=contoso.com"}}}`,
			Links{Redirect: "https://webdir1a.online.lync.com/Autodiscover/AutodiscoverService.svc/root?originalDomain=contoso.com"}},
		{"\xEF\xBB\xBF" + `{"_Links":{"User":{"HREF":" https://pool/user "},"extra":[1,2]},"other":true}`, Links{User: "https://pool/user"}},
	} {
		got, err := ParseLinks([]byte(tc.body))
		if err != nil || got != tc.want {
			t.Errorf("ParseLinks(%s) = %+v, %v", tc.body, got, err)
		}
	}
	for _, bad := range []string{"", "<html>", `{"links":{}}`, `{"_links":[]}`, `{"_links":{}}`, `{"_links":{"user":"https://x"}}`, `[1]`} {
		if _, err := ParseLinks([]byte(bad)); err == nil {
			t.Errorf("ParseLinks(%q) accepted", bad)
		}
	}
}
