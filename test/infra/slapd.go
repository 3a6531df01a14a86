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
	"syscall"
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
	// Global holds extra slapd.conf directives for the global section,
	// e.g. "disallow bind_anon", "require authc", "security simple_bind=128".
	Global string
}

// Slapd is an OpenLDAP slapd on 127.0.0.1 with the AD-like schema and AD's
// paging limits (size.pr=1000, size.prtotal=unlimited). Start it with
// StartSlapd.
//
// Like a domain controller it shows its root DSE to anyone, and it accepts
// SASL NTLM binds where Cyrus SASL's NTLM plugin is installed (Debian:
// libsasl2-modules; see RequireSASLNTLM): the NTLM user name is the cn of
// an entry directly under the suffix, whose cleartext userPassword slapd
// hands to the plugin (sasl-auxprops default: slapd's own entries).
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
authz-regexp "^uid=([^,]+)(,cn=[^,]+)?,cn=ntlm,cn=auth$" "CN=$1,%[3]s"
%[4]s
access to dn.base="" by * read
access to attrs=userPassword by anonymous auth by * none
access to * by users read by anonymous auth by * none
database mdb
maxsize 1073741824
suffix "%[3]s"
rootdn "CN=admin,%[3]s"
directory %[1]s/db
sizelimit size.soft=1000 size.hard=1000 size.pr=1000 size.prtotal=unlimited
`, s.Dir, tlsConf, opts.Suffix, opts.Global)
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

// Pause stops slapd with SIGSTOP, by PID: it keeps its socket, so
// connections are accepted by the kernel and never answered, as a hung
// domain controller. A t.Cleanup resumes it, so that Stop works.
func (s *Slapd) Pause(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		t.Fatal("Pause: slapd is not running")
	}
	if err := s.proc.signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	t.Cleanup(s.Resume)
}

// Resume continues slapd after Pause (SIGCONT, by PID). Idempotent.
func (s *Slapd) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil && !s.proc.exited() {
		_ = s.proc.signal(syscall.SIGCONT)
	}
}

// RequireSASLNTLM skips the test (fails it with CI=true) when Cyrus SASL's
// NTLM plugin, which slapd needs for SASL NTLM binds, is not installed.
func RequireSASLNTLM(t testing.TB) {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/*/sasl2/libntlm.so*")
	more, _ := filepath.Glob("/usr/lib/sasl2/libntlm.so*")
	if len(found)+len(more) > 0 {
		return
	}
	msg := "missing Cyrus SASL's NTLM plugin libntlm.so (Debian: libsasl2-modules); run scripts/test.sh as root to install it, or apt-get install --no-install-recommends libsasl2-modules"
	if InCI() {
		t.Fatalf("CI=true: %s", msg)
	}
	t.Skip(msg)
}
