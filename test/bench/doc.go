// Package bench measures the agent against baselines run in the same
// invocation (issue 8, design §7): the /metrics render cost with 1,000
// domains against promhttp encoding the same series from a plain registry,
// one DNS cycle of 500 domains × 7 records against Debian's
// prometheus-blackbox-exporter doing the same queries on a local bind9, and
// the idle footprint of an agent watching 10 domains.
//
// The one command (docs/performance.md shows its output):
//
//	bash test/bench/run.sh                 # everything, median of 3 runs, 5 min idle
//	bash test/bench/run.sh -runs 5 -idle 1m
//
// The measurements only run with SFBEX_BENCH=1 (run.sh sets it), so the
// ordinary `go test ./...` stays fast: there this package only runs its
// quick self-checks (the baseline registry renders byte for byte what the
// agent renders; the generated blackbox_exporter configuration is valid).
//
// The Go benchmarks of the scrape work with the usual flags too, e.g. for a
// CPU profile:
//
//	go test -run '^$' -bench 'Scrape/agent' -cpuprofile /tmp/cpu.out ./test/bench/
package bench
