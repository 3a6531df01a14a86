package dns

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// Outcome tells how a lookup ended. Only NoError, NXDomain and NoData are
// answers about the record; the others say the resolver could not tell.
type Outcome string

const (
	NoError  Outcome = "noerror"  // the name has the record (or a CNAME to follow)
	NXDomain Outcome = "nxdomain" // the name does not exist
	NoData   Outcome = "nodata"   // the name exists but has no record of this type
	ServFail Outcome = "servfail" // the resolver failed to resolve the name
	Refused  Outcome = "refused"  // the resolver refused to answer
	Timeout  Outcome = "timeout"  // no answer in time
	Error    Outcome = "error"    // network error, malformed or mismatched answer, other rcode
)

// Outcomes lists every outcome, for documentation and tests.
var Outcomes = []Outcome{NoError, NXDomain, NoData, ServFail, Refused, Timeout, Error}

// Definitive reports whether the outcome says something about the record.
// Drift is counted, and expectations are judged, only on definitive answers.
func (o Outcome) Definitive() bool { return o == NoError || o == NXDomain || o == NoData }

// SRV is one service record with its target's addresses.
type SRV struct {
	Priority  uint16   `json:"priority"`
	Weight    uint16   `json:"weight"`
	Port      uint16   `json:"port"`
	Target    string   `json:"target"`
	Addresses []string `json:"addresses"`
}

// Answer is what one resolver said about one record.
type Answer struct {
	Outcome Outcome `json:"outcome"`
	// Detail explains a non-definitive outcome, or a dangling CNAME/SRV target.
	Detail string `json:"detail,omitempty"`
	// CNAMEs is the chain followed from the record's name, in order.
	CNAMEs []string `json:"cnames,omitempty"`
	// Addresses are the final IPv4 addresses of an A lookup, sorted.
	Addresses []string `json:"addresses,omitempty"`
	// SRVs are the service records, sorted, with resolved targets.
	SRVs []SRV `json:"srv,omitempty"`
	// TCP is true when a truncated UDP answer was retried over TCP.
	TCP      bool          `json:"tcp,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	At       time.Time     `json:"at"`
}

// Present reports whether the record exists.
func (a *Answer) Present() bool { return a.Outcome == NoError }

// AddressCount is the number of addresses a client ends up with: the A
// record's final addresses, or the SRV targets' addresses.
func (a *Answer) AddressCount() int {
	n := len(a.Addresses)
	for _, s := range a.SRVs {
		n += len(s.Addresses)
	}
	return n
}

// Values lists the answer in the normalised forms expectations use:
// "cname:<host>" for each CNAME in the chain, "a:<addr>" for each address,
// and both "srv:<prio> <weight> <port> <target>" and "srv:<port> <target>"
// for each service record. Hosts are lower case without the trailing dot.
func (a *Answer) Values() []string {
	var out []string
	for _, c := range a.CNAMEs {
		out = append(out, "cname:"+c)
	}
	for _, ip := range a.Addresses {
		out = append(out, "a:"+ip)
	}
	for _, s := range a.SRVs {
		out = append(out, fmt.Sprintf("srv:%d %d %d %s", s.Priority, s.Weight, s.Port, s.Target),
			fmt.Sprintf("srv:%d %s", s.Port, s.Target))
	}
	return out
}

// Summary is the answer in one short line for people.
func (a *Answer) Summary() string {
	switch a.Outcome {
	case NoError:
	case NXDomain:
		return "does not exist (NXDOMAIN)"
	case NoData:
		return "no record of this type (NODATA)"
	default:
		return string(a.Outcome) + ": " + a.Detail
	}
	var parts []string
	for _, c := range a.CNAMEs {
		parts = append(parts, "CNAME "+c)
	}
	if len(a.Addresses) > 0 {
		parts = append(parts, "A "+strings.Join(a.Addresses, " "))
	}
	for _, s := range a.SRVs {
		parts = append(parts, fmt.Sprintf("SRV %d %d %d %s", s.Priority, s.Weight, s.Port, s.Target))
	}
	if len(parts) == 0 {
		return "exists, with no usable data"
	}
	return strings.Join(parts, ", ")
}

// fingerprintMask keeps 52 bits, so the value is an exact float64.
const fingerprintMask = 1<<52 - 1

// Fingerprint is a stable 52-bit hash of what the record itself says: its
// CNAME target when it is an alias (the addresses behind an alias belong to
// the alias's owner, and Microsoft 365's rotate), else its addresses, or its
// service records. It ignores TTLs, answer order and SRV target addresses
// (their own A records are checked as records). An absent record's
// fingerprint is 0.
func (a *Answer) Fingerprint() uint64 {
	if a.Outcome != NoError {
		return 0
	}
	h := fnv.New64a()
	switch {
	case len(a.CNAMEs) > 0:
		h.Write([]byte("cname:" + a.CNAMEs[0] + "\n"))
	default:
		for _, ip := range a.Addresses { // sorted at lookup
			h.Write([]byte("a:" + ip + "\n"))
		}
	}
	for _, s := range a.SRVs { // sorted at lookup
		fmt.Fprintf(h, "srv:%d %d %d %s\n", s.Priority, s.Weight, s.Port, s.Target)
	}
	return h.Sum64() & fingerprintMask
}

// Side tells which side of the deployment the answer points to: "online"
// when any CNAME or SRV target is a Microsoft 365 host, "onprem" otherwise,
// "" when the record is absent.
func (a *Answer) Side() string {
	if a.Outcome != NoError {
		return ""
	}
	for _, c := range a.CNAMEs {
		if estate.IsOnlineHost(c) {
			return "online"
		}
	}
	for _, s := range a.SRVs {
		if estate.IsOnlineHost(s.Target) {
			return "online"
		}
	}
	return "onprem"
}

// normHost lower-cases a host name and drops the trailing dot.
func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

func sortAddresses(addrs []string) {
	sort.Slice(addrs, func(i, j int) bool {
		a, errA := netip.ParseAddr(addrs[i])
		b, errB := netip.ParseAddr(addrs[j])
		if errA != nil || errB != nil {
			return addrs[i] < addrs[j]
		}
		return a.Less(b)
	})
}

func sortSRVs(s []SRV) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Priority != s[j].Priority {
			return s[i].Priority < s[j].Priority
		}
		if s[i].Weight != s[j].Weight {
			return s[i].Weight > s[j].Weight
		}
		if s[i].Port != s[j].Port {
			return s[i].Port < s[j].Port
		}
		return s[i].Target < s[j].Target
	})
}
