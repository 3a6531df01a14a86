package ews

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
)

// ServerVersionInfo as Exchange writes it in an EWS answer's SOAP header:
// the attribute form of Learn's "ServerVersionInfo" (Types schema), in the
// envelope of its GetServerTimeZones example.
func ewsAnswer(major, minor, build, rev string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="` + major + `" MinorVersion="` + minor + `" MajorBuildNumber="` + build + `" MinorBuildNumber="` + rev + `" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" />
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <GetServerTimeZonesResponse xmlns="http://schemas.microsoft.com/exchange/services/2006/messages">
      <ResponseMessages><GetServerTimeZonesResponseMessage ResponseClass="Success"><ResponseCode>NoError</ResponseCode></GetServerTimeZonesResponseMessage></ResponseMessages>
    </GetServerTimeZonesResponse>
  </s:Body>
</s:Envelope>`
}

func TestParseServerVersionInfo(t *testing.T) {
	for _, tc := range []struct {
		name, body, want, err string
	}{
		{"Exchange SE RTM", ewsAnswer("15", "2", "2562", "17"), "15.2.2562.17", ""},
		{"Exchange 2016 CU23", ewsAnswer("15", "1", "2507", "6"), "15.1.2507.6", ""},
		{"Exchange 2010 (Learn's example)", ewsAnswer("14", "0", "639", "11"), "14.0.639.11", ""},
		// Autodiscover's SOAP ServerVersionInfo has child elements, not attributes.
		{"autodiscover form", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/2010/Autodiscover"><h:MajorVersion>15</h:MajorVersion></h:ServerVersionInfo></s:Header><s:Body/></s:Envelope>`, "", "ServerVersionInfo has no MajorVersion attribute"},
		{"no header", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>`, "", "SOAP header has no ServerVersionInfo"},
		{"not a number", ewsAnswer("15", "2", "x", "17"), "", `MajorBuildNumber="x" is not a number`},
		{"web page", `<!DOCTYPE html><html><body>Sign in</body></html>`, "", "no ServerVersionInfo header"},
		{"binary", "\x00\x01\x02", "", "not XML"},
	} {
		got, err := ParseServerVersionInfo([]byte(tc.body))
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: got %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// signedInEWS is EWS that answers the probe account's Basic sign-in with
// a SOAP answer of build, and anything else with its challenges.
func signedInEWS(build []string, owa string, password string) http.HandlerFunc {
	mux := http.NewServeMux()
	mux.HandleFunc("/EWS/Exchange.asmx", func(w http.ResponseWriter, r *http.Request) {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("probe@example.com:"+password))
		if r.Header.Get("Authorization") != want || r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Content-Type"), "text/xml") {
			challenges(bearer, "NTLM", `Basic realm="mail.example.com"`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprint(w, ewsAnswer(build[0], build[1], build[2], build[3]))
	})
	mux.HandleFunc("/owa/", func(w http.ResponseWriter, r *http.Request) {
		if owa != "" {
			w.Header().Set("X-OWA-Version", owa)
		}
		http.Redirect(w, r, "/owa/auth/logon.aspx", http.StatusFound)
	})
	return mux.ServeHTTP
}

func TestServerVersionWithProbeAccount(t *testing.T) {
	const password = "correct horse"
	for _, tc := range []struct {
		name          string
		build         []string
		owa, password string
		want          string
		findings      int
		note          string
	}{
		{"supported", []string{"15", "2", "2562", "17"}, "15.2.2562.17", password, "15.2.2562.17", 0, ""},
		// X-OWA-Version and ServerVersionInfo show the same product: one finding.
		{"out of support, both sources", []string{"15", "1", "2507", "6"}, "15.1.2507.6", password, "15.1.2507.6", 1, ""},
		// /owa/ behind a proxy that strips the header: EWS still tells.
		{"out of support, EWS only", []string{"15", "1", "2507", "6"}, "", password, "15.1.2507.6", 1, ""},
		{"wrong password", []string{"15", "2", "2562", "17"}, "", "wrong " + password, "", 0, "no ServerVersionInfo: the signed-in request got"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server(t, signedInEWS(tc.build, tc.owa, password))
			cfg.Credentials = httpprobe.NewCredentials("probe@example.com", tc.password, httpprobe.AuthBasic)
			r := probeOne(t, cfg, ewsURL)
			ep := r.Endpoints[0]
			if !ep.Up || ep.ServerVersion != tc.want || len(r.Findings()) != tc.findings || !strings.Contains(ep.VersionNote, tc.note) {
				t.Fatalf("up %v version %q note %q findings %v", ep.Up, ep.ServerVersion, ep.VersionNote, r.Findings())
			}
			if tc.findings == 1 && !strings.Contains(r.Findings()[0].Problem, "Exchange Server 2016") {
				t.Errorf("finding %+v", r.Findings()[0])
			}
			details := strings.Join(r.Details(), "\n")
			if strings.Contains(details, password) {
				t.Fatal("the details show the password")
			}
			var ews *dto.Metric
			for _, m := range r.AppendMetrics(nil) {
				var d dto.Metric
				_ = m.Write(&d)
				if strings.Contains(m.Desc().String(), `"sfbex_exchange_build_info"`) && labelValue(&d, "protocol") == "ews" {
					if ews != nil {
						t.Fatal("two ews build series for one host")
					}
					ews = &d
				}
			}
			if (ews != nil) != (tc.want != "") {
				t.Fatalf("ews build series %v, want build %q", ews, tc.want)
			}
			if ews != nil && (labelValue(ews, "build") != tc.want || labelValue(ews, "server") != "mail.example.com") {
				t.Errorf("series %v", ews)
			}
		})
	}
}

// Without a probe account nothing signs in, and Exchange Online hosts are
// never asked for their build.
func TestServerVersionNeedsAccountAndOnPremises(t *testing.T) {
	cfg := server(t, signedInEWS([]string{"15", "2", "2562", "17"}, "", "pw"))
	if ep := probeOne(t, cfg, ewsURL).Endpoints[0]; ep.ServerVersion != "" || ep.VersionNote != "" {
		t.Errorf("without an account: %+v", ep)
	}
	if b, note := serverVersion(t.Context(), Config{Credentials: httpprobe.NewCredentials("u@contoso.com", "pw", httpprobe.AuthBasic)}, "https://outlook.office365.com/EWS/Exchange.asmx"); b != "" || note != "" {
		t.Errorf("Exchange Online asked: %q %q", b, note)
	}
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
