package directory

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Encoders for test replies.

func envelopeMsg(id int64, op *ber.Packet, controls ...ldap.Control) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	p.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		p.AppendChild(cs)
	}
	return p.Bytes()
}

func resultMsg(id int64, tag ber.Tag, code uint16, diag string, controls ...ldap.Control) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	return envelopeMsg(id, op, controls...)
}

type attrVals struct {
	name string
	vals []string
}

func entryMsg(id int64, dn string, attrs ...attrVals) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, ""))
	as := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range attrs {
		ap := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		ap.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.name, ""))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range a.vals {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
		}
		ap.AppendChild(set)
		as.AppendChild(ap)
	}
	op.AppendChild(as)
	return envelopeMsg(id, op)
}

func referenceMsg(id int64, uri string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultReference, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, uri, ""))
	return envelopeMsg(id, op)
}

func noticeMsg(code uint16, diag string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedResponse, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, oidNoticeOfDisc, ""))
	return envelopeMsg(0, op)
}

func pagingCtl(cookie string) ldap.Control {
	c := ldap.NewControlPaging(0)
	c.SetCookie([]byte(cookie))
	return c
}

// longForm re-encodes a message's outer length in the 4-byte long form.
func longForm(m []byte) []byte {
	_, v, _, err := tlv(m)
	if err != nil {
		panic(err)
	}
	n := len(v)
	return append([]byte{tagSequence, 0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, v...)
}

// scripted serves one connection: the bind succeeds, and search answers
// each search request (by page number) with the bytes it returns.
func scripted(t *testing.T, search func(page int, id int64) []byte) string {
	return scriptedClosing(t, search, false)
}

// scriptedClosing closes the connection after the first search reply if cut.
func scriptedClosing(t *testing.T, search func(page int, id int64) []byte, cut bool) string {
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
		page := 0
		for {
			p, err := ber.ReadPacket(c)
			if err != nil || len(p.Children) < 2 {
				return
			}
			id := p.Children[0].Value.(int64)
			switch p.Children[1].Tag {
			case ldap.ApplicationBindRequest:
				_, _ = c.Write(resultMsg(id, ldap.ApplicationBindResponse, 0, ""))
			case ldap.ApplicationSearchRequest:
				out := search(page, id)
				page++
				if out == nil {
					return
				}
				_, _ = c.Write(out)
				if cut {
					return
				}
			default:
				return
			}
		}
	}()
	return ln.Addr().String()
}

