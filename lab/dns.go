package lab

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/loopback"
)

// dnsServer answers like a recursive resolver for two split-brain views of
// contoso.test (and the few Microsoft 365 names the faults point to), one
// view per loopback port, over UDP and TCP.
type dnsServer struct {
	lab                        *Lab
	internalAddr, externalAddr string
	servers                    []*mdns.Server
}

func startDNS(l *Lab) (*dnsServer, error) {
	s := &dnsServer{lab: l}
	var err error
	if s.internalAddr, err = s.listen(true); err != nil {
		s.close()
		return nil, err
	}
	if s.externalAddr, err = s.listen(false); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// listen serves one view on a free loopback port, UDP and TCP alike.
func (s *dnsServer) listen(internal bool) (string, error) {
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) { s.serve(w, r, internal) })
	pc, ln, err := loopback.ListenPair()
	if err != nil {
		return "", fmt.Errorf("lab DNS server: %w", err)
	}
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		s.servers = append(s.servers, srv)
	}
	return pc.LocalAddr().String(), nil
}

func (s *dnsServer) close() {
	for _, srv := range s.servers {
		_ = srv.Shutdown()
	}
}

// zone returns the records a view holds now, with the active faults applied.
func (s *dnsServer) zone(internal bool) map[string][]string {
	l := s.lab
	d := Domain
	z := map[string][]string{
		"webext." + d: {"A 127.0.1.20"},
		"mail." + d:   {"A 127.0.1.30"},
		"pool01." + d: {"A 127.0.2.10"},
		// Microsoft 365 names the faults point to, on loopback: the lab
		// never sends traffic outside this machine.
		l.onlineHost(estate.HostLyncdiscover): {"A 127.0.9.1"},
		l.onlineHost(estate.HostSIP):          {"A 127.0.9.2"},
		l.onlineHost(estate.HostSIPFed):       {"A 127.0.9.3"},
		l.onlineHost(estate.HostAutodiscover): {"A 127.0.9.4"},
	}
	if l.variant.lync() == estate.TeamsOnly {
		// Learn "decommission: manage DNS entries": the same in both views.
		z["lyncdiscover."+d] = []string{"CNAME " + l.onlineHost(estate.HostLyncdiscover) + "."}
		z["sip."+d] = []string{"CNAME " + l.onlineHost(estate.HostSIP) + "."}
		z["_sip._tls."+d] = []string{"SRV 100 1 443 " + l.onlineHost(estate.HostSIP) + "."}
		z["_sipfederationtls._tcp."+d] = []string{"SRV 100 1 5061 " + l.onlineHost(estate.HostSIPFed) + "."}
		z["autodiscover."+d] = []string{"CNAME mail." + d + "."}
		if internal {
			z["mail."+d] = []string{"A 127.0.2.30"}
		} else {
			z["_autodiscover._tcp."+d] = []string{"SRV 0 0 443 mail." + d + "."}
		}
		// The faults, in Teams-only terms: sip moved back on-premises,
		// lyncdiscover gone inside, federation left on the old Edge (the
		// usual reason a switch to TeamsOnly fails), the views disagreeing.
		if l.On("dns-drift") {
			z["sip."+d] = []string{"A 127.0.1.11"}
		}
		if l.On("dns-missing") && internal {
			delete(z, "lyncdiscover."+d)
		}
		if l.On("dns-mixed") && !internal {
			z["_sipfederationtls._tcp."+d] = []string{"SRV 0 0 5061 edge01." + d + "."}
			z["edge01."+d] = []string{"A 127.0.1.10"}
		}
		if l.On("dns-split") && internal {
			z["_sipfederationtls._tcp."+d] = []string{"SRV 100 1 5061 " + estate.CloudHosts(estate.GCCHigh)[estate.HostSIPFed] + "."}
		}
		return z
	}
	if internal {
		z["lyncdiscoverinternal."+d] = []string{"CNAME pool01." + d + "."}
		z["lyncdiscover."+d] = []string{"CNAME webext." + d + "."}
		z["sip."+d] = []string{"A 127.0.2.10"}
		z["_sipinternaltls._tcp."+d] = []string{"SRV 0 0 5061 pool01." + d + "."}
		z["_sipfederationtls._tcp."+d] = []string{"SRV 0 0 5061 sip." + d + "."}
		z["autodiscover."+d] = []string{"CNAME mail." + d + "."}
		z["mail."+d] = []string{"A 127.0.2.30"}
		if l.On("dns-missing") {
			delete(z, "lyncdiscoverinternal."+d)
		}
		if l.On("dns-split") {
			z["_sipfederationtls._tcp."+d] = []string{"SRV 0 0 5061 edge-old." + d + "."}
			z["edge-old."+d] = []string{"A 127.0.1.12"}
		}
		if l.variant.exchange() == estate.Online {
			z["autodiscover."+d] = []string{"CNAME " + l.onlineHost(estate.HostAutodiscover) + "."}
		}
		return z
	}
	z["lyncdiscover."+d] = []string{"CNAME webext." + d + "."}
	z["sip."+d] = []string{"A 127.0.1.10"}
	z["_sip._tls."+d] = []string{"SRV 0 0 443 sip." + d + "."}
	z["_sipfederationtls._tcp."+d] = []string{"SRV 0 0 5061 sip." + d + "."}
	z["autodiscover."+d] = []string{"CNAME mail." + d + "."}
	z["_autodiscover._tcp."+d] = []string{"SRV 0 0 443 mail." + d + "."}
	if l.On("dns-drift") {
		z["sip."+d] = []string{"A 127.0.1.11"}
	}
	if l.On("dns-mixed") {
		z["lyncdiscover."+d] = []string{"CNAME " + l.onlineHost(estate.HostLyncdiscover) + "."}
	}
	if l.variant.exchange() == estate.Online || l.On("autodiscover-online") {
		// Mailboxes in Exchange Online: what Microsoft 365 asks for.
		z["autodiscover."+d] = []string{"CNAME " + l.onlineHost(estate.HostAutodiscover) + "."}
		if l.variant.exchange() == estate.Online {
			delete(z, "_autodiscover._tcp."+d)
		}
	}
	return z
}

func (s *dnsServer) serve(w mdns.ResponseWriter, r *mdns.Msg, internal bool) {
	m := new(mdns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = mdns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	z := s.zone(internal)
	name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
	if _, ok := z[name]; !ok {
		m.Rcode = mdns.RcodeNameError
		_ = w.WriteMsg(m)
		return
	}
	// Follow CNAMEs as a recursive resolver does.
	for hops := 0; hops < 8; hops++ {
		rrs := z[name]
		cname := ""
		for _, text := range rrs {
			rr, err := mdns.NewRR(mdns.Fqdn(name) + " 300 IN " + text)
			if err != nil {
				continue
			}
			switch {
			case rr.Header().Rrtype == mdns.TypeCNAME:
				m.Answer = append(m.Answer, rr)
				cname = strings.TrimSuffix(rr.(*mdns.CNAME).Target, ".")
			case rr.Header().Rrtype == q.Qtype:
				m.Answer = append(m.Answer, rr)
			}
		}
		if cname == "" || q.Qtype == mdns.TypeCNAME {
			break
		}
		if _, ok := z[cname]; !ok {
			break
		}
		name = cname
	}
	_ = w.WriteMsg(m)
}
