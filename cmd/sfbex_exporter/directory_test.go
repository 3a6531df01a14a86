package main

import "testing"

func TestDirectoryLabFaultFailsCheck(t *testing.T) {
	if code := run([]string{"check", "--lab", "--lab.fault=directory-sip-stripped", "--log.level=error"}); code != 1 {
		t.Errorf("check with directory-sip-stripped = %d, want 1", code)
	}
}