func scriptedScan(t *testing.T, addr string) (*Result, error) {
	t.Helper()
	p, err := NewProber(Config{URL: "ldap://" + addr, BindDN: "CN=svc", Password: "pw-123", BaseDN: "DC=contoso,DC=com", SIPDomains: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if err != nil {
		if r != nil {
			t.Errorf("a failed scan returned a result: %+v", r)
		}
		return nil, err
	}
	return r.(*Result), nil
}

func user1(id int64, name string) []byte {
	a := name + "@contoso.com"
	return entryMsg(id, "CN="+name+",DC=contoso,DC=com",
		attrVals{"MSRTCSIP-PRIMARYUSERADDRESS", []string{"sip:" + a}}, // names match case-insensitively
		attrVals{"objectClass", []string{"user"}},                     // not requested: skipped
		attrVals{"proxyaddresses", []string{"SMTP:" + a, "SIP:" + a}},
		attrVals{"mail", []string{a}}, attrVals{"userAccountControl", []string{"512"}})
}

func TestWirePagingReferencesAndLongForm(t *testing.T) {
	addr := scripted(t, func(page int, id int64) []byte {
		var b []byte
		b = append(b, resultMsg(id+100, ldap.ApplicationSearchResultDone, 0, "")...) // another ID: skipped
		for i := range 3 {
			m := user1(id, strings.Repeat("u", 1+page)+string(rune('a'+i)))
			if i == 1 {
				m = longForm(m)
			}
			b = append(b, m...)
		}
		b = append(b, referenceMsg(id, "ldap://other.contoso.com/DC=other")...)
		cookie := ""
		if page < 2 {
			cookie = "next"
		}
		return append(b, longForm(resultMsg(id, ldap.ApplicationSearchResultDone, 0, "", pagingCtl(cookie)))...)
	})
	r, err := scriptedScan(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Entries != 9 || r.Pages != 3 || r.Referrals != 3 {
		t.Errorf("%d entries in %d pages, %d referrals; want 9, 3, 3", r.Entries, r.Pages, r.Referrals)
	}
	if d := domain(r, "contoso.com"); d.Users != 9 || d.WithSIPProxy != 9 || d.MissingMail != 0 || d.Mismatch != 0 {
		t.Errorf("%+v", d)
	}
}

// Offender samples keep their DN after the read buffer is reused.
func TestWireSamplesOwnTheirDN(t *testing.T) {
	addr := scripted(t, func(page int, id int64) []byte {
		var b []byte
		for i := range 50 {
			name := "nomail" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			b = append(b, entryMsg(id, "CN="+name+",DC=contoso,DC=com",
				attrVals{"msRTCSIP-PrimaryUserAddress", []string{"sip:" + name + "@contoso.com"}})...)
		}
		return append(b, resultMsg(id, ldap.ApplicationSearchResultDone, 0, "", pagingCtl(""))...)
	})
	r, err := scriptedScan(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range r.Offenders {
		if s.Kind == KindNoMail {
			if !strings.HasPrefix(s.DN, "CN=nomail") || !strings.HasSuffix(s.DN, ",DC=contoso,DC=com") || seen[s.DN] {
				t.Errorf("sample DN %q", s.DN)
			}
			seen[s.DN] = true
		}
	}
	if len(seen) != 10 || r.Offending[KindNoMail] != 50 {
		t.Errorf("%d distinct no-mail samples of %d", len(seen), r.Offending[KindNoMail])
	}
}

func TestWireErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		reply func(id int64) []byte
		want  string
		cut   bool
	}{
		{"size limit", func(id int64) []byte {
			return resultMsg(id, ldap.ApplicationSearchResultDone, ldap.LDAPResultSizeLimitExceeded, "Size Limit Exceeded")
		}, "size limit", false},
		{"page size", func(id int64) []byte {
			return resultMsg(id, ldap.ApplicationSearchResultDone, ldap.LDAPResultAdminLimitExceeded, "")
		}, "refused the page size", false},
		{"base DN", func(id int64) []byte {
			return resultMsg(id, ldap.ApplicationSearchResultDone, ldap.LDAPResultNoSuchObject, "0000208D: NameErr")
		}, "does not exist", false},
		{"bit-and", func(id int64) []byte {
			return resultMsg(id, ldap.ApplicationSearchResultDone, ldap.LDAPResultInappropriateMatching, "")
		}, "does not accept the filter", false},
		{"bit-and as protocol error", func(id int64) []byte {
			return resultMsg(id, ldap.ApplicationSearchResultDone, ldap.LDAPResultProtocolError, "unknown matching rule")
		}, "does not accept the filter", false},
		{"notice of disconnection", func(id int64) []byte {
			return append(user1(id, "a"), noticeMsg(ldap.LDAPResultUnavailable, "server shutting down")...)
		}, "Notice of Disconnection", false},
		{"closed mid-page", func(id int64) []byte { return user1(id, "a")[:20] }, "failed after 0 entries in 0 pages", true},
		{"closed after an entry", func(id int64) []byte { return user1(id, "a") }, "failed after 1 entry in 0 pages", true},
		{"oversized", func(id int64) []byte { return []byte{tagSequence, 0x84, 0x7f, 0xff, 0xff, 0xff} }, "limit", false},
		{"indefinite length", func(id int64) []byte { return []byte{tagSequence, 0x80, 0, 0} }, "malformed", false},
		{"not a sequence", func(id int64) []byte { return []byte{0x04, 0x01, 0} }, "malformed", false},
		{"garbled entry", func(id int64) []byte {
			return envelopeMsg(id, ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, ""))
		}, "invalid search result entry", false},
	} {
		addr := scriptedClosing(t, func(page int, id int64) []byte { return c.reply(id) }, c.cut)
		_, err := scriptedScan(t, addr)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "directory scan of") || probes.FixOf(err) == "" {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// A server that ignores the paging control sends everything at once: done.
func TestWireServerWithoutPaging(t *testing.T) {
	addr := scripted(t, func(page int, id int64) []byte {
		return append(user1(id, "a"), resultMsg(id, ldap.ApplicationSearchResultDone, 0, "")...)
	})
	r, err := scriptedScan(t, addr)
	if err != nil || r.Entries != 1 || r.Pages != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
}

// Errors keep go-ldap's classes, which bindErr and searchErr rely on.
func TestWireResultErrors(t *testing.T) {
	m := resultMsg(1, ldap.ApplicationBindResponse, ldap.LDAPResultInvalidCredentials, "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839")
	msg, err := parseMessage(m[2:])
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseResult(msg.body)
	if err != nil {
		t.Fatal(err)
	}
	e := r.err()
	var le *ldap.Error
	if !errors.As(e, &le) || !ldap.IsErrorWithCode(e, ldap.LDAPResultInvalidCredentials) || !strings.Contains(e.Error(), "data 52e") {
		t.Errorf("%v", e)
	}
	if _, _, err := readMessage(bufio.NewReader(bytes.NewReader([]byte{0x30, 0x84, 0x01, 0x00, 0x00, 0x01})), nil); err == nil {
		t.Error("a 16 MiB + 1 message was accepted")
	}
}

// decodeAll runs every decoder over a stream of replies, as the scan does.
func decodeAll(data []byte) {
	r := bufio.NewReaderSize(bytes.NewReader(data), 16)
	var buf []byte
	var e entry
	for range 64 {
		m, nb, err := readMessage(r, buf)
		buf = nb
		if err != nil {
			return
		}
		if len(m) > maxMessage {
			panic("message over the limit")
		}
		msg, err := parseMessage(m)
		if err != nil {
			continue
		}
		switch msg.op {
		case opSearchEntry:
			_ = parseEntry(msg.body, Attributes, &e)
		case opSearchRef:
			_, _, _, _ = tlv(msg.body)
		case opExtendedResp:
			_ = unsolicited(msg)
		default:
			if res, err := parseResult(msg.body); err == nil {
				_ = res.err()
				_ = extendedName(res)
			}
			_, _, _ = pagingCookie(msg.controls)
		}
	}
}

func FuzzDecodeResponses(f *testing.F) {
	f.Add(user1(2, "alice"))
	f.Add(longForm(user1(2, "bob")))
	f.Add(resultMsg(2, ldap.ApplicationSearchResultDone, 0, "", pagingCtl("cookie")))
	f.Add(append(referenceMsg(2, "ldap://x/DC=x"), noticeMsg(52, "bye")...))
	f.Add(resultMsg(1, ldap.ApplicationBindResponse, 49, "data 52e"))
	f.Fuzz(func(t *testing.T, data []byte) { decodeAll(data) })
}
