package web

import (
	"strings"
	"testing"
)

func TestReportCountsOneCheckInTheSingular(t *testing.T) {
	var b strings.Builder
	WriteReport(&b, []CheckView{{Probe: "dns", Target: "contoso.com", State: "ok"}}, false)
	if !strings.Contains(b.String(), "\n1 check, 0 failed: 1 ok\n") {
		t.Errorf("report %q, want 1 check, 0 failed: 1 ok", b.String())
	}
}
