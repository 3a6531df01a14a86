package estate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

// N replicas from one configuration, each with its own SFBEX_SHARD, watch
// every domain exactly once: no overlap and no gap, and a domain that is
// both SIP and email keeps both roles on its one shard.
func TestShardsPartitionTheEstate(t *testing.T) {
	t.Parallel()
	var sip, email []string
	for i := range 1000 {
		sip = append(sip, fmt.Sprintf("contoso%04d.com", i))
		if i%3 == 0 {
			email = append(email, fmt.Sprintf("contoso%04d.com", i))
		} else if i%3 == 1 {
			email = append(email, fmt.Sprintf("mail%04d.fabrikam.com", i))
		}
	}
	base := map[string]string{
		"SFBEX_SIP_DOMAINS":   strings.Join(sip, ","),
		"SFBEX_EMAIL_DOMAINS": strings.Join(email, ","),
		"SFBEX_DNS_RESOLVERS": "ext=127.0.0.1",
	}
	whole, err := Load(config.Map(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 4, 7} {
		seenSIP, seenEmail := map[string]int{}, map[string]int{}
		for i := range n {
			vars := map[string]string{"SFBEX_SHARD": fmt.Sprintf("%d/%d", i, n)}
			for k, v := range base {
				vars[k] = v
			}
			e, err := Load(config.Map(vars))
			if err != nil {
				t.Fatalf("shard %d/%d: %v", i, n, err)
			}
			if n > 1 && (len(e.SIPDomains) < len(sip)/n/2 || len(e.SIPDomains) > 2*len(sip)/n) {
				t.Errorf("shard %d/%d holds %d of %d SIP domains: the hash does not spread them", i, n, len(e.SIPDomains), len(sip))
			}
			for _, d := range e.SIPDomains {
				seenSIP[d]++
				if whole.IsEmail(d) != e.IsEmail(d) {
					t.Errorf("shard %d/%d: %s lost its email role", i, n, d)
				}
			}
			for _, d := range e.EmailDomains {
				seenEmail[d]++
			}
		}
		check := func(kind string, want []string, seen map[string]int) {
			for _, d := range want {
				if seen[d] != 1 {
					t.Errorf("%d shards: %s domain %s watched %d times", n, kind, d, seen[d])
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%d shards: %d %s domains watched, the estate has %d", n, len(seen), kind, len(want))
			}
		}
		check("SIP", whole.SIPDomains, seenSIP)
		check("email", whole.EmailDomains, seenEmail)
	}
}

// The same domain lands on the same shard whatever its case or list order.
func TestShardStable(t *testing.T) {
	t.Parallel()
	s := Shard{Index: 1, Count: 4}
	for _, d := range []string{"contoso.com", "fabrikam.com", "a.b.example.org"} {
		if s.Owns(d) != s.Owns(strings.ToUpper(d)) || s.Owns(d) != s.Owns(d+".") {
			t.Errorf("%s: case or a trailing dot moves it", d)
		}
	}
	a := s.keep([]string{"x1.com", "x2.com", "x3.com", "x4.com", "x5.com", "x6.com"})
	b := s.keep([]string{"x6.com", "x5.com", "x4.com", "x3.com", "x2.com", "x1.com"})
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("order changes the share: %v vs %v", a, b)
	}
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Shard{"": {0, 1}, "0/1": {0, 1}, " 3/4 ": {3, 4}, "0/16": {0, 16}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"4/4", "-1/4", "1", "a/b", "1/0", "0/2000", "1/4/5"} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), "SFBEX_SHARD=0/4") {
			t.Errorf("ParseShard(%q): error %v", in, err)
		}
	}
}
