package directory

// A small LDAP client for the scan's hot path. go-ldap decodes every
// response into a generic *ber.Packet tree (several allocations per element,
// the bytes copied once per nesting level), which made the scan cost five
// times ldapsearch's CPU. Here each LDAPMessage is read into one reused
// buffer and walked in place: the DN and the values of the requested
// attributes are sub-slices of that buffer, valid until the next message.
//
// Requests are still built with asn1-ber and ldap.CompileFilter (a few per
// scan); errors are *ldap.Error values with go-ldap's result codes and
// texts, so the probe classifies them as before. Binds are simple, or
// NTLM over SASL or Sicily (ntlmBind).

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/Azure/go-ntlmssp"
	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// maxMessage bounds one LDAPMessage: a reply claiming more is refused
// before anything is allocated for it.
const maxMessage = 16 << 20

// BER identifiers of the protocol operations and fields read here.
const (
	tagSequence      = 0x30
	tagSet           = 0x31
	tagInteger       = 0x02
	tagEnumerated    = 0x0a
	tagOctetString   = 0x04
	tagControls      = 0xa0 // [0] constructed, in LDAPMessage
	opBindResponse   = 0x61 // [APPLICATION 1]
	opSearchEntry    = 0x64 // [APPLICATION 4]
	opSearchDone     = 0x65 // [APPLICATION 5]
	opSearchRef      = 0x73 // [APPLICATION 19]
	opExtendedResp   = 0x78 // [APPLICATION 24]
	opIntermediate   = 0x79 // [APPLICATION 25]
	oidNoticeOfDisc  = "1.3.6.1.4.1.1466.20036"
	oidStartTLS      = "1.3.6.1.4.1.1466.20037"
	tagExtRespName   = 0x8a // [10] responseName in ExtendedResponse
	tagSASLCreds     = 0x87 // [7] serverSaslCreds in BindResponse
	requestTimeout   = 2 * time.Minute
	readBufferSize   = 64 << 10
	initialMsgBuffer = 16 << 10
)

var (
	errMalformed = errors.New("malformed LDAP message")
	errTooLarge  = fmt.Errorf("LDAP element exceeds the %d-byte limit", maxMessage)
)

// tlv splits b into its first element's tag and contents and the rest. It
// accepts definite lengths in short and long form (up to 4 length bytes)
// and single-byte tags only, which is all LDAP uses.
func tlv(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errMalformed
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errMalformed
	}
	n, hdr, err := berLength(b[1:])
	if err != nil {
		return 0, nil, nil, err
	}
	b = b[1+hdr:]
	if n > len(b) {
		return 0, nil, nil, errMalformed
	}
	return tag, b[:n], b[n:], nil
}

// berLength decodes a definite length at the start of b: the length and
// the number of bytes it took.
func berLength(b []byte) (n, size int, err error) {
	if len(b) < 1 {
		return 0, 0, errMalformed
	}
	l := b[0]
	if l < 0x80 {
		return int(l), 1, nil
	}
	k := int(l & 0x7f)
	if k == 0 || k > 4 || len(b) < 1+k {
		return 0, 0, errMalformed // indefinite or absurd
	}
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	if n > maxMessage {
		return 0, 0, fmt.Errorf("%w: %d bytes", errTooLarge, n)
	}
	return n, 1 + k, nil
}

