package main

import "testing"

func TestCheckWithEachCMSLabFaultExitsNonZero(t *testing.T) {
	for _, f := range []string{"cms-replica-stale", "cms-snapshot-stale", "hosting-provider-wrong", "hosting-provider-wrong-cloud", "sfb-oauth-roll-missing", "teams-provider-wrong", "federation-disabled",
		"oauth-autodiscover-xml", "partner-app-missing", "owa-im-disabled", "next-cert-not-staged"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}
