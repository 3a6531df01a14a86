package lab

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The directory part of the lab (probes/directory): a small LDAPv3 server
// for DC=contoso,DC=test on 127.0.0.1 that answers what the agent sends —
// simple bind, paged subtree searches with and/or/not/equality/present/
// substrings filters and AD's bit-and rule, unbind. It speaks plain
// ldap:// only (no StartTLS): the lab's Env sets SFBEX_LDAP_STARTTLS=false.
// The slapd integration tests cover StartTLS and ldaps.
//
// The users are generated deterministically (LabUsers), so tests know the
// exact figures.

// Directory constants.
const (
	DirectoryBaseDN = "DC=contoso,DC=test"
	DirectoryBindDN = "CN=svc-sfbex,OU=Service Accounts,DC=contoso,DC=test"
)

// DirectoryUsers is the number of user objects the lab directory holds.
const DirectoryUsers = 500

// DirEntry is one directory object: a DN and its attributes (names as AD
// spells them).
type DirEntry struct {
	DN    string
	Attrs map[string][]string
}

// LabUsers generates the lab's users for fault state stripped
// (directory-sip-stripped). Per 500 users:
//   - i%50 == 7: no SIP: proxy address (10)
//   - i%50 == 13: no mail (10)
//   - i%100 == 21: mail and primary SMTP differ from the SIP address (5)
//   - 43 holds the SIP address of 42 (1 duplicate address)
//   - 99: msRTCSIP-PrimaryUserAddress without "sip:" (1 invalid)
//   - i%125 == 3: disabled accounts (4), excluded by the default filter
//   - 490..492: SIP domain fabrikam.example (3, label "other")
//   - 495..499: not SIP-enabled (5), outside the default filter
//
// With stripped, every user with i%5 == 0 loses its SIP: proxy address too.
func LabUsers(n int, stripped bool) []DirEntry {
	out := make([]DirEntry, 0, n)
	for i := range n {
		name := fmt.Sprintf("user%04d", i)
		domain := Domain
		if i >= 490 && i < 493 {
			domain = "fabrikam.example"
		}
		addr := name + "@" + domain
		sip := "sip:" + addr
		smtp := addr
		switch {
		case i == 43:
			sip = "sip:user0042@" + domain
		case i == 99:
			sip = addr
		}
		if i%100 == 21 {
			smtp = "u" + strconv.Itoa(i) + ".mail@" + domain
		}
		attrs := map[string][]string{
			"objectClass":        {"top", "person", "organizationalPerson", "user"},
			"cn":                 {name},
			"sAMAccountName":     {name},
			"userPrincipalName":  {addr},
			"userAccountControl": {"512"},
		}
		if i%125 == 3 {
			attrs["userAccountControl"] = []string{"514"}
		}
		proxies := []string{"SMTP:" + smtp, "smtp:" + name + "@mail." + domain}
		if i < 495 {
			attrs["msRTCSIP-PrimaryUserAddress"] = []string{sip}
			attrs["msRTCSIP-UserEnabled"] = []string{"TRUE"}
			if i%50 != 7 && !(stripped && i%5 == 0) {
				// As Lync writes it: upper-case prefix, the SIP address.
				proxies = append(proxies, "SIP:"+strings.TrimPrefix(sip, "sip:"))
			}
		}
		attrs["proxyAddresses"] = proxies
		if i%50 != 13 {
			attrs["mail"] = []string{smtp}
		}
		out = append(out, DirEntry{DN: "CN=" + name + ",OU=Users,OU=Contoso," + DirectoryBaseDN, Attrs: attrs})
	}
	return out
}

// ldapServer is the lab's directory.
type ldapServer struct {
	lab      *Lab
	ln       net.Listener
	password string
	pwFile   string
	addr     string

	mu    sync.Mutex
	conns map[net.Conn]bool
	users map[bool][]DirEntry // by stripped
}

