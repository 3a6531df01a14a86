package collector

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
)

// The set agrees with a map through adds and removes, including keys that
// crowd into one stretch of slots and the key 0.
func TestKeySetAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s keySet
	m := map[uint64]bool{}
	pool := []uint64{0, zeroKey ^ 1}
	for range 3000 {
		pool = append(pool, rng.Uint64())
	}
	for step := range 200000 {
		k := pool[rng.IntN(len(pool))]
		if rng.IntN(3) == 0 {
			s.remove(k)
			delete(m, k)
		} else if added := s.add(k); added == m[k] {
			t.Fatalf("step %d: add(%x) = %v with the key present: %v", step, k, added, m[k])
		} else {
			m[k] = true
		}
		if s.n != len(m) {
			t.Fatalf("step %d: %d keys, want %d", step, s.n, len(m))
		}
	}
	for _, k := range pool {
		if s.contains(k) != m[k] {
			t.Fatalf("contains(%x) = %v, want %v", k, s.contains(k), m[k])
		}
	}
}

// What the store keeps per series stays small (issue 17): the compressed
// text, the duplicate accounting and each entry's share (67 bytes a series
// here, with 40 series of long values per check). Per-entry key lists and
// a map of keys made it 90.
func TestStoreBytesPerSeries(t *testing.T) {
	var checks []*probes.Check
	for i := range 2000 {
		checks = append(checks, &probes.Check{Probe: "fake", Target: "t" + string(rune('a'+i%26)) + itoa(i), Interval: time.Minute, Timeout: time.Second})
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := NewStore(checks)
	for _, c := range checks {
		s.Record(c.ID(), Run{Result: manyResult{target: c.Target}})
		s.Record(c.ID(), Run{Result: manyResult{target: c.Target}})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	series := len(checks) * (40 + 15)
	perSeries := float64(after.HeapAlloc-before.HeapAlloc) / float64(series)
	t.Logf("%.1f bytes a series (%d series)", perSeries, series)
	if perSeries > 75 {
		t.Errorf("the store keeps %.1f bytes a series, want at most 75", perSeries)
	}
	runtime.KeepAlive(s)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// A check whose series change from run to run (read back from its chunks
// when the set changes) leaves the accounting exact: every series counted
// once, no duplicate reported.
func TestAccountingFollowsChangingSeries(t *testing.T) {
	a := &probes.Check{Probe: "fake", Target: "a", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "fake", Target: "b", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{a, b})
	for i := range 20 {
		var r probes.Result = manyResult{target: "a"}
		if i%3 == 1 {
			r = &fakeResult{}
		}
		s.Record(a.ID(), Run{Result: r})
		s.Record(b.ID(), Run{Result: manyResult{target: "b"}})
	}
	if s.duplicates != 0 || s.badEntries != 0 {
		t.Fatalf("%d duplicates, %d bad entries", s.duplicates, s.badEntries)
	}
	var want []uint64
	for _, e := range s.entries {
		var err error
		if want, err = keysOf(&e.enc, want); err != nil {
			t.Fatal(err)
		}
	}
	if s.owners.n != len(want) {
		t.Fatalf("%d series accounted, the entries render %d", s.owners.n, len(want))
	}
	for _, k := range want {
		if !s.owners.contains(k) {
			t.Fatalf("series %x not accounted", k)
		}
	}
}

// A family whose text did not change since the check's previous result
// keeps its compressed chunk (no compression again); one that changed
// (sfbex_probe_runs_total counts up) gets a new one.
func TestUnchangedFamiliesKeepTheirChunks(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "c", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{c})
	s.Record(c.ID(), Run{Result: manyResult{target: "c"}})
	before := map[string]*byte{}
	for _, ch := range s.entries[c.ID()].enc.chunks {
		before[ch.fam.name] = &ch.z[0]
	}
	s.Record(c.ID(), Run{Result: manyResult{target: "c"}})
	for _, ch := range s.entries[c.ID()].enc.chunks {
		same := before[ch.fam.name] == &ch.z[0]
		switch ch.fam.name {
		case "sfbex_fake_many", "sfbex_probe_interval_seconds":
			if !same {
				t.Errorf("%s: compressed again, its text did not change", ch.fam.name)
			}
		case "sfbex_probe_runs_total":
			if same {
				t.Errorf("%s: the old chunk kept, its text changed", ch.fam.name)
			}
		}
	}
	if _, body := scrape(t, Handler(s, nil), false); !strings.Contains(body, `sfbex_probe_runs_total{probe="fake",target="c"} 2`) {
		t.Errorf("the scrape shows the old count:\n%s", body)
	}
}
