package lab

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math/bits"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// ntlmServer is the server side of NTLMv2 (MS-NLMP), enough for the lab's
// Exchange to check the probe account's password for real: it issues a
// challenge per TCP connection and verifies the client's NTProofStr.
type ntlmServer struct {
	user, domain, password string // the account: user@domain (UPN) or DOMAIN\user

	mu      sync.Mutex
	pending map[string]pendingChallenge // by the client's address (one TCP connection)
}

type pendingChallenge struct {
	challenge [8]byte
	at        time.Time
}

// NTLM flags the lab sends: Unicode, NTLM, target info, extended session
// security, always sign, 128/56-bit; no key exchange and no LM key.
const ntlmChallengeFlags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 |
	0x00080000 | 0x00800000 | 0x20000000 | 0x80000000

var ntlmSignature = []byte("NTLMSSP\x00")

// challenge answers a NEGOTIATE message from conn with a CHALLENGE message.
func (s *ntlmServer) challenge(conn string, negotiate []byte) ([]byte, error) {
	if len(negotiate) < 12 || !bytes.Equal(negotiate[:8], ntlmSignature) || binary.LittleEndian.Uint32(negotiate[8:]) != 1 {
		return nil, errors.New("not an NTLM NEGOTIATE message")
	}
	var ch [8]byte
	if _, err := rand.Read(ch[:]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.pending == nil {
		s.pending = map[string]pendingChallenge{}
	}
	for k, p := range s.pending {
		if time.Since(p.at) > time.Minute {
			delete(s.pending, k)
		}
	}
	if len(s.pending) < 1024 {
		s.pending[conn] = pendingChallenge{challenge: ch, at: time.Now()}
	}
	s.mu.Unlock()

	target := utf16le("CONTOSO")
	var info bytes.Buffer
	av := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, [2]uint16{id, uint16(len(v))})
		info.Write(v)
	}
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(2, utf16le("CONTOSO"))      // MsvAvNbDomainName
	av(1, utf16le("EX01"))         // MsvAvNbComputerName
	av(4, utf16le(Domain))         // MsvAvDnsDomainName
	av(3, utf16le("mail."+Domain)) // MsvAvDnsComputerName
	av(7, ts)                      // MsvAvTimestamp
	av(0, nil)                     // MsvAvEOL

	const header = 48
	var m bytes.Buffer
	m.Write(ntlmSignature)
	_ = binary.Write(&m, binary.LittleEndian, uint32(2))
	_ = binary.Write(&m, binary.LittleEndian, varField(len(target), header))
	_ = binary.Write(&m, binary.LittleEndian, uint32(ntlmChallengeFlags))
	m.Write(ch[:])
	m.Write(make([]byte, 8))
	_ = binary.Write(&m, binary.LittleEndian, varField(info.Len(), header+len(target)))
	m.Write(target)
	m.Write(info.Bytes())
	return m.Bytes(), nil
}

func varField(n, offset int) [2]uint32 { return [2]uint32{uint32(n) | uint32(n)<<16, uint32(offset)} }

// verify checks an AUTHENTICATE message from conn against the challenge
// sent on that connection.
func (s *ntlmServer) verify(conn string, msg []byte) bool {
	s.mu.Lock()
	p, ok := s.pending[conn]
	delete(s.pending, conn)
	s.mu.Unlock()
	if !ok || len(msg) < 64 || !bytes.Equal(msg[:8], ntlmSignature) || binary.LittleEndian.Uint32(msg[8:]) != 3 {
		return false
	}
	field := func(at int) ([]byte, bool) {
		n := int(binary.LittleEndian.Uint16(msg[at:]))
		off := int(binary.LittleEndian.Uint32(msg[at+4:]))
		if off < 0 || off > len(msg) || n > len(msg)-off {
			return nil, false
		}
		return msg[off : off+n], true
	}
	nt, ok1 := field(20)
	dom, ok2 := field(28)
	usr, ok3 := field(36)
	if !ok1 || !ok2 || !ok3 || len(nt) <= 16 {
		return false
	}
	user, domain := fromUTF16le(usr), fromUTF16le(dom)
	upn := strings.EqualFold(user, s.user+"@"+s.domain) && domain == ""
	down := strings.EqualFold(user, s.user) && strings.EqualFold(domain, "CONTOSO")
	if !upn && !down {
		return false
	}
	ntowf := hmacMD5(md4Sum(utf16le(s.password)), utf16le(strings.ToUpper(user)+domain))
	proof := hmacMD5(ntowf, p.challenge[:], nt[16:])
	return hmac.Equal(proof, nt[:16])
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// md4Sum is MD4 (RFC 1320), which NTLM hashes passwords with. The standard
// library has none, and this keeps the lab free of another dependency.
func md4Sum(msg []byte) []byte {
	a, b, c, d := uint32(0x67452301), uint32(0xefcdab89), uint32(0x98badcfe), uint32(0x10325476)
	n := len(msg)
	padded := append(append([]byte{}, msg...), 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.LittleEndian.AppendUint64(padded, uint64(n)*8)
	f := func(x, y, z uint32) uint32 { return x&y | ^x&z }
	g := func(x, y, z uint32) uint32 { return x&y | x&z | y&z }
	h := func(x, y, z uint32) uint32 { return x ^ y ^ z }
	var x [16]uint32
	for off := 0; off < len(padded); off += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(padded[off+4*i:])
		}
		aa, bb, cc, dd := a, b, c, d
		for _, i := range []int{0, 4, 8, 12} {
			a = bits.RotateLeft32(a+f(b, c, d)+x[i], 3)
			d = bits.RotateLeft32(d+f(a, b, c)+x[i+1], 7)
			c = bits.RotateLeft32(c+f(d, a, b)+x[i+2], 11)
			b = bits.RotateLeft32(b+f(c, d, a)+x[i+3], 19)
		}
		for _, i := range []int{0, 1, 2, 3} {
			a = bits.RotateLeft32(a+g(b, c, d)+x[i]+0x5a827999, 3)
			d = bits.RotateLeft32(d+g(a, b, c)+x[i+4]+0x5a827999, 5)
			c = bits.RotateLeft32(c+g(d, a, b)+x[i+8]+0x5a827999, 9)
			b = bits.RotateLeft32(b+g(c, d, a)+x[i+12]+0x5a827999, 13)
		}
		for _, i := range []int{0, 2, 1, 3} {
			a = bits.RotateLeft32(a+h(b, c, d)+x[i]+0x6ed9eba1, 3)
			d = bits.RotateLeft32(d+h(a, b, c)+x[i+8]+0x6ed9eba1, 9)
			c = bits.RotateLeft32(c+h(d, a, b)+x[i+4]+0x6ed9eba1, 11)
			b = bits.RotateLeft32(b+h(c, d, a)+x[i+12]+0x6ed9eba1, 15)
		}
		a, b, c, d = a+aa, b+bb, c+cc, d+dd
	}
	out := make([]byte, 16)
	for i, v := range []uint32{a, b, c, d} {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}
