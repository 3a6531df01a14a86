package lab

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The lab's Exchange and Skype for Business web services: Exchange
// autodiscover (POX and SOAP, challenge-protected, answering the lab probe
// mailbox for real with NTLM or Basic), the plain-HTTP autodiscover
// redirect, EWS with its OAuth challenge, and Lync autodiscover on the
// reverse proxy and the pool.

// ProbeUser is the lab's probe mailbox and account.
const ProbeUser = "sfbex-probe@" + Domain

// The lab's EWS URL, as autodiscover returns it (internal and external).
var labEWSURL = "https://mail." + Domain + "/EWS/Exchange.asmx"

// The Bearer challenge of the lab's EWS and autodiscover: Exchange 2013+
// with OAuth on, hybrid modern authentication configured. trusted_issuers
// holds a comma inside its quotes, as real ones with several issuers do.
var labBearer = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", ` +
	`trusted_issuers="00000001-0000-0000-c000-000000000000@*,00000004-0000-0ff1-ce00-000000000000@` + Domain + `", ` +
	`token_types="app_asserted_user_v1 service_asserted_app_v1", ` +
	`authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`

// exchangeWeb holds the lab's probe account.
type exchangeWeb struct {
	lab          *Lab
	password     string
	passwordFile string
	ntlm         *ntlmServer
}

// startWebServices adds the endpoints to the machines and starts the plain
// HTTP autodiscover redirect. The probe account's password is random per
// lab and lives in a file in the lab's directory, as a secret would.
func (l *Lab) startWebServices() error {
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	ex := &exchangeWeb{lab: l, password: base64.RawURLEncoding.EncodeToString(pw)}
	ex.ntlm = &ntlmServer{user: strings.TrimSuffix(ProbeUser, "@"+Domain), domain: Domain, password: ex.password}
	ex.passwordFile = filepath.Join(filepath.Dir(l.caFile), "autodiscover-password")
	if err := os.WriteFile(ex.passwordFile, []byte(ex.password+"\n"), 0o600); err != nil {
		return err
	}
	l.web = ex

	for _, p := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
		l.Exchange.Mux.HandleFunc(p, ex.pox)
	}
	for _, p := range []string{"/autodiscover/autodiscover.svc", "/Autodiscover/Autodiscover.svc"} {
		l.Exchange.Mux.HandleFunc(p, ex.soap)
	}
	for _, p := range []string{"/EWS/Exchange.asmx", "/ews/exchange.asmx"} {
		l.Exchange.Mux.HandleFunc(p, ex.ews)
	}
	for _, p := range []string{"/owa/", "/OWA/"} {
		l.Exchange.Mux.HandleFunc(p, ex.owa)
	}
	for _, m := range []struct {
		machine   *Machine
		discovery string // the name answering GET /
		web       string // the web services name the links point to
		external  bool
	}{
		{l.WebExt, "lyncdiscover." + Domain, "webext." + Domain, true},
		{l.Pool, "lyncdiscoverinternal." + Domain, "pool01." + Domain, false},
	} {
		links := lyncLinks(m.web)
		discovery := func(w http.ResponseWriter, r *http.Request) {
			if m.external && l.On("lyncdiscover-html") {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method="post" action="/signin"><input name="user"><input name="password" type="password"></form></body></html>`)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(links)
		}
		m.machine.Mux.HandleFunc("GET "+m.discovery+"/{$}", discovery)
		m.machine.Mux.HandleFunc("GET /Autodiscover/AutodiscoverService.svc/root", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(links)
		})
		token := "https://" + m.web + "/WebTicket/oauthtoken"
		m.machine.Mux.HandleFunc("GET /Autodiscover/AutodiscoverService.svc/root/oauth/user", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `MsRtcOAuth href="`+token+`",grant_type="urn:microsoft.rtc:windows,urn:microsoft.rtc:anonmeeting,password"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		})
	}
	redirect := http.NewServeMux()
	for _, p := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
		redirect.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			target := "https://autodiscover." + Domain + "/autodiscover/autodiscover.xml"
			if l.On("autodiscover-wrong-redirect") {
				target = "https://autodiscover.hosting-old.example/autodiscover/autodiscover.xml"
			}
			http.Redirect(w, r, target, http.StatusFound)
		})
	}
	return l.servePlainHTTP("autodiscover."+Domain+":80", redirect)
}

