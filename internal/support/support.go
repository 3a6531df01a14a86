// Package support is the lifecycle table: which Skype for Business / Lync
// and Exchange product a build string belongs to, when its support ends,
// and the minimum builds for the dedicated hybrid applications. To update
// it, edit Products and MinHybridApp (and the table in docs/lifecycle.md,
// which a test holds to them).
//
// Sources (checked 2026-12-03, domain-facts §7): Microsoft lifecycle data
// for the end-of-support dates; CSS-Exchange HealthChecker for the
// Exchange build ranges (15.2 with build 2562 or later is Exchange Server
// Subscription Edition, RTM 15.2.2562.17); KB5065372 (a secondary summary)
// for the minimum Skype for Business builds of the dedicated hybrid
// application; Skype for Business Server Subscription Edition is 7.0.2046.x
// like 2019, RTM 7.0.2046.820.
package support

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Family is the product line a build belongs to.
type Family string

const (
	Exchange Family = "exchange"
	SfB      Family = "sfb" // Skype for Business Server and Lync Server
)

// Product is one row of the lifecycle table.
type Product struct {
	ID     string // the `product` label, e.g. exchange_2019
	Name   string
	Family Family
	// From and To bound its builds: From <= build < To (To zero: open).
	From, To Build
	// EndOfSupport is the last day of support; zero for a product under
	// the Modern Lifecycle Policy (supported while it gets updates).
	EndOfSupport time.Time
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Products is the lifecycle table, in the order the docs show it.
var Products = []Product{
	{"lync_2013", "Lync Server 2013", SfB, MustParse("5.0"), MustParse("6.0"), day(2023, 4, 11)},
	{"sfb_2015", "Skype for Business Server 2015", SfB, MustParse("6.0"), MustParse("7.0"), day(2025, 10, 14)},
	{"sfb_2019", "Skype for Business Server 2019", SfB, MustParse("7.0"), MustParse("7.0.2046.820"), day(2025, 10, 14)},
	{"sfb_se", "Skype for Business Server Subscription Edition", SfB, MustParse("7.0.2046.820"), MustParse("7.1"), time.Time{}},
	{"exchange_2013", "Exchange Server 2013", Exchange, MustParse("15.0"), MustParse("15.1"), day(2023, 4, 11)},
	{"exchange_2016", "Exchange Server 2016", Exchange, MustParse("15.1"), MustParse("15.2"), day(2025, 10, 14)},
	{"exchange_2019", "Exchange Server 2019", Exchange, MustParse("15.2"), MustParse("15.2.2562"), day(2025, 10, 14)},
	{"exchange_se", "Exchange Server Subscription Edition", Exchange, MustParse("15.2.2562"), MustParse("15.3"), time.Time{}},
}

// MinHybridApp is the first build of each Skype for Business product that
// can use the dedicated (customer-owned) Entra hybrid application
// (August 2025 hotfixes, KB5065372; deadline 2025-10-15).
var MinHybridApp = map[string]Build{
	"sfb_2015": MustParse("6.0.9319.881"),
	"sfb_2019": MustParse("7.0.2046.553"),
	"sfb_se":   MustParse("7.0.2046.820"),
}

// Build is a dotted version, e.g. 15.2.2562.17; missing parts are 0.
type Build [4]int

// Parse reads "15.2.2562.17", "15.1.2507" or "7.0"; a leading "Version "
// or "RTC/" and trailing text after a space are ignored.
func Parse(s string) (Build, error) {
	var b Build
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "Version "), "RTC/")
	t, _, _ = strings.Cut(t, " ")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return b, fmt.Errorf("build %q is not major.minor[.build[.revision]]", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1<<20 {
			return b, fmt.Errorf("build %q: %q is not a number", s, p)
		}
		b[i] = n
	}
	return b, nil
}

// MustParse is Parse for the table's constants.
func MustParse(s string) Build {
	b, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Less orders builds.
func (b Build) Less(o Build) bool {
	for i := range b {
		if b[i] != o[i] {
			return b[i] < o[i]
		}
	}
	return false
}

// IsZero reports an unset build.
func (b Build) IsZero() bool { return b == Build{} }

func (b Build) String() string {
	s := fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	return s
}

// Identify finds the product of a build in a family; ok false when the
// table has none (older than Lync 2013 / Exchange 2013, or newer than it knows).
func Identify(f Family, b Build) (Product, bool) {
	for _, p := range Products {
		if p.Family == f && !b.Less(p.From) && (p.To.IsZero() || b.Less(p.To)) {
			return p, true
		}
	}
	return Product{}, false
}

// Supported reports whether p is in support at t.
func (p Product) Supported(t time.Time) bool {
	return p.EndOfSupport.IsZero() || t.Before(p.EndOfSupport.AddDate(0, 0, 1))
}
