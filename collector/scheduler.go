package collector

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Scheduler runs every check on its own interval, with jitter, a deadline
// per run and at most MaxConcurrent runs at once, and records each outcome
// in the store. Scrapes never wait for it.
//
// One goroutine keeps the checks in a heap by their next run and hands
// each due check to one of MaxConcurrent workers; a check is scheduled
// again when its run ends, so it never runs twice at once. Goroutines
// stay MaxConcurrent+1 whatever the number of checks (a goroutine per
// check cost 8 KiB of stack each: 80 MiB at 10,000 domains).
type Scheduler struct {
	Store         *Store
	Checks        []*probes.Check
	MaxConcurrent int
	Log           *zap.Logger
}

// due is a check and when it runs next.
type due struct {
	at time.Time
	i  int // index in Checks
}

type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Run starts every check and blocks until ctx is cancelled and all runs in
// flight have returned.
func (s *Scheduler) Run(ctx context.Context) {
	workers := max(s.MaxConcurrent, 1)
	work := make(chan int)
	back := make(chan due, workers) // a worker sends one before taking another
	type transition struct {
		wasFailing bool
		findings   int
	}
	states := make([]transition, len(s.Checks))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := s.Checks[i]
				run, ok := runOne(ctx, c, nil)
				if !ok {
					continue // shutting down
				}
				s.Store.Record(c.ID(), run)
				s.logTransition(c, run, &states[i].wasFailing, &states[i].findings)
				select {
				case back <- due{at: time.Now().Add(jitter(c.Interval)), i: i}:
				case <-ctx.Done():
				}
			}
		}()
	}

	// Spread the first round over up to two seconds so readiness comes
	// quickly without every check starting in the same instant.
	now := time.Now()
	h := make(dueHeap, 0, len(s.Checks))
	for i, c := range s.Checks {
		h = append(h, due{at: now.Add(time.Duration(rand.Int64N(int64(min(c.Interval, 2*time.Second)) + 1))), i: i})
	}
	heap.Init(&h)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	defer wg.Wait()
	defer close(work)
	for {
		var wait <-chan time.Time
		if len(h) > 0 {
			t.Reset(time.Until(h[0].at))
			wait = t.C
		}
		select {
		case <-ctx.Done():
			return
		case d := <-back:
			heap.Push(&h, d)
			continue
		case <-wait:
		}
		for len(h) > 0 && !h[0].at.After(time.Now()) {
			d := heap.Pop(&h).(due)
			for sent := false; !sent; {
				select {
				case work <- d.i:
					sent = true
				case b := <-back:
					heap.Push(&h, b)
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// logTransition logs when a check starts or stops failing, and when its
// number of findings changes, rather than every run.
func (s *Scheduler) logTransition(c *probes.Check, run Run, wasFailing *bool, findings *int) {
	if s.Log == nil {
		return
	}
	if run.Result != nil {
		// Only counts: findings may name users (directory samples), and
		// those belong on the status page, not in logs.
		if n := len(run.Result.Findings()); n != *findings {
			s.Log.Info("check findings changed", zap.String("check", c.ID()), zap.Int("findings", n), zap.Int("before", *findings))
			*findings = n
		}
	}
	failing := run.Err != nil
	switch {
	case failing && !*wasFailing:
		s.Log.Warn("check failing", zap.String("check", c.ID()), zap.Error(run.Err))
	case !failing && *wasFailing:
		s.Log.Info("check recovered", zap.String("check", c.ID()))
	default:
		s.Log.Debug("check ran", zap.String("check", c.ID()), zap.Duration("duration", run.Duration), zap.Bool("failing", failing))
	}
	*wasFailing = failing
}

// jitter returns d plus or minus up to 10%.
func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 10
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}

// RunOnce runs every check once, at most maxConcurrent at a time, records
// the outcomes in store and returns when all are done.
func RunOnce(ctx context.Context, store *Store, checks []*probes.Check, maxConcurrent int) {
	sem := newSemaphore(maxConcurrent)
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if run, ok := runOne(ctx, c, sem); ok {
				store.Record(c.ID(), run)
			}
		}()
	}
	wg.Wait()
}

func newSemaphore(n int) chan struct{} {
	if n < 1 {
		n = 1
	}
	return make(chan struct{}, n)
}

// runOne runs c once under its deadline. ok is false when ctx ended before
// or during the run, so that a shutdown is not recorded as a failure.
// sem, when not nil, bounds the runs at once.
func runOne(ctx context.Context, c *probes.Check, sem chan struct{}) (run Run, ok bool) {
	if sem != nil {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return Run{}, false
		}
		defer func() { <-sem }()
	}

	rctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	start := time.Now()
	res, err := protect(rctx, c)
	run = Run{Start: start, Duration: time.Since(start), Result: res, Err: err}
	if ctx.Err() != nil {
		return run, false
	}
	if err == nil && rctx.Err() != nil {
		// The probe ignored its deadline and claimed success; do not believe it.
		run.Err = probes.WithFix(fmt.Errorf("run exceeded its %s deadline", c.Timeout),
			"Raise the family's timeout setting, or find out why the target answers so slowly.")
	}
	return run, true
}

// protect runs the check, turning a panic into an error so that one broken
// probe cannot take the agent down.
func protect(ctx context.Context, c *probes.Check) (res probes.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res = nil
			err = probes.WithFix(fmt.Errorf("probe panicked: %v\n%s", p, debug.Stack()),
				"This is a bug in sfbex_exporter; please report it with this message.")
		}
	}()
	return c.Run(ctx)
}
