package main

import (
	"testing"
)

// The lab answers on loopback only, so these run the real command end to end.

func TestCheckOnHealthyLabExitsZero(t *testing.T) {
	clearEnv(t)
	if code := run([]string{"check", "--lab", "--log.level=error"}); code != 0 {
		t.Fatalf("check --lab exited %d on a healthy lab", code)
	}
}

func TestCheckWithEachLabFaultExitsNonZero(t *testing.T) {
	for _, f := range []string{"dns-drift", "dns-missing", "dns-mixed", "dns-split"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"check"},                              // nothing configured
		{"check", "--lab.fault=dns-drift"},     // fault without --lab
		{"check", "--lab", "--lab.fault=nope"}, // unknown fault: cannot start the lab
		{"--no-such-flag"},
	} {
		if code := run(args); code == 0 {
			t.Errorf("run(%v) exited 0", args)
		}
	}
}
