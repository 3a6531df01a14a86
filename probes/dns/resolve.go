package dns

import (
	"context"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// Resolve looks name up through one resolver, the way the DNS probe does:
// UDP with a TCP retry on truncation, CNAMEs followed, SRV targets
// resolved. qtype is mdns.TypeA or mdns.TypeSRV. Other probe families use
// it to find what clients find (the autodiscover SRV record, the Edge's
// SRV targets and ports).
func Resolve(ctx context.Context, res estate.Resolver, name string, qtype uint16, queryTimeout time.Duration) Answer {
	if queryTimeout <= 0 {
		queryTimeout = 2 * time.Second
	}
	rec := Record{Name: name, FQDN: mdns.Fqdn(name), Type: qtype}
	c := newClient(res, queryTimeout)
	defer c.close()
	return c.lookup(ctx, rec)
}
