package main

import (
	"fmt"
	"net/http"

	"github.com/prometheus/common/version"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/all"
)

// agentVars are the agent's own variables; the estate, the web client and
// each family declare theirs (probes/all.Variables lists them all).
type agentVars struct {
	MaxConcurrentProbes int `env:"SFBEX_MAX_CONCURRENT_PROBES, default=16"`
}

// agent is the configuration, checked: the checks every family derives
// from the estate, and what the agent itself needs to run them.
type agent struct {
	Estate        *estate.Estate
	Web           *webclient.Settings
	Checks        []*probes.Check
	Family        map[string]string // check ID -> the family that built it
	MaxConcurrent int
	// Routes are the extra routes families serve (POST /api/snapshots).
	Routes map[string]http.Handler
}

// configure reads the whole configuration from src: the estate, the web
// client, then every family in probes/all. Every error names the variable,
// the bad value and a good example.
func configure(src config.Source) (*agent, error) {
	var v agentVars
	if err := config.Load(src, &v); err != nil {
		return nil, err
	}
	est, err := estate.Load(src)
	if err != nil {
		return nil, err
	}
	web, err := webclient.Load(src, "sfbex_exporter/"+version.Version)
	if err != nil {
		return nil, err
	}
	if err := config.Range("SFBEX_MAX_CONCURRENT_PROBES", v.MaxConcurrentProbes, 1, 10000, "16"); err != nil {
		return nil, err
	}
	a := &agent{Estate: est, Web: web, MaxConcurrent: v.MaxConcurrentProbes, Family: map[string]string{}, Routes: map[string]http.Handler{}}
	env := &probes.Env{Vars: src, Estate: est, Web: web, Handle: func(pattern string, h http.Handler) { a.Routes[pattern] = h }}
	for _, f := range all.Families {
		checks, err := f.Checks(env)
		if err != nil {
			return nil, err
		}
		for _, c := range checks {
			if c.Run == nil || c.Probe == "" || c.Interval <= 0 || c.Timeout <= 0 {
				return nil, fmt.Errorf("family %s built an incomplete check %q: a bug, please report it", f.Name, c.ID())
			}
			if other, dup := a.Family[c.ID()]; dup {
				return nil, fmt.Errorf("families %s and %s both built the check %q: a bug, please report it", other, f.Name, c.ID())
			}
			a.Family[c.ID()] = f.Name
		}
		a.Checks = append(a.Checks, checks...)
	}
	return a, nil
}

// variables lists every variable the agent reads.
func variables() []string { return all.Variables(&agentVars{}) }
