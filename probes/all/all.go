// Package all lists every probe family the agent runs. Adding a family is
// one folder under probes/ and one line here.
package all

import (
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/cms"
	"github.com/sfbex/sfbex_exporter/probes/directory"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/probes/lifecycle"
	"github.com/sfbex/sfbex_exporter/probes/sip"
)

// Families in the order their checks are listed.
var Families = []probes.Family{
	dns.Family,
	certs.Family,
	autodiscover.Family,
	cms.Family,
	directory.Family,
	sip.Family,
	lifecycle.Family,
}

// Variables lists every SFBEX_* variable the estate, the web client and the
// families read, and those of extra (pointers to structs with `env` tags),
// without repeats.
func Variables(extra ...any) []string {
	seen := map[string]bool{}
	var out []string
	vars := append([]any{&estate.Vars{}, &webclient.Vars{}}, extra...)
	for _, f := range Families {
		vars = append(vars, f.Vars)
	}
	for _, v := range vars {
		for _, n := range config.Names(v) {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
