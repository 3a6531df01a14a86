package sip

import (
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// request builds the OPTIONS sent to t over a connection from local, and
// returns it with its Call-ID. The Request-URI names the server itself, as
// a keep-alive between servers does, so no user is involved.
func (p *Prober) request(t Target, local net.Addr) (string, string) {
	lhost, lport := "127.0.0.1", 0
	if ta, ok := local.(*net.TCPAddr); ok {
		lhost, lport = ta.IP.String(), ta.Port
	}
	uri := sip.Uri{Scheme: "sip", Host: t.Host, Port: t.Port, UriParams: sip.NewParams()}
	uri.UriParams.Add("transport", "tls")
	req := sip.NewRequest(sip.OPTIONS, uri)

	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "TLS", Host: lhost, Port: lport, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	user, domain, _ := strings.Cut(p.cfg.Settings.From, "@")
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: t.Host, Port: t.Port}})
	callID := sip.CallIDHeader(sip.GenerateTagN(24) + "@sfbex")
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	contact := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: lhost, Port: lport, UriParams: sip.NewParams()}}
	contact.Address.UriParams.Add("transport", "tls")
	req.AppendHeader(contact)
	if ua := p.cfg.Web.UserAgent; ua != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", ua))
	}
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	req.SetBody(nil)
	return req.String(), string(callID)
}
