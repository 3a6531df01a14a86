package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// maxCNAMEHops bounds CNAME chains; real ones have two or three links.
const maxCNAMEHops = 8

// client asks one resolver, over UDP with a TCP retry on truncation.
type client struct {
	res          estate.Resolver
	tcp          *mdns.Client
	queryTimeout time.Duration
	// cache holds A lookups within one probe run, so a name that is both a
	// record and an SRV target (sip.<domain>) is resolved once.
	cache map[string]Answer
	// unreachable is set when a query got no answer after its retry: the
	// rest of the run's queries to this resolver fail at once instead of
	// each waiting out its timeout.
	unreachable bool
	// conn is the run's one UDP socket to the resolver: a socket per query
	// was a third of a lookup's CPU (issue 17). A late reply to an earlier
	// query is told apart by its ID (skipped) and its question.
	conn net.Conn
	// buf packs queries and receives answers: the run's, from a free list
	// (miekg/dns allocated 1.2 KB per answer read, the largest share of
	// what a DNS run allocated).
	buf *[udpBufSize]byte
}

// udpBufSize holds any UDP answer to the EDNS size asked (1232), and more.
const udpBufSize = 4096

var udpBufs = make(chan *[udpBufSize]byte, 64)

// close releases the run's socket and buffer.
func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
	if c.buf != nil {
		select {
		case udpBufs <- c.buf:
		default:
		}
		c.buf = nil
	}
}

func newClient(res estate.Resolver, queryTimeout time.Duration) *client {
	return &client{
		res:          res,
		tcp:          &mdns.Client{Net: "tcp"},
		queryTimeout: queryTimeout,
		cache:        map[string]Answer{},
	}
}

// exchange sends one query. A UDP timeout is retried once while the run's
// deadline allows; a truncated UDP answer is retried over TCP.
func (c *client) exchange(ctx context.Context, name string, qtype uint16) (resp *mdns.Msg, usedTCP bool, err error) {
	if c.unreachable {
		return nil, false, errUnreachable
	}
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)

	for attempt := 0; attempt < 2; attempt++ {
		resp, err = c.oneUDP(ctx, m)
		if err == nil || !isTimeout(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil && isTimeout(err) && ctx.Err() == nil {
		c.unreachable = true
	}
	if err == nil && resp.Truncated {
		usedTCP = true
		resp, err = c.one(ctx, c.tcp, m)
	}
	if err != nil {
		return nil, usedTCP, err
	}
	if len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, name) || resp.Question[0].Qtype != qtype {
		return nil, usedTCP, fmt.Errorf("the answer does not match the question %s %s", name, mdns.TypeToString[qtype])
	}
	return resp, usedTCP, nil
}

