package dns

import (
	"strings"
	"testing"
)

func TestOneChangeIsSingular(t *testing.T) {
	r := &Result{Records: []RecordResult{{Record: "sip", Type: "A", FQDN: "sip.contoso.com", Resolver: "external", Latest: &Answer{Outcome: NXDomain}, Changes: 1}}}
	d := strings.Join(r.Details(), "\n")
	if !strings.Contains(d, "[changed 1 time]") {
		t.Errorf("details %q, want [changed 1 time]", d)
	}
	r.Records[0].Changes = 2
	if d := strings.Join(r.Details(), "\n"); !strings.Contains(d, "[changed 2 times]") {
		t.Errorf("details %q, want [changed 2 times]", d)
	}
}
