package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The soft memory limit (SFBEX_MEMORY_LIMIT) tells Go's garbage collector
// how much memory the agent may use: below it the collector runs as
// GOGC=100 lets it (the heap grows to twice what is live), near it the
// collector runs more often instead. Most of the agent's heap lives as
// long as the agent (the series and results it keeps), so twice the live
// heap is mostly room it never needs (docs/performance.md, issue 17).

// Memory the limit derives from the estate ("auto"): a base for the
// runtime, and each check's share with room for the garbage made between
// two collections. A DNS check (one domain) keeps ~1 KiB per record and
// resolver (measured: ~15.5 KiB of live heap for 8 records through 2
// resolvers at 10,000 domains, docs/performance.md); counted here as 8
// records, the most a domain has, at 1.25 KiB, so that a large estate's
// collector has ~40 % of its live heap to fill before it runs. Other
// checks are few and their results larger (certificates, directory
// tallies, snapshots): 1 MiB each. Never below 16 MiB.
const (
	autoLimitBase          = 12 << 20
	autoLimitMin           = 16 << 20
	autoLimitPerDNSCheck   = 2 << 10
	autoLimitPerDNSLookup  = 1280
	autoLimitDNSRecordsMax = 8
	autoLimitPerOtherCheck = 1 << 20
)

// autoMemoryLimit is the default limit for an agent's checks.
func autoMemoryLimit(a *agent) int64 {
	limit := int64(autoLimitBase)
	dns := int64(autoLimitPerDNSCheck + autoLimitDNSRecordsMax*autoLimitPerDNSLookup*max(1, len(a.Estate.Resolvers)))
	for _, c := range a.Checks {
		if a.Family[c.ID()] == "dns" {
			limit += dns
		} else {
			limit += autoLimitPerOtherCheck
		}
	}
	return max(limit, autoLimitMin)
}

// parseMemoryLimit reads SFBEX_MEMORY_LIMIT: "auto", "off", or a size in
// bytes with an optional unit (KiB, MiB, GiB; KB, MB, GB). auto is true
// for "auto"; a limit of 0 means none.
func parseMemoryLimit(s string) (limit int64, auto bool, err error) {
	v := strings.TrimSpace(s)
	switch strings.ToLower(v) {
	case "auto":
		return 0, true, nil
	case "off", "0":
		return 0, false, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, perr := strconv.ParseFloat(v, 64)
	if perr != nil || n <= 0 || n*float64(mult) > 1<<50 {
		return 0, false, fmt.Errorf("SFBEX_MEMORY_LIMIT=%q is not auto, off or a size such as 256MiB; e.g. SFBEX_MEMORY_LIMIT=256MiB", s)
	}
	limit = int64(n * float64(mult))
	if limit < 16<<20 {
		return 0, false, fmt.Errorf("SFBEX_MEMORY_LIMIT=%q is below 16MiB, where the agent would spend its time collecting garbage; e.g. SFBEX_MEMORY_LIMIT=256MiB", s)
	}
	return limit, false, nil
}
