package support

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Build strings as Microsoft writes them (X-OWA-Version, ServerVersionInfo,
// Get-CsServerPatchVersion, the SIP Server header).
func TestIdentify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		family  Family
		build   string
		product string
	}{
		{Exchange, "15.2.2562.17", "exchange_se"},
		{Exchange, "15.2.2562", "exchange_se"},
		{Exchange, "15.2.1748.10", "exchange_2019"},
		{Exchange, "15.1.2507.6", "exchange_2016"},
		{Exchange, "15.1.2507", "exchange_2016"},
		{Exchange, "15.0.1497.48", "exchange_2013"},
		{SfB, "7.0.2046.820", "sfb_se"},
		{SfB, "7.0.2046.553", "sfb_2019"},
		{SfB, "6.0.9319.881", "sfb_2015"},
		{SfB, "5.0.8308.1001", "lync_2013"},
	} {
		b, err := Parse(tc.build)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := Identify(tc.family, b)
		if !ok || p.ID != tc.product {
			t.Errorf("%s %s: %q %v, want %s", tc.family, tc.build, p.ID, ok, tc.product)
		}
	}
	if _, ok := Identify(Exchange, MustParse("14.3.123.4")); ok {
		t.Error("Exchange 2010 is in the table")
	}
	for _, bad := range []string{"", "15", "a.b", "15.2.x", "1.2.3.4.5"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestSupportAndHybridApp(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for id, want := range map[string]bool{"exchange_se": true, "sfb_se": true, "exchange_2019": false, "sfb_2015": false, "lync_2013": false} {
		for _, p := range Products {
			if p.ID == id && p.Supported(now) != want {
				t.Errorf("%s supported on %s: %v", id, now.Format(time.DateOnly), !want)
			}
		}
	}
	// The last day of support is still supported.
	p, _ := Identify(Exchange, MustParse("15.1.2507.6"))
	if !p.Supported(time.Date(2025, 10, 14, 23, 0, 0, 0, time.UTC)) || p.Supported(time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC)) {
		t.Error("end of support day")
	}
	if !MustParse("7.0.2046.552").Less(MinHybridApp["sfb_2019"]) || MustParse("7.0.2046.820").Less(MinHybridApp["sfb_se"]) {
		t.Error("minimum builds")
	}
}

// docs/lifecycle.md shows the table; it must say what the code says.
func TestDocsTableMatchesTheCode(t *testing.T) {
	b, err := os.ReadFile("../../docs/lifecycle.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 6 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
		}
	}
	for _, p := range Products {
		line, ok := rows[p.ID]
		if !ok {
			t.Errorf("docs/lifecycle.md has no row for %s", p.ID)
			continue
		}
		end := "none (Modern Lifecycle)"
		if !p.EndOfSupport.IsZero() {
			end = p.EndOfSupport.Format(time.DateOnly)
		}
		min := "—"
		if m, ok := MinHybridApp[p.ID]; ok {
			min = m.String()
		}
		for _, want := range []string{p.Name, p.From.String(), end, min} {
			if !strings.Contains(line, want) {
				t.Errorf("docs/lifecycle.md row %s lacks %q: %s", p.ID, want, line)
			}
		}
		delete(rows, p.ID)
	}
	for id := range rows {
		t.Errorf("docs/lifecycle.md has a row %s the code does not know", id)
	}
}