func (l *Lab) startDirectory(dir string) error {
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	s := &ldapServer{lab: l, password: base64.RawURLEncoding.EncodeToString(pw), conns: map[net.Conn]bool{},
		users: map[bool][]DirEntry{false: LabUsers(DirectoryUsers, false), true: LabUsers(DirectoryUsers, true)}}
	s.pwFile = filepath.Join(dir, "ldap-password")
	if err := os.WriteFile(s.pwFile, []byte(s.password+"\n"), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.ln, s.addr = ln, ln.Addr().String()
	l.ldap = s
	// The agent asks for dc01 on the standard port, as it would a real DC:
	// the directory check's target label stays the same whatever port the
	// lab got.
	l.route(DirectoryHost+":389", s.addr)
	go s.serve()
	l.closers = append(l.closers, s.close)
	// directory-down drops the connections in flight, as a dying DC does.
	l.onChange(func() {
		if l.On("directory-down") {
			s.dropAll()
		}
	})
	return nil
}

func (s *ldapServer) close() {
	s.ln.Close()
	s.dropAll()
}

func (s *ldapServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *ldapServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		if s.lab.On("directory-down") {
			c.Close()
			continue
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		go s.handle(c)
	}
}

// maxRequestBytes bounds one LDAP request; the agent's are a few hundred bytes.
const maxRequestBytes = 64 << 10

func (s *ldapServer) handle(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	bound := false
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		p, err := ber.ReadPacket(io.LimitReader(br, maxRequestBytes))
		if err != nil || len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		var controls []ldap.Control
		if len(p.Children) > 2 {
			for _, cp := range p.Children[2].Children {
				if ctl, err := ldap.DecodeControl(cp); err == nil {
					controls = append(controls, ctl)
				}
			}
		}
		switch op.Tag {
		case ldap.ApplicationBindRequest:
			bound = s.bind(w, id, op)
		case ldap.ApplicationUnbindRequest:
			return
		case ldap.ApplicationSearchRequest:
			if !bound {
				s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultOperationsError, "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection.", nil)
			} else {
				s.search(w, id, op, controls)
			}
		case ldap.ApplicationExtendedRequest:
			s.done(w, id, ldap.ApplicationExtendedResponse, ldap.LDAPResultUnavailable, "the lab directory speaks plain LDAP only (no StartTLS)", nil)
		default:
			s.done(w, id, ldap.ApplicationExtendedResponse, ldap.LDAPResultUnwillingToPerform, "operation not supported by the lab directory", nil)
		}
		if w.Flush() != nil {
			return
		}
	}
}

func str(p *ber.Packet) string {
	if v, ok := p.Value.(string); ok {
		return v
	}
	if p.Data != nil {
		return p.Data.String()
	}
	return ""
}

func (s *ldapServer) bind(w io.Writer, id int64, op *ber.Packet) bool {
	if len(op.Children) < 3 || op.Children[2].Tag != 0 {
		s.done(w, id, ldap.ApplicationBindResponse, ldap.LDAPResultAuthMethodNotSupported, "the lab directory accepts simple binds only", nil)
		return false
	}
	name, pw := str(op.Children[1]), str(op.Children[2])
	if !strings.EqualFold(name, DirectoryBindDN) || subtle.ConstantTimeCompare([]byte(pw), []byte(s.password)) != 1 {
		s.done(w, id, ldap.ApplicationBindResponse, ldap.LDAPResultInvalidCredentials, "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839", nil)
		return false
	}
	s.done(w, id, ldap.ApplicationBindResponse, ldap.LDAPResultSuccess, "", nil)
	return true
}

func (s *ldapServer) done(w io.Writer, id int64, tag ber.Tag, code uint16, msg string, controls []ldap.Control) {
	p := envelope(id)
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, msg, ""))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	_, _ = w.Write(p.Bytes())
}

func envelope(id int64) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	return p
}

// maxPage is AD's MaxPageSize: larger requests get pages of this size.
const maxPage = 1000

func (s *ldapServer) search(w io.Writer, id int64, op *ber.Packet, controls []ldap.Control) {
	if len(op.Children) < 8 {
		s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultProtocolError, "malformed search request", nil)
		return
	}
	base := strings.ToLower(str(op.Children[0]))
	filter := op.Children[6]
	var wanted []string
	for _, a := range op.Children[7].Children {
		wanted = append(wanted, str(a))
	}
	if err := checkFilter(filter); err != nil {
		s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultProtocolError, err.Error(), nil)
		return
	}
	users := s.users[s.lab.On("directory-sip-stripped")]
	var matched []*DirEntry
	for i := range users {
		e := &users[i]
		if strings.HasSuffix(strings.ToLower(e.DN), base) && match(filter, e) {
			matched = append(matched, e)
		}
	}
	paging, _ := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	from, to := 0, len(matched)
	var resp []ldap.Control
	if paging != nil {
		if len(paging.Cookie) > 0 {
			n, err := strconv.Atoi(string(paging.Cookie))
			if err != nil || n < 0 || n > len(matched) {
				s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultUnwillingToPerform, "invalid paged results cookie", nil)
				return
			}
			from = n
		}
		size := int(paging.PagingSize)
		if size <= 0 || size > maxPage {
			size = maxPage
		}
		to = min(from+size, len(matched))
		next := ldap.NewControlPaging(0)
		if to < len(matched) {
			next.SetCookie([]byte(strconv.Itoa(to)))
		}
		resp = append(resp, next)
	} else if to > maxPage {
		// As AD does without paging: the first 1000, then sizeLimitExceeded.
		for _, e := range matched[:maxPage] {
			writeEntry(w, id, e, wanted)
		}
		s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultSizeLimitExceeded, "Size Limit Exceeded", nil)
		return
	}
	for _, e := range matched[from:to] {
		writeEntry(w, id, e, wanted)
	}
	s.done(w, id, ldap.ApplicationSearchResultDone, ldap.LDAPResultSuccess, "", resp)
}

