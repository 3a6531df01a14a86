package cms

import (
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/support"
)

// SfBVersion is what a Front End's snapshot shows of its version.
type SfBVersion struct {
	// Build is the server's patch level from Get-CsServerPatchVersion,
	// e.g. "7.0.2046.553"; empty when the snapshot has none.
	Build string `json:"build,omitempty"`
	// Product is the lifecycle table's ID (lync_2013, sfb_2015, sfb_2019,
	// sfb_se), or "unknown" for a build outside the table.
	Product string `json:"product,omitempty"`
	// ProductLine is Get-CsServerVersion's text, clipped.
	ProductLine string `json:"product_line,omitempty"`

	build   support.Build
	product support.Product
	known   bool // product is a row of the table
}

// coreComponents ends the ComponentName of the row whose version is the
// server's patch level ("Skype for Business Server 2019, Core Components").
const coreComponents = "core components"

// sfbVersion reads a Front End's version from its snapshot.
//
// Get-CsServerPatchVersion lists a version per installed component, and
// Microsoft documents no output beyond that (its Learn page shows no
// output; Microsoft's own Skype for Business troubleshooting tool reads
// the rows' ComponentName and Version and compares the "Core Components"
// row). The server's build is the highest version among the Core
// Components rows; without such a row, the highest of all rows.
//
// Skype for Business Server 2019 and Subscription Edition are both
// 7.0.2046.x. Where Get-CsServerVersion names the product ("Subscription
// Edition", "2019") and the build is 7.0.x, the name decides; otherwise
// the build's range in the lifecycle table does. Get-CsServerVersion's own
// version, e.g. (7.0.2046.0), is the release installed, not the patch
// level, so it never gives the build.
func sfbVersion(d *SfBData) (SfBVersion, bool) {
	var v SfBVersion
	if len(d.ServerVersion) > 0 {
		v.ProductLine = clipText(strings.TrimSpace(string(d.ServerVersion[0].Product)), 120)
	}
	var best, bestCore support.Build
	var bestText, bestCoreText string
	for _, pv := range d.PatchVersions {
		b, err := support.Parse(string(pv.Version))
		if err != nil {
			continue
		}
		if bestText == "" || best.Less(b) {
			best, bestText = b, string(pv.Version)
		}
		if strings.HasSuffix(strings.ToLower(strings.TrimSpace(string(pv.ComponentName))), coreComponents) && (bestCoreText == "" || bestCore.Less(b)) {
			bestCore, bestCoreText = b, string(pv.Version)
		}
	}
	if bestCoreText != "" {
		best, bestText = bestCore, bestCoreText
	}
	if bestText == "" {
		return v, false
	}
	// The label is the parsed build, so nothing else the row held reaches it.
	v.build, v.Build = best, best.String()
	v.product, v.known = support.Identify(support.SfB, best)
	if best[0] == 7 && best[1] == 0 {
		line := strings.ToLower(v.ProductLine)
		name := ""
		switch {
		case strings.Contains(line, "subscription edition"):
			name = "sfb_se"
		case strings.Contains(line, "2019"):
			name = "sfb_2019"
		}
		for _, p := range support.Products {
			if p.ID == name {
				v.product, v.known = p, true
			}
		}
	}
	v.Product = "unknown"
	if v.known {
		v.Product = v.product.ID
	}
	return v, true
}
