package directory

import (
	"strings"
	"testing"
)

// Counts of one read as English: "1 user has", not "1 users have".
func TestOneIsSingularInFindingsAndDetails(t *testing.T) {
	r := &Result{Server: "ldap://dc01.contoso.com", BaseDN: "DC=contoso,DC=com", IncludeDisabled: true, MinCoverage: 0.95, Entries: 1, Pages: 1,
		Domains: []DomainStats{{Domain: "contoso.com", Users: 1, WithSIPProxy: 1, Invalid: 1, Mismatch: 1, Duplicates: 1, AccountDisabled: 1}}}
	var text []string
	for _, f := range r.computeFindings() {
		text = append(text, f.Problem)
	}
	text = append(text, r.Details()...)
	all := strings.Join(text, "\n")
	for _, want := range []string{"1 user has a msRTCSIP-PrimaryUserAddress", "1 user has a primary SMTP address", "1 SIP address is held",
		"1 disabled account is still", "1 entry in 1 page in", "1 SIP-enabled user,", "1 duplicate address,", "1 disabled account\n"} {
		if !strings.Contains(all+"\n", want) {
			t.Errorf("no %q in:\n%s", want, all)
		}
	}
	for _, bad := range []string{"1 users", "1 entries", "1 pages", "1 SIP addresses", "1 disabled accounts", "1 duplicate addresses"} {
		if strings.Contains(all, bad) {
			t.Errorf("%q in:\n%s", bad, all)
		}
	}
}