func lyncLinks(web string) []byte {
	root := "https://" + web + "/Autodiscover/AutodiscoverService.svc/root"
	b, _ := json.Marshal(map[string]any{"_links": map[string]any{
		"self":   map[string]string{"href": root + "?originalDomain=" + Domain},
		"user":   map[string]string{"href": root + "/oauth/user?originalDomain=" + Domain},
		"xframe": map[string]string{"href": "https://" + web + "/Autodiscover/XFrame/XFrame.html"},
	}})
	return b
}

// httpEnv is the agent configuration for the lab's web services.
func (l *Lab) httpEnv(interval time.Duration) map[string]string {
	timeout := min(interval, 10*time.Second)
	env := map[string]string{
		"SFBEX_HTTP_INTERVAL":                 interval.String(),
		"SFBEX_HTTP_TIMEOUT":                  timeout.String(),
		"SFBEX_HTTP_REQUEST_TIMEOUT":          min(timeout, 5*time.Second).String(),
		"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL": "https://autodiscover." + Domain + "/autodiscover/autodiscover.svc",
	}
	if l.web != nil {
		env["SFBEX_AUTODISCOVER_USER"] = ProbeUser
		env["SFBEX_AUTODISCOVER_PASSWORD_FILE"] = l.web.passwordFile
	}
	return env
}

// ProbePassword returns the lab probe account's password, for tests.
func (l *Lab) ProbePassword() string { return l.web.password }

func serviceUnavailable(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprint(w, "<h1>Service Unavailable</h1><p>HTTP Error 503. The service is unavailable.</p>")
}

// authenticated checks the request's credentials. When it returns false it
// has answered: 401 with the challenges, or the NTLM challenge message.
func (ex *exchangeWeb) authenticated(w http.ResponseWriter, r *http.Request) bool {
	return ex.signedIn(w, r, ex.challenge)
}

// signedIn checks the probe account's Basic or NTLM sign-in; on failure it
// answers with challenge, the 401 of the service asked.
func (ex *exchangeWeb) signedIn(w http.ResponseWriter, r *http.Request, challenge func(http.ResponseWriter)) bool {
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		user, pass, _ := strings.Cut(string(raw), ":")
		if err == nil && strings.EqualFold(user, ProbeUser) && subtle.ConstantTimeCompare([]byte(pass), []byte(ex.password)) == 1 {
			return true
		}
	case "ntlm", "negotiate":
		msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
		if err == nil && len(msg) >= 12 && bytes.HasPrefix(msg, ntlmSignature) {
			switch msg[8] {
			case 1:
				ch, err := ex.ntlm.challenge(r.RemoteAddr, msg)
				if err == nil {
					w.Header().Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(ch))
					http.Error(w, "Unauthorized", http.StatusUnauthorized)
					return false
				}
			case 3:
				if ex.ntlm.verify(r.RemoteAddr, msg) {
					return true
				}
			}
		}
	}
	challenge(w)
	return false
}

// challenge answers 401 as Exchange's autodiscover does: Negotiate and NTLM
// in their own headers, Bearer and Basic joined in one (as Exchange Online
// sends them).
func (ex *exchangeWeb) challenge(w http.ResponseWriter) {
	h := w.Header()
	h.Add("WWW-Authenticate", "Negotiate")
	h.Add("WWW-Authenticate", "NTLM")
	h.Add("WWW-Authenticate", labBearer+`,Basic realm="autodiscover.`+Domain+`"`)
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// requested reads the address an autodiscover request asks about (the
// POX EMailAddress or the SOAP Mailbox), bounded.
func requested(r *http.Request, element string) string {
	dec := xml.NewDecoder(io.LimitReader(r.Body, 64<<10))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, element) {
			var s string
			if dec.DecodeElement(&s, &se) != nil {
				return ""
			}
			return strings.TrimSpace(s)
		}
	}
}