// berInt decodes a two's-complement INTEGER or ENUMERATED of up to 8 bytes.
func berInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, errMalformed
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// readMessage reads one LDAPMessage from r into buf (grown as needed, up to
// maxMessage) and returns the SEQUENCE's contents and the buffer.
func readMessage(r *bufio.Reader, buf []byte) (msg, newBuf []byte, err error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:2]); err != nil {
		return nil, buf, err
	}
	if hdr[0] != tagSequence {
		return nil, buf, fmt.Errorf("%w: tag 0x%02x where an LDAPMessage SEQUENCE belongs", errMalformed, hdr[0])
	}
	size := 1
	if hdr[1] >= 0x80 {
		k := int(hdr[1] & 0x7f)
		if k == 0 || k > 4 {
			return nil, buf, fmt.Errorf("%w: length form 0x%02x", errMalformed, hdr[1])
		}
		if _, err := io.ReadFull(r, hdr[2:2+k]); err != nil {
			return nil, buf, noEOF(err)
		}
		size += k
	}
	n, _, err := berLength(hdr[1 : 1+size])
	if err != nil {
		return nil, buf, err
	}
	if n <= cap(buf) {
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, buf, noEOF(err)
		}
		return buf, buf, nil
	}
	// Grow with the bytes that actually arrive, not with the length the
	// peer claims.
	buf = buf[:0]
	for len(buf) < n {
		chunk := min(n-len(buf), max(cap(buf), 64<<10))
		buf = slices.Grow(buf, chunk)
		k, err := io.ReadFull(r, buf[len(buf):len(buf)+chunk])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, buf, noEOF(err)
		}
	}
	return buf, buf, nil
}

// noEOF turns a clean EOF in the middle of a message into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// message is one decoded LDAPMessage; the slices point into the read buffer.
type message struct {
	id       int64
	op       byte   // the protocolOp's tag
	body     []byte // the protocolOp's contents
	controls []byte // the contents of controls [0], nil without
}

func parseMessage(m []byte) (message, error) {
	tag, v, rest, err := tlv(m)
	if err != nil || tag != tagInteger {
		return message{}, errMalformed
	}
	id, err := berInt(v)
	if err != nil {
		return message{}, err
	}
	op, body, rest, err := tlv(rest)
	if err != nil {
		return message{}, err
	}
	msg := message{id: id, op: op, body: body}
	for len(rest) > 0 {
		var t byte
		if t, v, rest, err = tlv(rest); err != nil {
			return message{}, err
		}
		if t == tagControls {
			msg.controls = v
		}
	}
	return msg, nil
}

// ldapResult is an LDAPResult's fields, sub-slices of the message.
type ldapResult struct {
	code       int64
	matchedDN  []byte
	diagnostic []byte
	rest       []byte // fields after the diagnostic message (referral, operation-specific)
}

func parseResult(body []byte) (ldapResult, error) {
	var r ldapResult
	tag, v, rest, err := tlv(body)
	if err != nil || (tag != tagEnumerated && tag != tagInteger) {
		return r, errMalformed
	}
	if r.code, err = berInt(v); err != nil {
		return r, err
	}
	if _, r.matchedDN, rest, err = tlv(rest); err != nil {
		return r, err
	}
	if _, r.diagnostic, r.rest, err = tlv(rest); err != nil {
		return r, err
	}
	return r, nil
}

// err is nil for success, else an *ldap.Error as go-ldap would give.
func (r ldapResult) err() error {
	if r.code == 0 {
		return nil
	}
	if r.code < 0 || r.code > 0xffff {
		return ldap.NewError(ldap.ErrorNetwork, errors.New("invalid result code in packet"))
	}
	return ldap.NewError(uint16(r.code), errors.New(string(r.diagnostic)))
}

// pagingCookie finds the paged-results control in controls (the contents
// of an LDAPMessage's [0]) and returns a copy of its cookie.
func pagingCookie(controls []byte) (cookie []byte, found bool, err error) {
	for len(controls) > 0 {
		var c []byte
		var tag byte
		if tag, c, controls, err = tlv(controls); err != nil {
			return nil, false, err
		}
		if tag != tagSequence {
			return nil, false, errMalformed
		}
		_, oid, rest, err := tlv(c)
		if err != nil {
			return nil, false, err
		}
		if string(oid) != ldap.ControlTypePaging {
			continue
		}
		var value []byte
		for len(rest) > 0 {
			var t byte
			var v []byte
			if t, v, rest, err = tlv(rest); err != nil {
				return nil, false, err
			}
			if t == tagOctetString {
				value = v
			}
		}
		// realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }
		tag, seq, _, err := tlv(value)
		if err != nil || tag != tagSequence {
			return nil, false, errMalformed
		}
		_, _, seq, err = tlv(seq)
		if err != nil {
			return nil, false, err
		}
		_, ck, _, err := tlv(seq)
		if err != nil {
			return nil, false, err
		}
		return bytes.Clone(ck), true, nil
	}
	return nil, false, nil
}

