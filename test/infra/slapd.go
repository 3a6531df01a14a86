package infra

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// SlapdADSchema is an AD-like schema for slapd: the attributes the
// directory scan reads, with the matching rules AD gives them.
// msuser.schema from Debian is not usable for equality searches.
const SlapdADSchema = `# AD-like schema for sfbex_exporter tests (private OIDs)
attributetype ( 1.3.6.1.4.1.55555.1.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.2 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.3 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.4 NAME 'proxyAddresses' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.55555.1.5 NAME 'msRTCSIP-PrimaryUserAddress' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.6 NAME 'msRTCSIP-UserEnabled' EQUALITY booleanMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.7 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.2.1 NAME 'user' SUP organizationalPerson STRUCTURAL
	MAY ( sAMAccountName $ userPrincipalName $ userAccountControl $ proxyAddresses $ mail $ msRTCSIP-PrimaryUserAddress $ msRTCSIP-UserEnabled ) )
`

// SlapdOptions configures StartSlapd.
type SlapdOptions struct {
	// Suffix is the database's DN, e.g. "DC=contoso,DC=test".
	Suffix string
	// LDIF is loaded with slapadd before the server starts; it must hold
	// the suffix entry.
	LDIF string
	// CertFile and KeyFile (PEM) enable StartTLS and an ldaps:// listener.
	CertFile, KeyFile string
}

// Slapd is an OpenLDAP slapd on 127.0.0.1 with the AD-like schema and AD's
// paging limits (size.pr=1000, size.prtotal=unlimited). Start it with
// StartSlapd.
type Slapd struct {
	// URL is ldap://127.0.0.1:<port>; LDAPSURL is ldaps://… when TLS is on.
	URL, LDAPSURL string
	Dir           string

	t       testing.TB
	mu      sync.Mutex
	proc    *process
	logPath string
	args    []string
	slapd   string
}

const slapdStopGrace = 10 * time.Second

// StartSlapd writes slapd.conf and the schema into a t.TempDir(), loads
// opts.LDIF with slapadd and starts slapd in the foreground on free
// 127.0.0.1 ports; it waits (up to 10 s) until it accepts connections. A
// t.Cleanup stops it by PID. Requires slapd and slapadd (see Require).
func StartSlapd(t testing.TB, opts SlapdOptions) *Slapd {
	t.Helper()
	Require(t, "slapd", "slapadd")
	s := &Slapd{t: t, Dir: t.TempDir()}
	s.slapd, _ = LookPath("slapd")
	slapadd, _ := LookPath("slapadd")
	s.logPath = filepath.Join(s.Dir, "slapd.log")
	if err := os.Mkdir(filepath.Join(s.Dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(s.Dir, "ad.schema"), SlapdADSchema)
	var tlsConf string
	if opts.CertFile != "" {
		tlsConf = fmt.Sprintf("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", opts.CertFile, opts.KeyFile)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include %[1]s/ad.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
%[2]s
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
database mdb
maxsize 1073741824
suffix "%[3]s"
rootdn "CN=admin,%[3]s"
directory %[1]s/db
sizelimit size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited
`, s.Dir, tlsConf, opts.Suffix)
	confPath := filepath.Join(s.Dir, "slapd.conf")
	writeFile(t, confPath, conf)
	ldif := filepath.Join(s.Dir, "load.ldif")
	writeFile(t, ldif, opts.LDIF)
	if out, err := exec.Command(slapadd, "-q", "-f", confPath, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	logOnFailure(t, "slapd", s.logPath)
	t.Cleanup(s.Stop)
	err := StartOnFreePorts(t, "slapd", 3, func() (string, error) {
		port := FreePort(t)
		s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
		hosts := s.URL + "/"
		if opts.CertFile != "" {
			s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", FreePort(t))
			hosts += " " + s.LDAPSURL + "/"
		}
		// Debug level "none" (32768): in the foreground, and only the
		// messages slapd always logs, such as a port already in use.
		s.args = []string{"-f", confPath, "-h", hosts, "-d", "32768"}
		logStart := fileSize(s.logPath)
		if err := s.start(); err != nil {
			return readLogFrom(s.logPath, logStart), err
		}
		return "", nil
	})
	if err != nil {
		t.Fatalf("StartSlapd: %v", err)
	}
	return s
}

// answersLDAP tells whether an LDAP server answers an anonymous bind at url
// (with any LDAP result): a connection alone may reach another program
// that took the port.
func answersLDAP(url string) bool {
	c, err := ldap.DialURL(url, ldap.DialWithDialer(&net.Dialer{Timeout: 200 * time.Millisecond}))
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetTimeout(time.Second)
	err = c.UnauthenticatedBind("")
	var le *ldap.Error
	return err == nil || errors.As(err, &le) && le.ResultCode < ldap.ErrorNetwork
}

func (s *Slapd) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := startProcess("slapd", s.logPath, s.Dir, filterEnv(os.Environ()), s.slapd, s.args...)
	if err != nil {
		return err
	}
	s.proc = p
	addr := strings.TrimPrefix(s.URL, "ldap://")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if answersLDAP(s.URL) {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("slapd exited before it was ready (%v); see its output", p.waitErr)
		}
		if time.Now().After(deadline) {
			p.stop(slapdStopGrace)
			return fmt.Errorf("slapd not ready on %s after 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops slapd by its PID (SIGTERM, SIGKILL after 10 s). Idempotent.
func (s *Slapd) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && s.proc.stop(slapdStopGrace) {
		s.t.Logf("slapd (pid %d) ignored SIGTERM and was killed", s.proc.pid())
	}
}

// Restart starts slapd again, on the same ports with the same data, after
// Stop or Kill: a domain controller coming back.
func (s *Slapd) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("restarting slapd: %v", err)
	}
}

// Kill stops slapd at once (SIGKILL), as a crashing server.
func (s *Slapd) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.stop(0)
	}
}

// PID of the running slapd, 0 if none.
func (s *Slapd) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.pid()
}
