package directory

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/probes"
)

// ntlmChallenge is a minimal NTLM CHALLENGE message (MS-NLMP 2.2.1.2):
// Unicode, NTLM, extended session security, an empty target info.
func ntlmChallenge() []byte {
	var b bytes.Buffer
	b.Write(ntlmSignature)
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	le(uint32(2))
	le([]uint16{0, 0}) // target name: empty
	le(uint32(48))
	le(uint32(0x00000001 | 0x00000200 | 0x00080000 | 0x00800000))
	b.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8}) // server challenge
	b.Write(make([]byte, 8))
	le([]uint16{4, 4}) // target info: MsvAvEOL only
	le(uint32(48))
	b.Write([]byte{0, 0, 0, 0})
	return b.Bytes()
}

// authenticateNames reads the domain and user of an AUTHENTICATE message.
func authenticateNames(m []byte) (domain, user string, ok bool) {
	if len(m) < 44 || !bytes.HasPrefix(m, ntlmSignature) || binary.LittleEndian.Uint32(m[8:]) != 3 {
		return "", "", false
	}
	field := func(off int) string {
		n, at := int(binary.LittleEndian.Uint16(m[off:])), int(binary.LittleEndian.Uint32(m[off+4:]))
		if at+n > len(m) {
			return ""
		}
		u := make([]uint16, n/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(m[at+2*i:])
		}
		return string(utf16.Decode(u))
	}
	return field(28), field(36), true
}

// ntlmServer is an in-process LDAP server for one connection: it shows a
// root DSE with mechs and caps, runs the NTLM exchange the client picks
// (SASL NTLM, GSS-SPNEGO or Sicily), answers the final bind with
// finalCode/finalDiag (or, for a simple bind, at once), and a search with
// one user.
type ntlmServer struct {
	mechs, caps []string
	finalCode   uint16
	finalDiag   string

	mu     sync.Mutex
	method string // what the client used: "NTLM", "GSS-SPNEGO", "Sicily", "simple"
	domain string
	user   string
}

func (s *ntlmServer) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for {
			p, err := ber.ReadPacket(c)
			if err != nil || len(p.Children) < 2 {
				return
			}
			id := p.Children[0].Value.(int64)
			op := p.Children[1]
			switch op.Tag {
			case ldap.ApplicationSearchRequest:
				if str(op.Children[0]) == "" {
					_, _ = c.Write(entryMsg(id, "", attrVals{attrSASLMechs, s.mechs}, attrVals{attrCapabilities, s.caps}))
				} else {
					_, _ = c.Write(user1(id, "alice"))
				}
				_, _ = c.Write(resultMsg(id, ldap.ApplicationSearchResultDone, 0, ""))
			case ldap.ApplicationBindRequest:
				_, _ = c.Write(s.bind(id, op.Children[2]))
			default:
				return
			}
		}
	}()
	return ln.Addr().String()
}

func str(p *ber.Packet) string {
	if b, ok := p.Value.([]byte); ok {
		return string(b)
	}
	s, _ := p.Value.(string)
	if s == "" && p.Data != nil {
		s = p.Data.String()
	}
	return s
}

func bindResponse(id int64, code uint16, matched, diag string, creds []byte) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindResponse, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, matched, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	if creds != nil {
		op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, string(creds), ""))
	}
	return envelopeMsg(id, op)
}

func (s *ntlmServer) bind(id int64, auth *ber.Packet) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	token := auth.Data.Bytes()
	switch {
	case auth.ClassType == ber.ClassContext && auth.Tag == 0:
		s.method = "simple"
		return bindResponse(id, s.finalCode, "", s.finalDiag, nil)
	case auth.ClassType == ber.ClassContext && auth.Tag == authSASL:
		s.method = str(auth.Children[0])
		token = auth.Children[1].Data.Bytes()
	case auth.ClassType == ber.ClassContext && (auth.Tag == authSicilyNegotiate || auth.Tag == authSicilyResponse):
		s.method = "Sicily"
	default:
		return bindResponse(id, ldap.LDAPResultAuthMethodNotSupported, "", "unknown choice", nil)
	}
	if bytes.HasPrefix(token, ntlmSignature) && binary.LittleEndian.Uint32(token[8:]) == 1 {
		if s.method == "Sicily" {
			return bindResponse(id, 0, string(ntlmChallenge()), "", nil)
		}
		return bindResponse(id, ldap.LDAPResultSaslBindInProgress, "", "", ntlmChallenge())
	}
	var ok bool
	if s.domain, s.user, ok = authenticateNames(token); !ok {
		return bindResponse(id, ldap.LDAPResultProtocolError, "", "not an AUTHENTICATE message", nil)
	}
	return bindResponse(id, s.finalCode, "", s.finalDiag, nil)
}

