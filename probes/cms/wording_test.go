package cms

import (
	"strings"
	"testing"
	"time"
)

func TestAuthCertificateWithOneDayLeftIsSingular(t *testing.T) {
	d := &ExchangeData{
		AuthConfig:       List[AuthConfig]{{CurrentCertificateThumbprint: "AA"}},
		AuthCertificates: List[Certificate]{{Thumbprint: "AA", NotAfter: Time{Time: testNow.Add(36 * time.Hour)}}},
	}
	for _, c := range exchangeChecks("exchange-ex01.contoso.com", d, hybridOnPrem, testNow, 60) {
		if c.Check == "auth_next_certificate_staged" {
			if !strings.Contains(c.Problem, "expires in 1 day (") {
				t.Fatalf("problem %q, want expires in 1 day", c.Problem)
			}
			return
		}
	}
	t.Fatal("no auth_next_certificate_staged check")
}
