package probes

import (
	"context"
	"time"
)

// A Check is one probe against one target, run on its own interval.
type Check struct {
	// Probe names the family ("dns", "autodiscover", ...); it is the `probe` label.
	Probe string
	// Target names what is probed (a domain, a URL, a host:port); it is the `target` label.
	Target string
	// Interval between runs; the scheduler adds up to 10% jitter.
	Interval time.Duration
	// Timeout is the deadline of one run.
	Timeout time.Duration
	// Run performs the probe. It returns what it learned and an error saying
	// what failed; see package probes for the contract.
	Run func(ctx context.Context) (Result, error)
}

// ID identifies a check in the store, the API and logs.
func (c *Check) ID() string { return c.Probe + "/" + c.Target }
