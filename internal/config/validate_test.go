package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidators(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string // "" = valid
	}{
		{"domains ok", second(Domains("SFBEX_SIP_DOMAINS", []string{" Contoso.COM. ", "", "contoso.com", "fabrikam.com"})), ""},
		{"domain bad", second(Domains("SFBEX_SIP_DOMAINS", []string{"contoso"})), `SFBEX_SIP_DOMAINS: "contoso" is not a domain name; e.g. SFBEX_SIP_DOMAINS=contoso.com,fabrikam.com`},
		{"host names", second(HostNames("SFBEX_X", []string{"a_b.contoso.com"}, "autodiscover.fabrikam.com")), `SFBEX_X: "a_b.contoso.com" is not a host name; e.g. SFBEX_X=autodiscover.fabrikam.com`},
		{"url ok", second(HTTPSURL("SFBEX_U", "https://Mail.Contoso.com/EWS/Exchange.asmx", "https://x.y/")), ""},
		{"url http", second(HTTPSURL("SFBEX_U", "http://mail.contoso.com/", "https://mail.contoso.com/")), `SFBEX_U="http://mail.contoso.com/" is not an https URL; e.g. SFBEX_U=https://mail.contoso.com/`},
		{"url with user", second(HTTPSURL("SFBEX_U", "https://u:p@mail.contoso.com/", "https://mail.contoso.com/")), "is not an https URL"},
		{"url list item", second(HTTPSURLs("SFBEX_U", []string{"https://a.b/", "ftp://a.b/"}, "https://a.b/")), `SFBEX_U: "ftp://a.b/" is not an https URL`},
		{"host:port ok", second(HostPorts("SFBEX_H", []string{"sip.contoso.com:5061", "10.0.0.1:443"}, "a.b:443")), ""},
		{"host:port bad port", second(HostPorts("SFBEX_H", []string{"sip.contoso.com:70000"}, "a.b:443")), `SFBEX_H: "sip.contoso.com:70000" is not host:port; e.g. SFBEX_H=a.b:443`},
		{"guids ok", second(GUIDs("SFBEX_G", []string{" 11111111-2222-3333-4444-555555555555 ", "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"}, "a")), ""},
		{"guid braces", second(GUIDs("SFBEX_G", []string{"{11111111-2222-3333-4444-555555555555}"}, "11111111-2222-3333-4444-555555555555")), `SFBEX_G: "{11111111-2222-3333-4444-555555555555}" is not a GUID`},
		{"guid short", second(GUIDs("SFBEX_G", []string{"11111111-2222-3333-4444-55555555555"}, "x")), "is not a GUID"},
		{"one of", second(OneOf("SFBEX_R", []string{"sip", "nope"}, []string{"sip", "lyncdiscover"}, "sip")), `SFBEX_R: "nope" is not one of sip,lyncdiscover; e.g. SFBEX_R=sip`},
		{"choice", second(Choice("SFBEX_C", "Maybe", []string{"simple", "ntlm"}, "ntlm")), `SFBEX_C="Maybe" is not one of simple, ntlm; e.g. SFBEX_C=ntlm`},
		{"schedule ok", Schedule("SFBEX_DNS", time.Minute, 20*time.Second), ""},
		{"schedule zero", Schedule("SFBEX_DNS", 0, time.Second), "SFBEX_DNS_INTERVAL=0s must be positive; e.g. SFBEX_DNS_INTERVAL=1m"},
		{"schedule overlap", Schedule("SFBEX_DNS", time.Minute, 2*time.Minute), "SFBEX_DNS_TIMEOUT=2m0s is longer than SFBEX_DNS_INTERVAL=1m0s: runs would overlap; e.g. SFBEX_DNS_TIMEOUT=30s"},
		{"range", Range("SFBEX_N", 0, 1, 1000, "1000"), "SFBEX_N=0 must be from 1 to 1000; e.g. SFBEX_N=1000"},
		{"ratio", Ratio("SFBEX_R", 1.5, "0.95"), "SFBEX_R=1.5 must be from 0 to 1; e.g. SFBEX_R=0.95"},
		{"within", Within("SFBEX_A", time.Minute, "SFBEX_B", time.Second, "which bounds a whole run"), "SFBEX_A=1m0s is longer than SFBEX_B=1s, which bounds a whole run; e.g. SFBEX_A=500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.want == "" && tc.err != nil:
				t.Fatalf("unexpected error %v", tc.err)
			case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", tc.err, tc.want)
			}
		})
	}
	got, _ := Domains("SFBEX_SIP_DOMAINS", []string{" Contoso.COM. ", "", "contoso.com", "fabrikam.com"})
	if strings.Join(got, ",") != "contoso.com,fabrikam.com" {
		t.Errorf("Domains = %v", got)
	}
	if g, _ := GUIDs("SFBEX_G", []string{"AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}, ""); strings.Join(g, ",") != "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" {
		t.Errorf("GUIDs = %v", g)
	}
	u, _ := HTTPSURL("SFBEX_U", "https://Mail.Contoso.com/EWS/Exchange.asmx", "")
	if u != "https://mail.contoso.com/EWS/Exchange.asmx" {
		t.Errorf("HTTPSURL = %q", u)
	}
}

func second[T any](_ T, err error) error { return err }

func TestHostKinds(t *testing.T) {
	for h, want := range map[string][2]bool{ // IsHost, IsHostName
		"mail.contoso.com":    {true, true},
		"localhost":           {true, false},
		"_sip._tls.contoso.a": {true, false},
		"10.0.0.1":            {true, true}, // digits make labels too
		"[::1]":               {true, false},
		"bad host.com":        {false, false},
		"":                    {false, false},
	} {
		if IsHost(h) != want[0] || IsHostName(h) != want[1] {
			t.Errorf("%q: IsHost %v IsHostName %v, want %v", h, IsHost(h), IsHostName(h), want)
		}
	}
	if !IsEmail("sfbex-probe@contoso.com") || IsEmail("CONTOSO\\probe") {
		t.Error("IsEmail")
	}
}

func TestPairs(t *testing.T) {
	isNum := func(s string) error {
		if strings.Trim(s, "0123456789.") != "" {
			return errors.New("not a build")
		}
		return nil
	}
	m, err := Pairs("SFBEX_X", []string{" a=1.2 ", "b = 3", ""}, []string{"a", "b", "c"}, isNum, "a=1")
	if err != nil || len(m) != 2 || m["a"] != "1.2" || m["b"] != "3" {
		t.Fatalf("%v %v", m, err)
	}
	for in, want := range map[string]string{
		"d=1":     `"d" is not one of a,b,c; e.g. SFBEX_X=a=1`,
		"a":       `"a" is not key=value`,
		"a=":      `"a=" is not key=value`,
		"a=x":     `"a=x": not a build; e.g. SFBEX_X=a=1`,
		"a=1,a=2": "a is given twice",
	} {
		if _, err := Pairs("SFBEX_X", strings.Split(in, ","), []string{"a", "b", "c"}, isNum, "a=1"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}