// oneUDP sends m on the run's UDP socket, dialled on first use and again
// after an error other than a timeout (the socket may be broken), and
// reads until the answer with m's ID arrives or the query's time is up.
func (c *client) oneUDP(ctx context.Context, m *mdns.Msg) (*mdns.Msg, error) {
	deadline := time.Now().Add(c.queryTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if c.buf == nil {
		select {
		case c.buf = <-udpBufs:
		default:
			c.buf = new([udpBufSize]byte)
		}
	}
	if c.conn == nil {
		qctx, cancel := context.WithDeadline(ctx, deadline)
		conn, err := (&net.Dialer{}).DialContext(qctx, "udp", c.res.Addr)
		cancel()
		if err != nil {
			return nil, err
		}
		c.conn = conn
	}
	resp, err := c.exchangeUDP(m, deadline)
	if err != nil && !isTimeout(err) {
		c.close()
	}
	return resp, err
}

func (c *client) exchangeUDP(m *mdns.Msg, deadline time.Time) (*mdns.Msg, error) {
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	out, err := m.PackBuffer(c.buf[:])
	if err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(out); err != nil {
		return nil, err
	}
	for {
		n, err := c.conn.Read(c.buf[:])
		if err != nil {
			return nil, err
		}
		// As miekg/dns does: what does not decode is an error that says
		// why; a message with another ID is a late answer to an earlier
		// query, skipped.
		resp := new(mdns.Msg)
		if err := resp.Unpack(c.buf[:n]); err != nil {
			return nil, err
		}
		if resp.Id == m.Id {
			return resp, nil
		}
	}
}

func (c *client) one(ctx context.Context, cl *mdns.Client, m *mdns.Msg) (*mdns.Msg, error) {
	qctx, cancel := context.WithTimeout(ctx, c.queryTimeout)
	defer cancel()
	resp, _, err := cl.ExchangeContext(qctx, m, c.res.Addr)
	return resp, err
}

// errUnreachable marks queries skipped because the resolver did not answer
// an earlier one in the same run.
var errUnreachable = errors.New("skipped: the resolver did not answer an earlier query in this run")

func isTimeout(err error) bool {
	if errors.Is(err, errUnreachable) {
		return true
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// failed turns a transport error into a non-definitive answer.
func (c *client) failed(name string, err error) Answer {
	if isTimeout(err) {
		return Answer{Outcome: Timeout, Detail: fmt.Sprintf("resolver %s gave no answer for %s in time", c.res, normHost(name))}
	}
	return Answer{Outcome: Error, Detail: fmt.Sprintf("asking resolver %s for %s: %v", c.res, normHost(name), err)}
}

// rcodeOutcome maps a response code; ok is false when the code is not an answer.
func (c *client) rcodeOutcome(name string, resp *mdns.Msg) (Answer, bool) {
	switch resp.Rcode {
	case mdns.RcodeSuccess:
		return Answer{}, true
	case mdns.RcodeNameError:
		return Answer{Outcome: NXDomain}, true
	case mdns.RcodeServerFailure:
		return Answer{Outcome: ServFail, Detail: fmt.Sprintf("resolver %s could not resolve %s (SERVFAIL)", c.res, normHost(name))}, false
	case mdns.RcodeRefused:
		return Answer{Outcome: Refused, Detail: fmt.Sprintf("resolver %s refused to answer for %s (REFUSED)", c.res, normHost(name))}, false
	default:
		return Answer{Outcome: Error, Detail: fmt.Sprintf("resolver %s answered %s for %s", c.res, mdns.RcodeToString[resp.Rcode], normHost(name))}, false
	}
}

// lookup asks for rec and returns the answer, following CNAMEs and SRV targets.
func (c *client) lookup(ctx context.Context, rec Record) Answer {
	if rec.Type != mdns.TypeSRV {
		return c.cachedA(ctx, rec.FQDN)
	}
	start := time.Now()
	a := c.lookupSRV(ctx, rec.FQDN)
	a.Duration = time.Since(start)
	a.At = start
	return a
}

// lookupA resolves name to its final IPv4 addresses, following the CNAME
// chain (asking again for the chain's end when the resolver did not).
func (c *client) lookupA(ctx context.Context, name string) Answer {
	var out Answer
	cur := name
	for hop := 0; hop <= maxCNAMEHops; hop++ {
		resp, tcp, err := c.exchange(ctx, cur, mdns.TypeA)
		out.TCP = out.TCP || tcp
		if err != nil {
			f := c.failed(cur, err)
			f.CNAMEs, f.TCP = out.CNAMEs, out.TCP
			return f
		}
		rc, ok := c.rcodeOutcome(cur, resp)
		if !ok {
			rc.CNAMEs, rc.TCP = out.CNAMEs, out.TCP
			return rc
		}
		// Walk the chain the answer section gives, then collect addresses.
		before := len(out.CNAMEs)
		for {
			next := ""
			for _, rr := range resp.Answer {
				if cn, ok := rr.(*mdns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, cur) {
					next = cn.Target
					break
				}
			}
			if next == "" {
				break
			}
			if len(out.CNAMEs) >= maxCNAMEHops {
				return Answer{Outcome: Error, CNAMEs: out.CNAMEs, TCP: out.TCP, Detail: fmt.Sprintf("CNAME chain from %s is longer than %d links", normHost(name), maxCNAMEHops)}
			}
			out.CNAMEs = append(out.CNAMEs, normHost(next))
			cur = next
		}
		if rc.Outcome == NXDomain {
			if len(out.CNAMEs) == 0 {
				return Answer{Outcome: NXDomain, TCP: out.TCP}
			}
			// NXDOMAIN speaks of the chain's end (RFC 6604), whether a
			// recursive resolver sent the chain with it or we followed it:
			// the record exists but its CNAME points nowhere.
			out.Outcome = NoError
			out.Detail = fmt.Sprintf("CNAME target %s does not exist", normHost(cur))
			return out
		}
		for _, rr := range resp.Answer {
			if a, ok := rr.(*mdns.A); ok && strings.EqualFold(a.Hdr.Name, cur) {
				ip := a.A.String()
				if !slices.Contains(out.Addresses, ip) {
					out.Addresses = append(out.Addresses, ip)
				}
			}
		}
		switch {
		case len(out.Addresses) > 0:
			sortAddresses(out.Addresses)
			out.Outcome = NoError
			return out
		case len(out.CNAMEs) == 0:
			return Answer{Outcome: NoData, TCP: out.TCP}
		case len(out.CNAMEs) == before:
			// We asked for the chain's end and it has no address.
			out.Outcome = NoError
			out.Detail = fmt.Sprintf("CNAME target %s has no A record", normHost(cur))
			return out
		}
		// The resolver stopped at a CNAME (an authoritative server for
		// another zone does): ask for the chain's end ourselves.
	}
	return Answer{Outcome: Error, CNAMEs: out.CNAMEs, Detail: fmt.Sprintf("CNAME chain from %s is longer than %d links", normHost(name), maxCNAMEHops)}
}

// cachedA is lookupA, once per name and run.
func (c *client) cachedA(ctx context.Context, name string) Answer {
	key := normHost(name)
	if a, ok := c.cache[key]; ok {
		return a
	}
	start := time.Now()
	a := c.lookupA(ctx, name)
	// A name looked up again in the same run reports the first lookup's
	// duration, not the cache's.
	a.Duration, a.At = time.Since(start), start
	c.cache[key] = a
	return a
}

// lookupSRV fetches the service records of name and resolves each target.
func (c *client) lookupSRV(ctx context.Context, name string) Answer {
	resp, tcp, err := c.exchange(ctx, name, mdns.TypeSRV)
	if err != nil {
		return c.failed(name, err)
	}
	if rc, ok := c.rcodeOutcome(name, resp); rc.Outcome != "" || !ok {
		rc.TCP = tcp
		return rc
	}
	out := Answer{TCP: tcp}
	for _, rr := range resp.Answer {
		switch r := rr.(type) {
		case *mdns.SRV:
			out.SRVs = append(out.SRVs, SRV{Priority: r.Priority, Weight: r.Weight, Port: r.Port, Target: normHost(r.Target)})
		case *mdns.CNAME:
			if strings.EqualFold(r.Hdr.Name, name) {
				out.CNAMEs = append(out.CNAMEs, normHost(r.Target))
			}
		}
	}
	if len(out.SRVs) == 0 {
		if len(out.CNAMEs) > 0 {
			out.Outcome = NoError
			out.Detail = "the name is a CNAME with no service records behind it"
			return out
		}
		return Answer{Outcome: NoData, TCP: tcp}
	}
	sortSRVs(out.SRVs)
	out.Outcome = NoError
	var dangling []string
	for i := range out.SRVs {
		t := out.SRVs[i].Target
		if t == "" { // "." means: the service is decidedly not available here
			continue
		}
		ta := c.cachedA(ctx, mdns.Fqdn(t))
		if !ta.Outcome.Definitive() {
			// Without the target we cannot tell what clients get: the whole
			// answer is not definitive, so it cannot count as drift.
			return Answer{Outcome: ta.Outcome, TCP: out.TCP, Detail: "resolving SRV target: " + ta.Detail}
		}
		out.SRVs[i].Addresses = ta.Addresses
		if len(ta.Addresses) == 0 {
			dangling = append(dangling, t)
		}
	}
	if len(dangling) > 0 {
		out.Detail = "SRV target " + strings.Join(dangling, ", ") + " does not resolve to an address"
	}
	return out
}
