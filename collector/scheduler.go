package collector

import (
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
type Scheduler struct {
	Store         *Store
	Checks        []*probes.Check
	MaxConcurrent int
	Log           *zap.Logger
}

// Run starts every check and blocks until ctx is cancelled and all runs in
// flight have returned.
func (s *Scheduler) Run(ctx context.Context) {
	sem := newSemaphore(s.MaxConcurrent)
	var wg sync.WaitGroup
	for _, c := range s.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, c, sem)
		}()
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, c *probes.Check, sem chan struct{}) {
	// Spread the first round over up to two seconds so readiness comes
	// quickly without every check starting in the same instant.
	first := time.Duration(rand.Int64N(int64(min(c.Interval, 2*time.Second)) + 1))
	t := time.NewTimer(first)
	defer t.Stop()
	wasFailing, findings := false, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		run, ok := runOne(ctx, c, sem)
		if !ok {
			return // shutting down
		}
		s.Store.Record(c.ID(), run)
		s.logTransition(c, run, &wasFailing, &findings)
		t.Reset(jitter(c.Interval))
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
func runOne(ctx context.Context, c *probes.Check, sem chan struct{}) (run Run, ok bool) {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return Run{}, false
	}
	defer func() { <-sem }()

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
