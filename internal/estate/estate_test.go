package estate

import (
	"strings"
	"testing"
)

func TestIsOnlineHost(t *testing.T) {
	t.Parallel()
	online := []string{"webdir.online.lync.com", "SIPDIR.ONLINE.LYNC.COM.", "sipfed.online.lync.com", "webdir.online.skype.de",
		"sipdir.online.lync.de", "webdir.online.partner.lync.cn", "autodiscover.outlook.com", "outlook.com",
		"autodiscover.partner.outlook.cn", "autodiscover-outlook.office.de", "outlook.office365.com"}
	onprem := []string{"sip.contoso.com", "online.lync.com.contoso.com", "evilonline.lync.com", "myoutlook.com", "lync.com", ""}
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
	for in, want := range map[string]Mode{"onprem": OnPrem, " Online ": Online, "HYBRID": Hybrid} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "on-prem", "cloud"} {
		if _, err := ParseMode(in); err == nil || !strings.Contains(err.Error(), "onprem, online or hybrid") {
			t.Errorf("ParseMode(%q): error %v", in, err)
		}
	}
	for in, want := range map[string]Cloud{"worldwide": Worldwide, "Germany": Germany, " china ": China} {
		if got, err := ParseCloud(in); err != nil || got != want {
			t.Errorf("ParseCloud(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCloud("gcc"); err == nil || !strings.Contains(err.Error(), `"gcc"`) {
		t.Errorf("ParseCloud(gcc): error %v", err)
	}
}
