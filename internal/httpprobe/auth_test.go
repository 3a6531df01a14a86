package httpprobe

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

const testPassword = "Pa55-w0rd-that-must-never-show"

func basicServer(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "probe@example.com" && p == testPassword {
			body, _ := io.ReadAll(r.Body)
			w.Write(body) // echo: the body must arrive with the credentials
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="example.com"`)
		w.WriteHeader(401)
	})
	return mux
}

func TestBasicAuthentication(t *testing.T) {
	_, o := tlsServer(t, basicServer(t))
	req := Request{Method: "POST", URL: "https://example.com/autodiscover", Body: []byte("<x/>"), Timeout: 5 * time.Second}
	a, body := DoAuthenticated(context.Background(), o, req, NewCredentials("probe@example.com", testPassword, AuthAuto))
	if a.Outcome != OK || a.Scheme != "basic" || string(body) != "<x/>" {
		t.Fatalf("%+v body %q", a, body)
	}
	a, _ = DoAuthenticated(context.Background(), o, req, NewCredentials("probe@example.com", "wrong-"+testPassword, AuthBasic))
	if a.Outcome != AuthRejected || strings.Contains(a.Detail, testPassword) {
		t.Fatalf("wrong password: %+v", a)
	}
	a, _ = DoAuthenticated(context.Background(), o, req, NewCredentials("probe@example.com", testPassword, AuthNTLM))
	if a.Outcome != AuthNotOffered || !strings.Contains(a.Detail, "Basic") {
		t.Fatalf("NTLM only against a Basic server: %+v", a)
	}
	req.URL = "http://example.com/autodiscover"
	if a, _ = DoAuthenticated(context.Background(), o, req, NewCredentials("u", testPassword, AuthBasic)); a.Outcome != Error {
		t.Fatalf("credentials over http: %+v", a)
	}
}

// ntlmTestServer walks the NTLM handshake and checks that it stays on one
// connection, that the body comes every time, and who signs in. The
// cryptography is checked against the lab's verifier (lab tests).
type ntlmTestServer struct {
	mu     sync.Mutex
	conns  []string // RemoteAddr per step
	users  []string
	scheme string // NTLM or Negotiate
}

func (s *ntlmTestServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if string(body) != "<req/>" {
		http.Error(w, "body missing", 400)
		return
	}
	s.mu.Lock()
	s.conns = append(s.conns, r.RemoteAddr)
	s.mu.Unlock()
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	msg, _ := base64.StdEncoding.DecodeString(data)
	switch {
	case scheme == s.scheme && len(msg) > 12 && msg[8] == 1:
		w.Header().Set("WWW-Authenticate", s.scheme+" "+base64.StdEncoding.EncodeToString(challengeMessage()))
		w.WriteHeader(401)
	case scheme == s.scheme && len(msg) > 64 && msg[8] == 3:
		off := binary.LittleEndian.Uint32(msg[40:])
		n := binary.LittleEndian.Uint16(msg[36:])
		u := make([]uint16, n/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(msg[int(off)+2*i:])
		}
		s.mu.Lock()
		s.users = append(s.users, string(utf16.Decode(u)))
		s.mu.Unlock()
		fmt.Fprint(w, "signed in")
	default:
		w.Header().Add("WWW-Authenticate", s.scheme)
		w.Header().Add("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(401)
	}
}

// challengeMessage is a minimal NTLM CHALLENGE (MS-NLMP 2.2.1.2): Unicode,
// NTLM, extended session security, an empty target info.
func challengeMessage() []byte {
	var b bytes.Buffer
	b.WriteString("NTLMSSP\x00")
	binary.Write(&b, binary.LittleEndian, uint32(2))
	binary.Write(&b, binary.LittleEndian, [2]uint32{0, 48})            // target name: empty
	binary.Write(&b, binary.LittleEndian, uint32(0x00880201|0x800000)) // flags
	b.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8})                            // server challenge
	b.Write(make([]byte, 8))
	binary.Write(&b, binary.LittleEndian, [2]uint32{4 | 4<<16, 48}) // target info: EOL only
	b.Write([]byte{0, 0, 0, 0})
	return b.Bytes()
}

func TestNTLMHandshakeStaysOnOneConnection(t *testing.T) {
	for _, scheme := range []string{"NTLM", "Negotiate"} {
		srv := &ntlmTestServer{scheme: scheme}
		_, o := tlsServer(t, srv)
		creds := NewCredentials(`CONTOSO\probe`, testPassword, AuthAuto)
		if scheme == "Negotiate" {
			creds.Mode = AuthNTLM
		}
		a, body := DoAuthenticated(context.Background(), o, Request{Method: "POST", URL: "https://example.com/x", Body: []byte("<req/>"), Timeout: 5 * time.Second}, creds)
		if a.Outcome != OK || string(body) != "signed in" || a.Scheme != strings.ToLower(scheme) {
			t.Fatalf("%s: %+v %q", scheme, a, body)
		}
		if len(srv.conns) != 3 || srv.conns[0] != srv.conns[1] || srv.conns[1] != srv.conns[2] {
			t.Fatalf("%s: steps came from %v, want three on one connection", scheme, srv.conns)
		}
		if len(srv.users) != 1 || srv.users[0] != "probe" {
			t.Fatalf("%s: signed in as %v", scheme, srv.users)
		}
	}
}

func TestCredentialsNeverShowThePassword(t *testing.T) {
	c := NewCredentials("probe@example.com", testPassword, AuthAuto)
	j, err := json.Marshal(struct{ C *Credentials }{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(j), c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, testPassword) {
			t.Fatalf("password shown: %s", s)
		}
	}
	if _, err := ParseAuthMode("kerberos"); err == nil {
		t.Fatal("kerberos accepted")
	}
}
