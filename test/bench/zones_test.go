package bench

import (
	"fmt"
	"strings"
)

// Domains of the benchmarks: contoso0001.test, contoso0002.test, ... all in
// one zone "test" on bind9, the way one server would carry many small
// zones' records (a zone per domain changes nothing for the agent).
func domainName(i int) string { return fmt.Sprintf("contoso%04d.test", i+1) }

func domainNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = domainName(i)
	}
	return out
}

// view selects the records a zone carries.
type view int

const (
	// externalView: what clients outside see (no internal records).
	externalView view = iota
	// internalView: the split-brain inside view, every record of an
	// on-premises deployment present (lyncdiscoverinternal, _sipinternaltls).
	internalView
)

// addr is a loopback address for domain i and host h: the records are only
// data (the DNS probe never connects to them), but if anything ever did,
// it would stay on this machine.
func addr(i, h int) string { return fmt.Sprintf("127.%d.%d.%d", 1+i/250, i%250, h) }

// testZone returns the zone "test" holding the on-premises Skype/Exchange
// records of n domains. With onlineEvery > 0, every onlineEvery-th domain's
// external lyncdiscover points to Microsoft 365 (a mixed deployment: the
// agent renders findings for it), which needs onlineZone on the same server.
func testZone(n int, v view, onlineEvery int) string {
	var b strings.Builder
	b.WriteString(`$TTL 300
$ORIGIN test.
@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
@ IN NS ns.test.
ns IN A 127.0.0.1
`)
	for i := 0; i < n; i++ {
		d := strings.TrimSuffix(domainName(i), ".test")
		sipAddr := addr(i, 10)
		if v == internalView {
			sipAddr = addr(i, 11)
		}
		lync := "webext." + d
		if v == externalView && onlineEvery > 0 && i%onlineEvery == onlineEvery-1 {
			lync = "webdir.online.lync.com."
		}
		fmt.Fprintf(&b, `lyncdiscover.%[1]s IN CNAME %[2]s
webext.%[1]s IN A %[3]s
sip.%[1]s IN A %[4]s
_sip._tls.%[1]s IN SRV 0 0 443 sip.%[1]s
_sipfederationtls._tcp.%[1]s IN SRV 0 0 5061 sip.%[1]s
autodiscover.%[1]s IN CNAME mail.%[1]s
mail.%[1]s IN A %[5]s
`, d, lync, addr(i, 20), sipAddr, addr(i, 30))
		if v == internalView {
			fmt.Fprintf(&b, `lyncdiscoverinternal.%[1]s IN CNAME pool01.%[1]s
pool01.%[1]s IN A %[2]s
_sipinternaltls._tcp.%[1]s IN SRV 0 0 5061 pool01.%[1]s
`, d, addr(i, 40))
		}
	}
	return b.String()
}

// onlineZone stands in for Microsoft 365's webdir host.
const onlineZone = `$TTL 300
$ORIGIN online.lync.com.
@ IN SOA ns.online.lync.com. hostmaster.online.lync.com. 1 3600 600 86400 300
@ IN NS ns.online.lync.com.
ns IN A 127.0.0.1
webdir IN A 127.0.5.1
`

// benchRecords are the 7 records per domain of the DNS and idle benchmarks:
// every record of a SIP and email domain but _autodiscover._tcp
// (SFBEX_DNS_SKIP_RECORDS=_autodiscover._tcp), with the query type the
// agent uses for each.
var benchRecords = []struct{ Name, Type string }{
	{"lyncdiscoverinternal", "A"},
	{"lyncdiscover", "A"},
	{"_sipinternaltls._tcp", "SRV"},
	{"_sip._tls", "SRV"},
	{"sip", "A"},
	{"_sipfederationtls._tcp", "SRV"},
	{"autodiscover", "A"},
}

const skipRecord = "_autodiscover._tcp"