// entry is one SearchResultEntry's DN and the values of the attributes the
// scan reads, sub-slices of the message; the slices are reused.
type entry struct {
	dn   []byte
	vals [][][]byte // per wanted attribute, by index
}

// parseEntry walks a SearchResultEntry's contents in place, keeping the
// values of the attributes in wanted (matched case-insensitively).
func parseEntry(body []byte, wanted []string, e *entry) error {
	if len(e.vals) != len(wanted) {
		e.vals = make([][][]byte, len(wanted))
	}
	for i := range e.vals {
		e.vals[i] = e.vals[i][:0]
	}
	_, dn, rest, err := tlv(body)
	if err != nil {
		return err
	}
	e.dn = dn
	tag, attrs, _, err := tlv(rest)
	if err != nil || tag != tagSequence {
		return errMalformed
	}
	for len(attrs) > 0 {
		var a []byte
		if tag, a, attrs, err = tlv(attrs); err != nil || tag != tagSequence {
			return errMalformed
		}
		_, name, rest, err := tlv(a)
		if err != nil {
			return err
		}
		tag, vals, _, err := tlv(rest)
		if err != nil || (tag != tagSet && tag != tagSequence) {
			return errMalformed
		}
		idx := -1
		for i, w := range wanted {
			if len(w) == len(name) && bytes.EqualFold(name, []byte(w)) {
				idx = i
				break
			}
		}
		for len(vals) > 0 {
			var v []byte
			if _, v, vals, err = tlv(vals); err != nil {
				return err
			}
			if idx >= 0 {
				e.vals[idx] = append(e.vals[idx], v)
			}
		}
	}
	return nil
}

// extendedName is an ExtendedResponse's responseName, if any.
func extendedName(r ldapResult) string {
	for rest := r.rest; len(rest) > 0; {
		tag, v, next, err := tlv(rest)
		if err != nil {
			return ""
		}
		if tag == tagExtRespName {
			return string(v)
		}
		rest = next
	}
	return ""
}

// wireConn is one LDAP connection driven by the scan.
type wireConn struct {
	raw    net.Conn // the TCP connection: Close ends every read
	conn   net.Conn // raw, or TLS over it
	r      *bufio.Reader
	buf    []byte
	nextID int64
	once   sync.Once
}

func newWireConn(raw, conn net.Conn) *wireConn {
	return &wireConn{raw: raw, conn: conn, r: bufio.NewReaderSize(conn, readBufferSize), buf: make([]byte, 0, initialMsgBuffer)}
}

// Close may be called from any goroutine, more than once.
func (w *wireConn) Close() error {
	var err error
	w.once.Do(func() { err = w.raw.Close() })
	return err
}

// send writes one request with op and controls (may be nil) and returns
// its message ID. The connection's deadline is reset for the request.
func (w *wireConn) send(op, controls *ber.Packet) (int64, error) {
	w.nextID++
	pkt := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	pkt.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, w.nextID, "MessageID"))
	pkt.AppendChild(op)
	if controls != nil {
		pkt.AppendChild(controls)
	}
	_ = w.conn.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := w.conn.Write(pkt.Bytes()); err != nil {
		return 0, netErr(err)
	}
	return w.nextID, nil
}

// netErr wraps a connection failure as go-ldap's network error.
func netErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("ldap: connection timed out (%w)", err))
	}
	return ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("ldap: connection closed (%w)", err))
}

