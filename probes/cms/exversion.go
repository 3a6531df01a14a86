package cms

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/support"
)

// Where an Exchange server's build came from.
const (
	// ExSetupSource: the file version of ExSetup.exe, the exact build
	// with security updates.
	ExSetupSource = "exsetup"
	// AdminDisplayVersionSource: Get-ExchangeServer's AdminDisplayVersion,
	// the cumulative update only.
	AdminDisplayVersionSource = "admin_display_version"
)

// ExchangeVersion is what an Exchange server's snapshot shows of its build.
type ExchangeVersion struct {
	// Build is the parsed build, e.g. "15.2.2562.17".
	Build string `json:"build"`
	// Product is the lifecycle table's ID (exchange_2013 … exchange_se),
	// or "unknown" for a build outside the table.
	Product string `json:"product"`
	// From says which value gave the build: exsetup or
	// admin_display_version (the cumulative update only).
	From string `json:"from"`
	// Edition and AdminDisplayVersion are Get-ExchangeServer's, clipped.
	Edition             string `json:"edition,omitempty"`
	AdminDisplayVersion string `json:"admin_display_version,omitempty"`

	build   support.Build
	product support.Product
	known   bool
}

// adminDisplayVersionRe reads Get-ExchangeServer's AdminDisplayVersion as
// it prints, "Version 15.2 (Build 2562.17)": major.minor, then the build
// and revision of the cumulative update.
var adminDisplayVersionRe = regexp.MustCompile(`^Version (\d{1,7})\.(\d{1,7}) \(Build (\d{1,7})\.(\d{1,7})\)$`)

// parseAdminDisplayVersion turns "Version 15.2 (Build 2562.17)" into 15.2.2562.17.
func parseAdminDisplayVersion(s string) (support.Build, bool) {
	m := adminDisplayVersionRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return support.Build{}, false
	}
	var b support.Build
	for i := range b {
		b[i], _ = strconv.Atoi(m[i+1])
	}
	return b, true
}

// exchangeVersion reads an Exchange server's build from its snapshot.
//
// Learn "Exchange Server build numbers and release dates": the file
// version of ExSetup.exe (long format, zero-padded: 15.02.2562.017) is the
// exact build, security updates included; Get-ExchangeServer's
// AdminDisplayVersion ("Version 15.2 (Build 2562.17)") shows the
// cumulative update only. The first is used; the second where the
// snapshot lacks a readable file version. Either tells the product: the
// major, minor and build numbers are the cumulative update's.
func exchangeVersion(d *ExchangeData) (ExchangeVersion, bool) {
	var v ExchangeVersion
	if len(d.ExchangeServer) > 0 {
		v.Edition = clipText(strings.TrimSpace(string(d.ExchangeServer[0].Edition)), 40)
		v.AdminDisplayVersion = clipText(strings.TrimSpace(string(d.ExchangeServer[0].AdminDisplayVersion)), 60)
	}
	var b support.Build
	ok := false
	if len(d.ExSetup) > 0 {
		if p, err := support.Parse(string(d.ExSetup[0].FileVersion)); err == nil && p[0] > 0 {
			b, ok, v.From = p, true, ExSetupSource
		}
	}
	if !ok && len(d.ExchangeServer) > 0 {
		if p, found := parseAdminDisplayVersion(string(d.ExchangeServer[0].AdminDisplayVersion)); found {
			b, ok, v.From = p, true, AdminDisplayVersionSource
		}
	}
	if !ok {
		return v, false
	}
	// The label is the parsed build, so nothing else the text held reaches it.
	v.build, v.Build = b, b.String()
	v.product, v.known = support.Identify(support.Exchange, b)
	v.Product = "unknown"
	if v.known {
		v.Product = v.product.ID
	}
	return v, true
}
