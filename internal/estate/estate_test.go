package estate

import (
	"errors"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

func TestIsOnlineHost(t *testing.T) {
	t.Parallel()
	online := []string{"webdir.online.lync.com", "SIPDIR.ONLINE.LYNC.COM.", "sipfed.online.lync.com", "webdir.online.skype.de",
		"sipdir.online.lync.de", "webdir.online.gov.skypeforbusiness.us", "SIPFED.ONLINE.DOD.SKYPEFORBUSINESS.US.",
		"autodiscover.office365.us", "autodiscover-dod.office365.us", "exap.um.office365.us", "sipdir.online.gov.skypeforbusiness.us", "webdir.online.partner.lync.cn", "autodiscover.outlook.com", "outlook.com",
		"autodiscover.partner.outlook.cn", "autodiscover-outlook.office.de", "outlook.office365.com"}
	onprem := []string{"sip.contoso.com", "online.lync.com.contoso.com", "evilonline.lync.com", "myoutlook.com", "lync.com", "",
		"skypeforbusiness.us", "www.skypeforbusiness.us", "office365.us.contoso.com", "myoffice365.us"}
	for _, h := range online {
		if !IsOnlineHost(h) {
			t.Errorf("IsOnlineHost(%q) = false", h)
		}
	}
	for _, h := range onprem {
		if IsOnlineHost(h) {
			t.Errorf("IsOnlineHost(%q) = true", h)
		}
	}
}

func TestParseModeAndCloud(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Mode{"onprem": OnPrem, " Online ": Online, "HYBRID": Hybrid, "TeamsOnly": TeamsOnly, "teams-only": TeamsOnly, "on-prem": OnPrem} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "on premises", "cloud"} {
		if _, err := ParseMode(in); err == nil || !strings.Contains(err.Error(), "onprem, online, hybrid or teamsonly") {
			t.Errorf("ParseMode(%q): error %v", in, err)
		}
	}
	for in, want := range map[string]Cloud{"worldwide": Worldwide, "GCC": Worldwide, "gcchigh": GCCHigh, "GCC-High": GCCHigh,
		"gcc_high": GCCHigh, "DoD": DoD, " china ": China} {
		if got, err := ParseCloud(in); err != nil || got != want {
			t.Errorf("ParseCloud(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCloud("gov"); err == nil || !strings.Contains(err.Error(), `"gov"`) || !strings.Contains(err.Error(), "gcchigh, dod") {
		t.Errorf("ParseCloud(gov): error %v", err)
	}
	// Microsoft Cloud Germany closed in 2021: refused, with the date and
	// what to use instead.
	for _, in := range []string{"germany", "Germany"} {
		_, err := ParseCloud(in)
		if !errors.Is(err, ErrGermany) || !strings.Contains(err.Error(), "closed on 2021-10-29") || !strings.Contains(err.Error(), "use worldwide") {
			t.Errorf("ParseCloud(%q): error %v", in, err)
		}
	}
}

// The hosts of domain-facts §7's cloud table, verbatim.
func TestCloudHosts(t *testing.T) {
	t.Parallel()
	want := map[Cloud][5]string{
		Worldwide: {"sipdir.online.lync.com", "webdir.online.lync.com", "sipfed.online.lync.com", "autodiscover.outlook.com", "exap.um.outlook.com"},
		GCCHigh: {"sipdir.online.gov.skypeforbusiness.us", "webdir.online.gov.skypeforbusiness.us", "sipfed.online.gov.skypeforbusiness.us",
			"autodiscover.office365.us", "exap.um.office365.us"},
		DoD: {"sipdir.online.dod.skypeforbusiness.us", "webdir.online.dod.skypeforbusiness.us", "sipfed.online.dod.skypeforbusiness.us",
			"autodiscover-dod.office365.us", ""},
		China: {"sipdir.online.partner.lync.cn", "webdir.online.partner.lync.cn", "sipfed.online.partner.lync.cn",
			"autodiscover.partner.outlook.cn", "exap.um.partner.outlook.cn"},
	}
	for _, c := range Clouds {
		h := CloudHosts(c)
		got := [5]string{h[HostSIP], h[HostLyncdiscover], h[HostSIPFed], h[HostAutodiscover], h[HostExap]}
		if got != want[c] {
			t.Errorf("%s: %v, want %v", c, got, want[c])
		}
		for _, v := range got {
			if v != "" && !IsOnlineHost(v) {
				t.Errorf("%s: %s is not recognised as Microsoft 365", c, v)
			}
		}
	}
	if CloudOf(HostExap, "EXAP.UM.OFFICE365.US.") != GCCHigh || CloudOf(HostSIPFed, "sipfed.online.lync.com") != Worldwide || CloudOf(HostExap, "") != "" {
		t.Error("CloudOf does not find the cloud of a host")
	}
}

func TestTeamsOnlyIsTheSkypeSide(t *testing.T) {
	t.Parallel()
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "a=127.0.0.1:53", "SFBEX_DEPLOYMENT": "teamsonly"}
	e, err := Load(config.Map(base))
	if err != nil || e.Lync != TeamsOnly || e.Exchange != Online || !e.Lync.InCloud() || e.Exchange.InCloud() != true || Hybrid.InCloud() {
		t.Fatalf("%+v %v", e, err)
	}
	base["SFBEX_EXCHANGE_DEPLOYMENT"] = "onprem"
	if e, err := Load(config.Map(base)); err != nil || e.Exchange != OnPrem {
		t.Fatalf("%+v %v", e, err)
	}
	base["SFBEX_EXCHANGE_DEPLOYMENT"] = "teamsonly"
	if _, err := Load(config.Map(base)); err == nil || !strings.Contains(err.Error(), "describes the Skype for Business side") {
		t.Fatalf("teamsonly Exchange: %v", err)
	}
}
