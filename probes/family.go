package probes

import (
	"net/http"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// A Family is one kind of check, and owns everything about it in its own
// folder (probes/<name>/): its SFBEX_* variables and the rules that derive
// its targets from the estate (config.go), its probe code and typed result,
// and how the result renders as metrics (metrics.go) and as status-page
// detail (Details). probes/all lists every family; the agent iterates that
// list and knows nothing else about them.
type Family struct {
	// Name is the family's name; its checks' `probe` label is Name or,
	// for a family with several kinds of check, one of its own.
	Name string
	// Vars is a pointer to the family's configuration struct (its fields'
	// `env` tags name its variables): the docs and the unknown-variable
	// warning read it.
	Vars any
	// Checks reads the family's configuration and returns its checks for
	// the estate. A family with nothing to check returns none and no error.
	Checks func(env *Env) ([]*Check, error)
}

// Env is what a family configures itself from.
type Env struct {
	// Vars looks up SFBEX_* variables (config.Load reads a struct from it).
	Vars config.Source
	// Estate is the deployment model: domains, modes, cloud, DNS views.
	Estate *estate.Estate
	// Web is how every HTTPS and TLS probe connects, and the schedule the
	// HTTP families share.
	Web *webclient.Settings
	// Handle serves an extra route on the agent's web server (the CMS
	// family's snapshot upload). It does nothing under `check`.
	Handle func(pattern string, h http.Handler)
}
