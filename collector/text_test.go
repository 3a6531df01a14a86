package collector

import (
	"bytes"
	"math"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

var (
	textDescA = prometheus.NewDesc("sfbex_test_a", "A \\ help\nwith a newline.", []string{"zone", "alpha", "mid"}, prometheus.Labels{"beta": "const \"b\""})
	textDescB = prometheus.NewDesc("sfbex_test_b_total", "Counted.", []string{"x"}, nil)
	textDescC = prometheus.NewDesc("sfbex_test_c", "No labels.", nil, nil)
)

func textSamples() []prometheus.Metric {
	var ms []prometheus.Metric
	vals := []float64{1, 0, -1, math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 1e-7, 123456789012, -2.5e300, 3}
	for i, v := range vals {
		zone := []string{"z", "a", "é", `q"uote`, "back\\slash", "new\nline", "", "a", "m", "zz", "0"}[i]
		ms = append(ms, probes.Gauge(textDescA, v, zone, string(rune('k'-i)), "m"))
	}
	ms = append(ms, probes.Counter(textDescB, 7, "b"), probes.Counter(textDescB, 2, "a"), probes.Gauge(textDescC, 0.5))
	return ms
}

func inflated(t *testing.T, enc encoded) string {
	t.Helper()
	var chunks []*zchunk
	for i := range enc.chunks {
		chunks = append(chunks, &enc.chunks[i].zchunk)
	}
	var b bytes.Buffer
	if err := inflateTo(&b, chunks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Series written without a registry are the registry's, byte for byte:
// family and series order, label order, escaping, values.
func TestTextMatchesTheRegistry(t *testing.T) {
	fams, descs := map[string]*family{}, map[*prometheus.Desc]*descInfo{}
	slow, _ := encode(textSamples(), fams, descs, nil, nil)
	if slow.err != nil {
		t.Fatal(slow.err)
	}
	if _, ok := fastGroups(textSamples(), descs, nil); !ok {
		t.Fatal("after a first rendering, the same series do not take the way without a registry")
	}
	fast, _ := encode(textSamples(), fams, descs, nil, nil)
	if a, b := inflated(t, slow), inflated(t, fast); a != b {
		t.Fatalf("registry:\n%s\nwithout:\n%s", a, b)
	}
	if slow.digest != fast.digest {
		t.Error("the series keys differ")
	}
}

// What the registry refuses still fails, with its error.
func TestTextLeavesErrorsToTheRegistry(t *testing.T) {
	fams, descs := map[string]*family{}, map[*prometheus.Desc]*descInfo{}
	if enc, _ := encode(textSamples(), fams, descs, nil, nil); enc.err != nil {
		t.Fatal(enc.err)
	}
	for name, ms := range map[string][]prometheus.Metric{
		"duplicate":     append(textSamples(), probes.Counter(textDescB, 1, "a")),
		"label count":   append(textSamples(), probes.Counter(textDescB, 1, "a", "extra")),
		"invalid UTF-8": append(textSamples(), probes.Counter(textDescB, 1, "\xff")),
		"type differs":  append(textSamples(), probes.Gauge(textDescB, 1, "c")),
		"unknown desc":  append(textSamples(), probes.Gauge(prometheus.NewDesc("sfbex_test_b_total", "Other help.", []string{"x"}, nil), 1, "d")),
	} {
		if enc, _ := encode(ms, fams, descs, nil, nil); enc.err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A compressor outlives garbage collections: with the soft memory limit
// they run often, and making one again allocates ~1 MB each time.
func TestCompressorsSurviveGC(t *testing.T) {
	text := bytes.Repeat([]byte(`sfbex_dns_record_present{domain="contoso.test",record="sip",resolver="internal",type="A"} 1`+"\n"), 20)
	compress(text)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	compress(text)
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("compressing after two collections allocated %d KiB, want a reused compressor", n>>10)
	}
}