// next reads the next message answering id. Unsolicited notifications
// (ID 0) end the connection: a Notice of Disconnection is an error; other
// message IDs are skipped.
func (w *wireConn) next(id int64) (message, error) {
	for {
		var m []byte
		var err error
		m, w.buf, err = readMessage(w.r, w.buf)
		if err != nil {
			if errors.Is(err, errMalformed) || errors.Is(err, errTooLarge) {
				return message{}, ldap.NewError(ldap.ErrorNetwork, err)
			}
			return message{}, netErr(err)
		}
		msg, err := parseMessage(m)
		if err != nil {
			return message{}, ldap.NewError(ldap.ErrorNetwork, err)
		}
		if msg.id == id {
			return msg, nil
		}
		if msg.id == 0 {
			return message{}, unsolicited(msg)
		}
	}
}

// unsolicited explains an unsolicited notification: the server ends the
// connection (RFC 4511 4.4.1).
func unsolicited(msg message) error {
	what := "an unsolicited notification"
	var detail string
	if msg.op == opExtendedResp {
		if r, err := parseResult(msg.body); err == nil {
			if extendedName(r) == oidNoticeOfDisc || extendedName(r) == "" {
				what = "a Notice of Disconnection"
			}
			detail = fmt.Sprintf(" (result code %d %q: %s)", r.code, ldap.LDAPResultCodeMap[uint16(r.code)], r.diagnostic)
		}
	}
	return ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("ldap: the server sent %s and closes the connection%s", what, detail))
}

// result sends op and reads the LDAPResult of the response with tag want.
func (w *wireConn) result(op *ber.Packet, want byte) (ldapResult, error) {
	id, err := w.send(op, nil)
	if err != nil {
		return ldapResult{}, err
	}
	msg, err := w.next(id)
	if err != nil {
		return ldapResult{}, err
	}
	if msg.op != want {
		return ldapResult{}, ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("unexpected response tag 0x%02x", msg.op))
	}
	r, err := parseResult(msg.body)
	if err != nil {
		return ldapResult{}, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid packet format (%w)", err))
	}
	return r, nil
}

// startTLS upgrades the connection (RFC 4511 4.14).
func (w *wireConn) startTLS(cfg *tls.Config) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, oidStartTLS, "TLS Extended Command"))
	r, err := w.result(op, opExtendedResp)
	if err != nil {
		return err
	}
	if err := r.err(); err != nil {
		return err
	}
	if w.r.Buffered() > 0 {
		return ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: data after the StartTLS response"))
	}
	tc := tls.Client(w.conn, cfg)
	if err := tc.Handshake(); err != nil {
		return ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("TLS handshake failed (%w)", err))
	}
	w.conn = tc
	w.r.Reset(tc)
	return nil
}

// bind sends a BindRequest with name and the authentication choice auth,
// and returns the result and the server's SASL credentials (copied; nil
// without).
func (w *wireConn) bind(name string, auth *ber.Packet) (ldapResult, []byte, error) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "Bind Request")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "User Name"))
	op.AppendChild(auth)
	r, err := w.result(op, opBindResponse)
	if err != nil {
		return ldapResult{}, nil, err
	}
	var creds []byte
	for rest := r.rest; len(rest) > 0; {
		tag, v, next, err := tlv(rest)
		if err != nil {
			return ldapResult{}, nil, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid bind response (%w)", err))
		}
		if tag == tagSASLCreds {
			creds = bytes.Clone(v)
		}
		rest = next
	}
	return r, creds, nil
}

// simpleBind binds with a DN and password (both empty: anonymous).
func (w *wireConn) simpleBind(dn, password string) error {
	r, _, err := w.bind(dn, ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, "Password"))
	if err != nil {
		return err
	}
	return r.err()
}

// ntlmMethod is how an NTLM exchange travels in LDAP bind requests.
type ntlmMethod int

