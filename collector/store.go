package collector

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Run is the outcome of one probe run.
type Run struct {
	Start    time.Time
	Duration time.Duration
	Result   probes.Result // nil when the run learned nothing
	Err      error
}

// Entry is everything the store knows about one check.
type Entry struct {
	Check *probes.Check
	// Runs counts completed runs; Failures those that returned an error.
	Runs, Failures uint64
	// Latest is the most recent run; zero before the first.
	Latest Run
	// LastSuccess is when a run last completed without error.
	LastSuccess time.Time
	// Shown is the result the metrics, page and report show: the latest
	// result when the run returned one, else the last one that did; nil
	// when no run has returned one.
	Shown probes.Result
	// ShownAt is when the run that returned Shown started.
	ShownAt time.Time
	// Stale is true when the latest run failed and an earlier run had
	// returned data, so some of what is shown may be older than the latest
	// run. A check that never returned data has nothing stale to show.
	Stale bool

	enc encoded // rendered and encoded when the entry changes, sent on scrape
}

// Store holds the latest and last good result of every check. Writers are
// the scheduler and the `check` command; readers are scrapes, the status
// page and the API. Metrics are rendered and encoded on write, so a scrape
// only copies bytes.
type Store struct {
	mu      sync.RWMutex
	entries map[string]*Entry
	order   []string // check IDs in registration order
	recent  []RecentRun
	render  func(*Entry, []prometheus.Metric) []prometheus.Metric

	families map[string]*family
	descs    map[*prometheus.Desc]*descInfo // learnt by encode
	// owners holds the key (seriesKey) of every series an entry renders,
	// and shared counts those more than one entry renders, so that two
	// checks rendering the same series are caught when the second result
	// arrives rather than at every scrape.
	owners        keySet
	shared        map[uint64]uint32   // owners beyond the first
	keys, oldKeys []uint64            // scratch for rerender
	ms            []prometheus.Metric // scratch for rerender
	scratch       scratch             // encode's
	duplicates    int                 // len(shared)
	lastDuplicate string              // a check that rendered one
	badEntries    int                 // entries whose rendering failed (encoded.err)
}

// RecentRun is one line of the status page's recent-runs list.
type RecentRun struct {
	ID       string        `json:"id"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

const recentRuns = 100

// NewStore returns a store for checks. The checks' IDs must be unique.
func NewStore(checks []*probes.Check) *Store {
	s := &Store{entries: map[string]*Entry{}, render: renderEntry, families: map[string]*family{}, descs: map[*prometheus.Desc]*descInfo{}, shared: map[uint64]uint32{}}
	for _, c := range checks {
		if _, dup := s.entries[c.ID()]; dup {
			panic("collector: duplicate check " + c.ID())
		}
		e := &Entry{Check: c}
		s.rerender(e)
		s.entries[c.ID()] = e
		s.order = append(s.order, c.ID())
	}
	return s
}

// Record stores the outcome of one run of check id.
func (s *Store) Record(id string, run Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return
	}
	e.Runs++
	e.Latest = run
	if run.Err != nil {
		e.Failures++
	} else {
		e.LastSuccess = run.Start.Add(run.Duration)
	}
	e.Stale = run.Err != nil && e.Shown != nil
	if run.Result != nil {
		e.Shown, e.ShownAt = run.Result, run.Start
	}
	s.rerender(e)

	r := RecentRun{ID: id, Start: run.Start, Duration: run.Duration}
	if run.Err != nil {
		r.Error = run.Err.Error()
	}
	if len(s.recent) == recentRuns {
		copy(s.recent, s.recent[1:])
		s.recent = s.recent[:recentRuns-1]
	}
	s.recent = append(s.recent, r)
}

// Entries returns copies of all entries in registration order.
func (s *Store) Entries() []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Entry, 0, len(s.order))
	for _, id := range s.order {
		e := *s.entries[id]
		e.enc = encoded{}
		out = append(out, e)
	}
	return out
}

// Recent returns the most recent runs, newest first.
func (s *Store) Recent() []RecentRun {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]RecentRun, len(s.recent))
	for i, r := range s.recent {
		out[len(s.recent)-1-i] = r
	}
	return out
}

// Ready reports whether every check has completed at least one run.
func (s *Store) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.entries {
		if e.Runs == 0 {
			return false
		}
	}
	return true
}

// rerender renders and encodes e again and keeps the duplicate-series
// accounting. The caller holds s.mu for writing (or owns s).
func (s *Store) rerender(e *Entry) {
	old := e.enc
	s.ms = s.render(e, s.ms[:0])
	e.enc, s.keys = s.scratch.encode(s.ms, s.families, s.descs, &old, s.keys[:0])
	clear(s.ms) // the scratch must not keep the result's samples alive
	if old.err != nil {
		s.badEntries--
	}
	if e.enc.err != nil {
		s.badEntries++
	}
	if e.enc.digest == old.digest {
		return // the same series as before: nothing to account
	}
	var err error
	s.oldKeys, err = keysOf(&old, s.oldKeys[:0])
	if err != nil {
		// The store's own chunks do not inflate: a bug, reported as
		// such on every scrape instead of accounting wrongly.
		e.enc = encoded{err: fmt.Errorf("reading back the previous series: %w", err)}
		s.badEntries++
		return
	}
	for _, k := range s.oldKeys {
		if n, ok := s.shared[k]; ok {
			if n == 1 {
				delete(s.shared, k)
			} else {
				s.shared[k] = n - 1
			}
			continue
		}
		s.owners.remove(k)
	}
	for _, k := range s.keys {
		if s.owners.add(k) {
			continue
		}
		s.shared[k]++
		s.lastDuplicate = e.Check.ID()
	}
	s.duplicates = len(s.shared)
}
