// Package sipbench measures what one SIP check costs the agent next to the
// TLS check it extends: both against the same real SIP-over-TLS server
// (Kamailio, a separate process, so that only the agent's side is
// measured), one target, a fresh connection and full handshake each run.
// The SIP check adds the OPTIONS, reading and parsing the answer with
// sipgo, and its findings.
//
//	go test -run '^$' -bench . -benchmem ./test/bench/sip/         # the Go benchmarks
//	SFBEX_BENCH=1 go test -run TestSIPCost -v ./test/bench/sip/    # the table of docs/performance.md
//
// cpu-ns/op is the process's user and system CPU time per check (getrusage),
// which counts the TLS and GC work on every goroutine; ns/op is wall time.
package sipbench

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/sip"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }

const host = "sip.contoso.test"

// peer starts Kamailio with a lab-CA certificate for host and returns the
// port it listens on and the options that reach and trust it.
func peer(tb testing.TB) (int, *webclient.Options) {
	tb.Helper()
	infra.Require(tb, "kamailio")
	ca, err := lab.NewCA()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ca.Issue(lab.CertSpec{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host}})
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		tb.Fatal(err)
	}
	var chain []byte
	for _, d := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		tb.Fatal(err)
	}
	k := infra.StartKamailio(tb, infra.KamailioOptions{CertFile: certFile, KeyFile: keyFile})
	_, p, _ := strings.Cut(k.Addr, ":")
	port, _ := strconv.Atoi(p)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return port, &webclient.Options{RootCAs: pool, ConnectTo: map[string]string{host + ":" + p: k.Addr}}
}

// checks returns the TLS check and the SIP check of the same target.
func checks(tb testing.TB, port int, web *webclient.Options) (tlsRun, sipRun func(context.Context) (probes.Result, error)) {
	tb.Helper()
	tp, err := certs.NewTLSProber(certs.TLSConfig{Web: web, Endpoints: []certs.Endpoint{{Host: host, Port: port, Origins: []certs.Origin{{Service: "configured"}}, Names: []string{host}}}})
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := sip.NewProber(sip.Config{Service: sip.Configured, Web: web, Targets: []sip.Target{{Host: host, Port: port}},
		Settings: &sip.Settings{RequestTimeout: 5 * time.Second, MaxAnswerBytes: 65536, From: "sfbex-probe@contoso.test", Accept: []int{200}}})
	if err != nil {
		tb.Fatal(err)
	}
	return tp.Probe, sp.Probe
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func bench(b *testing.B, run func(context.Context) (probes.Result, error), ok func(probes.Result) bool) {
	ctx := context.Background()
	if r, err := run(ctx); err != nil || !ok(r) { // warm up, and make sure it measures a success
		b.Fatalf("check fails: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpu()
	for b.Loop() {
		if _, err := run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
}

func tlsOK(r probes.Result) bool {
	res, ok := r.(*certs.TLSResult)
	return ok && len(res.Endpoints) == 1 && res.Endpoints[0].Up && res.Endpoints[0].Verify.OK
}

func sipOK(r probes.Result) bool {
	res, ok := r.(*sip.Result)
	return ok && len(res.Targets) == 1 && res.Targets[0].Outcome == sip.Answered && res.Targets[0].Answer.Status == 200
}

func BenchmarkCheck(b *testing.B) {
	port, web := peer(b)
	tlsRun, sipRun := checks(b, port, web)
	b.Run("tls", func(b *testing.B) { bench(b, tlsRun, tlsOK) })
	b.Run("sip", func(b *testing.B) { bench(b, sipRun, sipOK) })
}

// TestSIPCost runs both benchmarks alternately, several times, and prints
// the medians and the SIP check's cost as a ratio of the TLS check's.
func TestSIPCost(t *testing.T) {
	if os.Getenv("SFBEX_BENCH") != "1" {
		t.Skip("measurements run with SFBEX_BENCH=1")
	}
	port, web := peer(t)
	tlsRun, sipRun := checks(t, port, web)
	type fig struct{ wall, cpu, bytes, allocs []float64 }
	var tf, sf fig
	measure := func(f *fig, run func(context.Context) (probes.Result, error), ok func(probes.Result) bool) {
		r := testing.Benchmark(func(b *testing.B) { bench(b, run, ok) })
		if r.N == 0 {
			t.Fatal("the benchmark failed: run it with go test -bench to see why")
		}
		f.wall = append(f.wall, float64(r.NsPerOp()))
		f.cpu = append(f.cpu, r.Extra["cpu-ns/op"])
		f.bytes = append(f.bytes, float64(r.AllocedBytesPerOp()))
		f.allocs = append(f.allocs, float64(r.AllocsPerOp()))
	}
	for range 5 {
		measure(&tf, tlsRun, tlsOK)
		measure(&sf, sipRun, sipOK)
	}
	med := func(xs []float64) float64 {
		s := slices.Sorted(slices.Values(xs))
		return s[len(s)/2]
	}
	var b strings.Builder
	fmt.Fprintln(&b, "| one check, one target | TLS check | SIP check | SIP / TLS |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|")
	row := func(what string, tv, sv float64, f func(float64) string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f× |\n", what, f(tv), f(sv), sv/tv)
	}
	ms := func(ns float64) string { return fmt.Sprintf("%.2f ms", ns/1e6) }
	row("wall time", med(tf.wall), med(sf.wall), ms)
	row("CPU time (user+system)", med(tf.cpu), med(sf.cpu), ms)
	row("bytes allocated", med(tf.bytes), med(sf.bytes), func(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) })
	row("allocations", med(tf.allocs), med(sf.allocs), func(v float64) string { return fmt.Sprintf("%.0f", v) })
	fmt.Print("\n" + b.String())
}