const (
	// ntlmSASL is the SASL mechanism "NTLM" (Samba, Cyrus SASL in OpenLDAP).
	ntlmSASL ntlmMethod = iota + 1
	// ntlmSPNEGO sends raw NTLMSSP tokens under the SASL mechanism
	// "GSS-SPNEGO", which Samba and Windows accept in place of an SPNEGO
	// wrapper.
	ntlmSPNEGO
	// ntlmSicily is Microsoft's own bind (MS-ADTS 5.1.1.1.3, "Sicily"):
	// the tokens travel in bind choices [10] and [11], the challenge in
	// the response's matchedDN. Only Windows domain controllers speak it.
	ntlmSicily
)

func (m ntlmMethod) String() string {
	switch m {
	case ntlmSASL:
		return "SASL NTLM"
	case ntlmSPNEGO:
		return "SASL GSS-SPNEGO (raw NTLMSSP)"
	case ntlmSicily:
		return "Sicily (Microsoft's NTLM bind)"
	}
	return "no NTLM method"
}

// Bind authentication choices (RFC 4511 4.2, MS-ADTS 5.1.1.1.3).
const (
	authSASL            = 3
	authSicilyNegotiate = 10
	authSicilyResponse  = 11
)

// saslAuth is the sasl choice: SaslCredentials { mechanism, credentials }.
func saslAuth(mech string, creds []byte) *ber.Packet {
	p := ber.Encode(ber.ClassContext, ber.TypeConstructed, authSASL, nil, "SASL")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, mech, "Mechanism"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(creds), "Credentials"))
	return p
}

var ntlmSignature = []byte("NTLMSSP\x00")

// errNTLMProtocol marks a server that does not follow the NTLM exchange.
var errNTLMProtocol = errors.New("the server did not follow the NTLM exchange")

// ntlmBind authenticates as user ("DOMAIN\user" or "user@domain") with
// NTLMv2 over method: NEGOTIATE, the server's CHALLENGE, AUTHENTICATE. An
// LDAP refusal is the server's *ldap.Error; a server that breaks the
// exchange gives an error wrapping errNTLMProtocol.
func (w *wireConn) ntlmBind(m ntlmMethod, user, password string) error {
	negotiate, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return fmt.Errorf("building the NTLM NEGOTIATE message: %w", err)
	}
	var challenge []byte
	switch m {
	case ntlmSicily:
		r, _, err := w.bind("", ber.NewString(ber.ClassContext, ber.TypePrimitive, authSicilyNegotiate, string(negotiate), "Sicily Negotiate"))
		if err != nil {
			return err
		}
		if err := r.err(); err != nil {
			return err
		}
		challenge = bytes.Clone(r.matchedDN)
	default:
		mech := map[ntlmMethod]string{ntlmSASL: "NTLM", ntlmSPNEGO: "GSS-SPNEGO"}[m]
		r, creds, err := w.bind("", saslAuth(mech, negotiate))
		if err != nil {
			return err
		}
		if r.code != ldap.LDAPResultSaslBindInProgress {
			if err := r.err(); err != nil {
				return err
			}
			return fmt.Errorf("%w: it accepted the NTLM NEGOTIATE message as a complete bind (%s)", errNTLMProtocol, m)
		}
		challenge = creds
	}
	if !bytes.HasPrefix(challenge, ntlmSignature) {
		return fmt.Errorf("%w: its answer to the NEGOTIATE message (%s) holds no NTLM CHALLENGE", errNTLMProtocol, m)
	}
	auth, err := ntlmssp.NewAuthenticateMessage(challenge, user, password, nil)
	if err != nil {
		return fmt.Errorf("%w: the server's NTLM CHALLENGE cannot be answered: %v", errNTLMProtocol, err)
	}
	var r ldapResult
	switch m {
	case ntlmSicily:
		r, _, err = w.bind("", ber.NewString(ber.ClassContext, ber.TypePrimitive, authSicilyResponse, string(auth), "Sicily Response"))
	default:
		mech := map[ntlmMethod]string{ntlmSASL: "NTLM", ntlmSPNEGO: "GSS-SPNEGO"}[m]
		r, _, err = w.bind("", saslAuth(mech, auth))
	}
	if err != nil {
		return err
	}
	if r.code == ldap.LDAPResultSaslBindInProgress {
		return fmt.Errorf("%w: it asked for another round after the NTLM AUTHENTICATE message (%s)", errNTLMProtocol, m)
	}
	return r.err()
}