func writeEntry(w io.Writer, id int64, e *DirEntry, wanted []string) {
	p := envelope(id)
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.DN, ""))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for name, vals := range e.Attrs {
		if len(wanted) > 0 && !containsFold(wanted, name) && !containsFold(wanted, "*") {
			continue
		}
		a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range vals {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
		}
		a.AppendChild(set)
		attrs.AppendChild(a)
	}
	op.AppendChild(attrs)
	p.AppendChild(op)
	_, _ = w.Write(p.Bytes())
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func attr(e *DirEntry, name string) []string {
	for k, v := range e.Attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// Filter tags (RFC 4511 4.5.1).
const (
	filterAnd        = 0
	filterOr         = 1
	filterNot        = 2
	filterEquality   = 3
	filterSubstrings = 4
	filterPresent    = 7
	filterExtensible = 9
)

// checkFilter refuses filter kinds match does not implement, so the lab
// never answers a wrong set silently.
func checkFilter(f *ber.Packet) error {
	switch f.Tag {
	case filterAnd, filterOr, filterNot:
		for _, c := range f.Children {
			if err := checkFilter(c); err != nil {
				return err
			}
		}
		return nil
	case filterEquality, filterSubstrings, filterPresent:
		return nil
	case filterExtensible:
		for _, c := range f.Children {
			if c.Tag == 1 && str(c) != "1.2.840.113556.1.4.803" {
				return fmt.Errorf("the lab directory knows only the bit-and matching rule 1.2.840.113556.1.4.803, not %s", str(c))
			}
		}
		return nil
	}
	return fmt.Errorf("filter kind %d is not supported by the lab directory", f.Tag)
}

func match(f *ber.Packet, e *DirEntry) bool {
	switch f.Tag {
	case filterAnd:
		for _, c := range f.Children {
			if !match(c, e) {
				return false
			}
		}
		return true
	case filterOr:
		for _, c := range f.Children {
			if match(c, e) {
				return true
			}
		}
		return false
	case filterNot:
		return len(f.Children) == 1 && !match(f.Children[0], e)
	case filterPresent:
		return len(attr(e, str(f))) > 0
	case filterEquality:
		if len(f.Children) != 2 {
			return false
		}
		want := str(f.Children[1])
		for _, v := range attr(e, str(f.Children[0])) {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	case filterSubstrings:
		if len(f.Children) != 2 {
			return false
		}
		for _, v := range attr(e, str(f.Children[0])) {
			if substrings(strings.ToLower(v), f.Children[1].Children) {
				return true
			}
		}
		return false
	case filterExtensible:
		var name, value string
		for _, c := range f.Children {
			switch c.Tag {
			case 2:
				name = str(c)
			case 3:
				value = str(c)
			}
		}
		bits, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return false
		}
		for _, v := range attr(e, name) {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n&bits == bits {
				return true
			}
		}
		return false
	}
	return false
}

// substrings matches initial [0], any [1] and final [2] parts in order.
func substrings(v string, parts []*ber.Packet) bool {
	pos := 0
	for _, p := range parts {
		s := strings.ToLower(str(p))
		switch p.Tag {
		case 0:
			if !strings.HasPrefix(v, s) {
				return false
			}
			pos = len(s)
		case 1:
			i := strings.Index(v[pos:], s)
			if i < 0 {
				return false
			}
			pos += i + len(s)
		case 2:
			if !strings.HasSuffix(v[pos:], s) {
				return false
			}
		}
	}
	return true
}

// DirectoryHost is the lab's domain controller, reached through
// SFBEX_CONNECT_TO.
const DirectoryHost = "dc01." + Domain

// directoryEnv is the agent configuration for the lab directory.
func (l *Lab) directoryEnv(interval time.Duration) map[string]string {
	if l.ldap == nil {
		return nil
	}
	return map[string]string{
		"SFBEX_LDAP_URL":           "ldap://" + DirectoryHost,
		"SFBEX_LDAP_STARTTLS":      "false",
		"SFBEX_LDAP_BIND_DN":       DirectoryBindDN,
		"SFBEX_LDAP_PASSWORD_FILE": l.ldap.pwFile,
		"SFBEX_LDAP_BASE_DN":       DirectoryBaseDN,
		"SFBEX_LDAP_INTERVAL":      interval.String(),
		"SFBEX_LDAP_TIMEOUT":       min(interval, 10*time.Second).String(),
	}
}

// DirectoryPassword returns the lab directory's bind password, for tests.
func (l *Lab) DirectoryPassword() string { return l.ldap.password }

// DirectoryAddr returns the lab directory's host:port.
func (l *Lab) DirectoryAddr() string { return l.ldap.addr }
