package main

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"

	"go.uber.org/zap"

	"github.com/prometheus/common/version"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/export"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/all"
)

// agentVars are the agent's own variables; the estate, the web client and
// each family declare theirs (probes/all.Variables lists them all).
type agentVars struct {
	MaxConcurrentProbes int    `env:"SFBEX_MAX_CONCURRENT_PROBES, default=16"`
	MemoryLimit         string `env:"SFBEX_MEMORY_LIMIT, default=auto"`
}

// agent is the configuration, checked: the checks every family derives
// from the estate, and what the agent itself needs to run them.
type agent struct {
	Estate        *estate.Estate
	Web           *webclient.Settings
	Checks        []*probes.Check
	Family        map[string]string // check ID -> the family that built it
	MaxConcurrent int
	// MemoryLimit is the garbage collector's soft limit (0: none);
	// MemoryLimitAuto says it was derived from the checks.
	MemoryLimit     int64
	MemoryLimitAuto bool
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
	limit, auto, err := parseMemoryLimit(v.MemoryLimit)
	if err != nil {
		return nil, err
	}
	a := &agent{Estate: est, Web: web, MaxConcurrent: v.MaxConcurrentProbes, MemoryLimit: limit, MemoryLimitAuto: auto,
		Family: map[string]string{}, Routes: map[string]http.Handler{}}
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
	// The scheduled settings export is the agent's own job on a Windows
	// server, not a family: it checks nothing the lab could simulate.
	exports, err := export.Checks(src, runtime.GOOS)
	if err != nil {
		return nil, err
	}
	a.Checks = append(a.Checks, exports...)
	if a.MemoryLimitAuto {
		a.MemoryLimit = autoMemoryLimit(a)
	}
	return a, nil
}

// configFileVar names the configuration file; kingpin reads it as the
// default of --config.file.
const configFileVar = "SFBEX_CONFIG_FILE"

// variables lists every variable the agent reads.
func variables() []string {
	return append(all.Variables(&agentVars{}, &export.Vars{}), configFileVar)
}

// configSource is where the configuration comes from: the environment,
// then the file if one is named (the environment wins, name by name, so
// that `SFBEX_X=… sfbex_exporter check` can try a change without editing
// the service's file). The lab ignores both.
func configSource(file string, useLab bool) (config.Source, map[string]string, error) {
	if file == "" || useLab {
		return config.Environ(), nil, nil
	}
	vars, err := config.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	return config.Layered(config.Environ(), config.Map(vars)), vars, nil
}

// logConfigFile says what the configuration file set, which of its
// variables the environment overrides, and which no part of the agent
// reads. Names only: values may be secrets.
func logConfigFile(log *zap.Logger, file string, vars map[string]string) {
	if file == "" {
		return
	}
	var names, overridden []string
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		names = append(names, name+"=")
		if _, ok := os.LookupEnv(name); ok {
			overridden = append(overridden, name)
		}
	}
	log.Info("configuration file read", zap.String("file", file), zap.Int("variables", len(vars)))
	if len(overridden) > 0 {
		log.Warn("the environment overrides these variables of the configuration file", zap.String("file", file), zap.Strings("variables", overridden))
	}
	for _, name := range config.Unknown(names, variables()) {
		log.Warn("unknown variable in the configuration file: no part of the agent reads it (a typo?); docs/configuration.md lists them all", zap.String("file", file), zap.String("variable", name))
	}
}
