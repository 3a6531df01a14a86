// Package directorybench measures the directory scan (issue 5) on 100,000
// AD-like users in a real OpenLDAP slapd: the agent's scan wall time as a
// ratio of `ldapsearch -E pr=1000/noprompt` fetching the same attributes
// with the same filter from the same server in the same run, and the peak
// RSS of the agent process. Targets: ≤ 1.3× and ≤ 64 MiB.
//
// The one command (docs/performance.md, section Directory, has its figures):
//
//	SFBEX_BENCH=1 go test -run TestDirectoryBench -v -timeout 20m ./test/bench/directory
//
// Without SFBEX_BENCH=1 the test skips, so the ordinary `go test ./...`
// stays fast. SFBEX_BENCH_RUNS (or -args -bench.runs=N) sets the number of
// alternating runs (default 5), SFBEX_BENCH_USERS (or -bench.users) the
// directory size (default 100000). -bench.cpuprofile=FILE also scans once
// in-process (after the timed runs) and writes a CPU profile of that scan.
package directorybench