func (ex *exchangeWeb) pox(w http.ResponseWriter, r *http.Request) {
	if ex.lab.On("autodiscover-down") {
		serviceUnavailable(w)
		return
	}
	if !ex.authenticated(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	addr := ""
	if r.Method == http.MethodPost {
		addr = requested(r, "EMailAddress")
	}
	if !strings.EqualFold(addr, ProbeUser) {
		code, msg := "500", "The email address can't be found."
		if r.Method != http.MethodPost {
			code, msg = "600", "Invalid Request"
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">`+
			`<Response><Error Time="%s" Id="2044085720"><ErrorCode>%s</ErrorCode><Message>%s</Message><DebugData /></Error></Response></Autodiscover>`,
			time.Now().Format("15:04:05.0000000"), code, msg)
		return
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User><DisplayName>sfbex probe</DisplayName><AutoDiscoverSMTPAddress>%[1]s</AutoDiscoverSMTPAddress></User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol>
        <Type>EXCH</Type>
        <Server>ex01.%[2]s</Server>
        <ServerVersion>%[4]s</ServerVersion>
        <ASUrl>https://mail.%[2]s/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>%[3]s</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.%[2]s</Server>
        <EwsUrl>%[3]s</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal><OWAUrl AuthenticationMethod="Basic, Fba">https://mail.%[2]s/owa/</OWAUrl>
          <Protocol><Type>EXCH</Type><ASUrl>https://mail.%[2]s/EWS/Exchange.asmx</ASUrl></Protocol></Internal>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
`, ProbeUser, Domain, labEWSURL, ex.build().pox)
}

// owa answers an anonymous browser as Exchange does: a redirect to the
// sign-in page, with the full build in X-OWA-Version.
func (ex *exchangeWeb) owa(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-OWA-Version", ex.build().full)
	http.Redirect(w, r, "/owa/auth/logon.aspx?replaceCurrent=1&url="+url.QueryEscape("https://"+r.Host+"/owa/"), http.StatusFound)
}

// labBuild is the Exchange build the lab's autodiscover answers show.
type labBuild struct {
	pox  string // EXCH ServerVersion (MS-OXDSCLI: 6 bits major, 6 minor, flag, 15 build)
	soap string // ServerVersionInfo elements
	full string // X-OWA-Version
}

// build is Exchange Server Subscription Edition RTM (15.2.2562.17), or
// Exchange 2016 CU23 (15.1.2507.6) with exchange-out-of-support.
func (ex *exchangeWeb) build() labBuild {
	if ex.lab.On("exchange-out-of-support") {
		return labBuild{"73C189CB", `<h:MajorVersion>15</h:MajorVersion><h:MinorVersion>1</h:MinorVersion><h:MajorBuildNumber>2507</h:MajorBuildNumber><h:MinorBuildNumber>6</h:MinorBuildNumber>`, "15.1.2507.6"}
	}
	return labBuild{"73C28A02", `<h:MajorVersion>15</h:MajorVersion><h:MinorVersion>2</h:MinorVersion><h:MajorBuildNumber>2562</h:MajorBuildNumber><h:MinorBuildNumber>17</h:MinorBuildNumber>`, "15.2.2562.17"}
}

// ews is the build as EWS's ServerVersionInfo attributes.
func (b labBuild) ews() string {
	p := strings.Split(b.full, ".")
	return fmt.Sprintf(`MajorVersion="%s" MinorVersion="%s" MajorBuildNumber="%s" MinorBuildNumber="%s"`, p[0], p[1], p[2], p[3])
}

func (ex *exchangeWeb) soap(w http.ResponseWriter, r *http.Request) {
	if ex.lab.On("autodiscover-down") {
		serviceUnavailable(w)
		return
	}
	if !ex.authenticated(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "autodiscover.svc takes SOAP POST requests", http.StatusMethodNotAllowed)
		return
	}
	code, settings := "NoError", fmt.Sprintf(`<UserSettings>`+
		`<UserSetting i:type="StringSetting"><Name>InternalEwsUrl</Name><Value>%[1]s</Value></UserSetting>`+
		`<UserSetting i:type="StringSetting"><Name>ExternalEwsUrl</Name><Value>%[1]s</Value></UserSetting>`+
		`</UserSettings>`, labEWSURL)
	if !strings.EqualFold(requested(r, "Mailbox"), ProbeUser) {
		code, settings = "InvalidUser", "<UserSettings />"
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing">`+
		`<s:Header><a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action>`+
		`<h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">`+
		`%s<h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header>`+
		`<s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover">`+
		`<Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ErrorCode>NoError</ErrorCode><ErrorMessage />`+
		`<UserResponses><UserResponse><ErrorCode>%s</ErrorCode><ErrorMessage>No error.</ErrorMessage><RedirectTarget i:nil="true" /><UserSettingErrors />%s</UserResponse></UserResponses>`+
		`</Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>`, ex.build().soap, code, settings)
}

// ews answers as Exchange's EWS does: without credentials 401 with its
// challenges, Bearer first; signed in with the probe account, a SOAP answer.
func (ex *exchangeWeb) ews(w http.ResponseWriter, r *http.Request) {
	switch {
	case ex.lab.On("ews-503"):
		serviceUnavailable(w)
		return
	case ex.lab.On("ews-html"):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Contoso sign-in</title></head><body><form method="post"><input name="username"><input name="password" type="password"></form></body></html>`)
		return
	case ex.lab.On("ews-garbage"):
		b := make([]byte, 2048)
		_, _ = rand.Read(b)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(b)
		return
	case ex.lab.On("ews-endless"):
		endless(w, r)
		return
	case ex.lab.On("ews-empty"):
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return
	case ex.lab.On("ews-policy-blocked"):
		// Exchange Online since 2026-10-01 for a tenant that never set
		// EwsEnabled (Learn "Control access to EWS in Exchange").
		w.Header().Set("X-EWS-Policy-Reason", "EWS is disabled for this user or tenant")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if !ex.signedIn(w, r, ex.ewsChallenge) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "EWS takes SOAP POST requests", http.StatusMethodNotAllowed)
		return
	}
	// Every EWS answer carries the build in its SOAP header; the lab
	// answers any request as GetServerTimeZones with the one zone asked.
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">`+
		`<s:Header><h:ServerVersionInfo %s Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"/></s:Header>`+
		`<s:Body><m:GetServerTimeZonesResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">`+
		`<m:ResponseMessages><m:GetServerTimeZonesResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`+
		`<m:TimeZoneDefinitions><t:TimeZoneDefinition Id="UTC" Name="(UTC) Coordinated Universal Time"/></m:TimeZoneDefinitions>`+
		`</m:GetServerTimeZonesResponseMessage></m:ResponseMessages></m:GetServerTimeZonesResponse></s:Body></s:Envelope>`, ex.build().ews())
}

// ewsChallenge is EWS's 401: Bearer first (unless OAuth is off), then
// Negotiate and NTLM.
func (ex *exchangeWeb) ewsChallenge(w http.ResponseWriter) {
	h := w.Header()
	if !ex.lab.On("ews-no-oauth") {
		h.Add("WWW-Authenticate", labBearer)
	}
	h.Add("WWW-Authenticate", "Negotiate")
	h.Add("WWW-Authenticate", "NTLM")
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// endless streams a 200 text/xml body that starts as a SOAP answer and does
// not end, until the client goes away (or 1 GiB, for a client that never
// does).
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>`)
	pad := bytes.Repeat([]byte(" "), 32<<10)
	for n := 0; n < 1<<30; n += len(pad) {
		if r.Context().Err() != nil {
			return
		}
		if _, err := w.Write(pad); err != nil {
			return
		}
	}
}