// rootDSE reads attrs of the root DSE (a base search on ""), before any
// bind, as AD and Samba allow. Values are copied.
func (w *wireConn) rootDSE(attrs []string) (map[string][]string, error) {
	filter, err := ldap.CompileFilter("(objectClass=*)")
	if err != nil {
		return nil, err
	}
	id, err := w.send(searchRequest("", ldap.ScopeBaseObject, filter, attrs), nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var e entry
	for {
		msg, err := w.next(id)
		if err != nil {
			return nil, err
		}
		switch msg.op {
		case opSearchEntry:
			if err := parseEntry(msg.body, attrs, &e); err != nil {
				return nil, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid search result entry (%w)", err))
			}
			for i, vs := range e.vals {
				for _, v := range vs {
					out[attrs[i]] = append(out[attrs[i]], string(v))
				}
			}
		case opSearchRef, opIntermediate:
		case opSearchDone:
			r, err := parseResult(msg.body)
			if err != nil {
				return nil, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid packet format (%w)", err))
			}
			return out, r.err()
		default:
			return nil, ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("unknown tag: 0x%02x", msg.op))
		}
	}
}

// searchRequest builds a SearchRequest for filter (compiled).
func searchRequest(baseDN string, scope int, filter *ber.Packet, attrs []string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, baseDN, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(scope), "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(ldap.NeverDerefAliases), "Deref Aliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(0), "Size Limit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(0), "Time Limit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "Types Only"))
	op.AppendChild(filter)
	ap := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range attrs {
		ap.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	op.AppendChild(ap)
	return op
}

// pageHandler receives one page's messages.
type pageHandler struct {
	entry     func(*entry) // called per entry; the entry is valid until it returns
	reference func()
}

// searchPage sends one page's request (compiled filter, paging control with
// cookie) and reads the page, handing entries to h. It returns the cookie
// of the paging control and whether the done message carried one.
func (w *wireConn) searchPage(baseDN string, filter *ber.Packet, attrs []string, pageSize uint32, cookie []byte, e *entry, h pageHandler) (next []byte, gotControl bool, err error) {
	paging := &ldap.ControlPaging{PagingSize: pageSize, Cookie: cookie}
	ctrls := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
	ctrls.AppendChild(paging.Encode())
	id, err := w.send(searchRequest(baseDN, ldap.ScopeWholeSubtree, filter, attrs), ctrls)
	if err != nil {
		return nil, false, err
	}
	for {
		msg, err := w.next(id)
		if err != nil {
			return nil, false, err
		}
		switch msg.op {
		case opSearchEntry:
			if err := parseEntry(msg.body, attrs, e); err != nil {
				return nil, false, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid search result entry (%w)", err))
			}
			h.entry(e)
		case opSearchRef:
			if _, uri, _, err := tlv(msg.body); err == nil && len(uri) > 0 {
				h.reference()
			}
		case opIntermediate:
			// nothing the scan needs
		case opSearchDone:
			r, err := parseResult(msg.body)
			if err != nil {
				return nil, false, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid packet format (%w)", err))
			}
			if err := r.err(); err != nil {
				return nil, false, err
			}
			next, gotControl, err := pagingCookie(msg.controls)
			if err != nil {
				return nil, false, ldap.NewError(ldap.ErrorNetwork, fmt.Errorf("invalid paged results control (%w)", err))
			}
			return next, gotControl, nil
		default:
			return nil, false, ldap.NewError(ldap.ErrorUnexpectedResponse, fmt.Errorf("unknown tag: 0x%02x", msg.op))
		}
	}
}