func fakeScan(t *testing.T, addr string, ntlm bool, bindDN string) error {
	t.Helper()
	p, err := NewProber(Config{URL: "ldap://" + addr, NTLM: ntlm, BindDN: bindDN, Password: "pw-123456", BaseDN: "DC=contoso,DC=com", SIPDomains: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Probe(ctx)
	return err
}

const adCap = "1.2.840.113556.1.4.800"

func TestChooseNTLM(t *testing.T) {
	for _, c := range []struct {
		mechs, caps []string
		want        ntlmMethod
	}{
		{[]string{"GSS-SPNEGO", "GSSAPI", "NTLM"}, []string{adCap}, ntlmSASL},                     // Samba AD DC
		{[]string{"GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"}, []string{adCap}, ntlmSicily}, // Windows DC
		{[]string{"DIGEST-MD5", "ntlm"}, nil, ntlmSASL},                                           // OpenLDAP + Cyrus
		{[]string{"GSS-SPNEGO"}, nil, ntlmSPNEGO},
		{[]string{"DIGEST-MD5", "SCRAM-SHA-256"}, nil, 0},
		{nil, nil, 0},
	} {
		if got := chooseNTLM(c.mechs, c.caps); got != c.want {
			t.Errorf("%v / %v: %v, want %v", c.mechs, c.caps, got, c.want)
		}
	}
}

// The client runs the exchange the server offers, end to end, and sends
// the domain and user it was given.
func TestNTLMBindOverEachMethod(t *testing.T) {
	for _, c := range []struct {
		name        string
		mechs, caps []string
		want        string
	}{
		{"Samba", []string{"GSS-SPNEGO", "GSSAPI", "NTLM"}, []string{adCap}, "NTLM"},
		{"Windows", []string{"GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"}, []string{adCap}, "Sicily"},
		{"SPNEGO only", []string{"GSS-SPNEGO"}, nil, "GSS-SPNEGO"},
	} {
		s := &ntlmServer{mechs: c.mechs, caps: c.caps}
		if err := fakeScan(t, s.start(t), true, `CONTOSO\svc-sfbex`); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		s.mu.Lock()
		if s.method != c.want || s.domain != "CONTOSO" || s.user != "svc-sfbex" {
			t.Errorf("%s: bound with %q as %q\\%q, want %s as CONTOSO\\svc-sfbex", c.name, s.method, s.domain, s.user, c.want)
		}
		s.mu.Unlock()
	}
}

// AD's and Samba's refusals, each with the advice for its cause.
func TestBindRefusalHints(t *testing.T) {
	samba := []string{"GSS-SPNEGO", "GSSAPI", "NTLM"}
	for _, c := range []struct {
		name   string
		ntlm   bool
		bindDN string
		code   uint16
		diag   string
		inFix  string
	}{
		{"52e", false, "svc@contoso.com", 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563", "wrong password"},
		{"532", false, "svc@contoso.com", 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 532, v4563", "password expired"},
		{"533", true, `CONTOSO\svc`, 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563", "account disabled"},
		{"701", false, "svc@contoso.com", 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 701, v4563", "account expired"},
		{"773", false, "svc@contoso.com", 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 773, v4563", "must be changed"},
		{"775", true, `CONTOSO\svc`, 49, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563", "locked out"},
		{"AD signing, simple bind", false, "svc@contoso.com", 8, "00002028: LdapErr: DSID-0C090256, comment: The server requires binds to turn on integrity checking if SSL\\TLS are not already active on the connection, data 0, v3839", "StartTLS"},
		{"Samba strong auth, NTLM", true, `CONTOSO\svc`, 8, "SASL:[NTLM]: Sign or Seal are required.", "ldap server require strong auth"},
		{"mechanism too weak", true, `CONTOSO\svc`, 48, "SASL(-15): mechanism too weak for this user", "StartTLS"},
		{"method not supported", false, "svc@contoso.com", 7, "", "SFBEX_LDAP_AUTH"},
	} {
		s := &ntlmServer{mechs: samba, caps: []string{adCap}, finalCode: c.code, finalDiag: c.diag}
		err := fakeScan(t, s.start(t), c.ntlm, c.bindDN)
		if err == nil || !strings.Contains(probes.FixOf(err), c.inFix) || strings.Contains(err.Error(), "closed the connection") {
			t.Errorf("%s: %v\nfix: %s", c.name, err, probes.FixOf(err))
		}
	}
}

// A root DSE that shows nothing: the agent tries SASL NTLM and says why.
func TestNTLMWithHiddenRootDSE(t *testing.T) {
	s := &ntlmServer{finalCode: ldap.LDAPResultAuthMethodNotSupported, finalDiag: "SASL mechanism not supported"}
	err := fakeScan(t, s.start(t), true, `CONTOSO\svc`)
	if err == nil || !strings.Contains(err.Error(), "root DSE lists no SASL mechanisms") || !strings.Contains(probes.FixOf(err), "SFBEX_LDAP_AUTH") {
		t.Errorf("%v / %s", err, probes.FixOf(err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.method != "NTLM" {
		t.Errorf("tried %q, want SASL NTLM", s.method)
	}
}

// A bind DN without a password is not sent as an unauthenticated bind,
// which some servers accept without checking anything.
func TestBindDNWithoutPassword(t *testing.T) {
	for _, ntlm := range []bool{false, true} {
		p, err := NewProber(Config{URL: "ldap://127.0.0.1:1", NTLM: ntlm, BindDN: "svc@contoso.com", BaseDN: "DC=contoso,DC=com"})
		if err != nil {
			t.Fatal(err)
		}
		s := &ntlmServer{mechs: []string{"NTLM"}}
		p.addr = s.start(t)
		_, err = p.Probe(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no password") || !strings.Contains(probes.FixOf(err), "SFBEX_LDAP_PASSWORD") {
			t.Errorf("NTLM %v: %v", ntlm, err)
		}
		s.mu.Lock()
		if s.method != "" {
			t.Errorf("NTLM %v: the client sent a %s bind", ntlm, s.method)
		}
		s.mu.Unlock()
	}
}
