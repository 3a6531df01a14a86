package infra

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// KamailioOptions configures StartKamailio.
type KamailioOptions struct {
	// CertFile and KeyFile are the server's PEM certificate and key.
	CertFile, KeyFile string
	// ClientCAFile, when set, makes Kamailio demand a client certificate
	// issued by one of its CAs (mutual TLS, as an Access Edge's federation
	// port does); without one it refuses the TLS session.
	ClientCAFile string
	// Server is the Server header of its answers (default RTC/7.0).
	Server string
}

// Kamailio is a Kamailio SIP server (Debian's kamailio and
// kamailio-tls-modules) on 127.0.0.1 that answers OPTIONS over TLS with
// 200 OK and every other request with 403. Start it with StartKamailio.
type Kamailio struct {
	// Addr is 127.0.0.1:<port>, its TLS listener.
	Addr string
	Dir  string

	t       testing.TB
	mu      sync.Mutex
	proc    *process
	logPath string
	bin     string
	args    []string
}

const kamailioStopGrace = 10 * time.Second

// kamailioModules is where Debian installs Kamailio's modules.
func kamailioModules() (string, error) {
	m, _ := filepath.Glob("/usr/lib/*/kamailio/modules/tls.so")
	if len(m) == 0 {
		return "", fmt.Errorf("no kamailio/modules/tls.so under /usr/lib")
	}
	return filepath.Dir(m[0]), nil
}

// StartKamailio writes kamailio.cfg and tls.cfg into a t.TempDir() and
// starts Kamailio in the foreground on a free 127.0.0.1 port, retrying on
// another port when the one chosen was taken meanwhile; it waits (up to
// 10 s) until the port accepts connections. A t.Cleanup stops it by PID.
func StartKamailio(t testing.TB, opts KamailioOptions) *Kamailio {
	t.Helper()
	Require(t, "kamailio")
	mods, err := kamailioModules()
	if err != nil {
		if InCI() {
			t.Fatalf("CI=true: %v (Debian: kamailio-tls-modules); run scripts/test.sh as root", err)
		}
		t.Skipf("%v (Debian: kamailio-tls-modules); run scripts/test.sh as root", err)
	}
	k := &Kamailio{t: t, Dir: t.TempDir()}
	k.bin, _ = LookPath("kamailio")
	k.logPath = filepath.Join(k.Dir, "kamailio.log")
	if opts.Server == "" {
		opts.Server = "RTC/7.0"
	}
	verify := "verify_certificate = no\nrequire_certificate = no\n"
	if opts.ClientCAFile != "" {
		verify = "verify_certificate = yes\nrequire_certificate = yes\nca_list = " + opts.ClientCAFile + "\n"
	}
	tlsCfg := filepath.Join(k.Dir, "tls.cfg")
	writeFile(t, tlsCfg, "[server:default]\nmethod = TLSv1.2+\nprivate_key = "+opts.KeyFile+"\ncertificate = "+opts.CertFile+"\n"+verify)
	logOnFailure(t, "kamailio", k.logPath)
	t.Cleanup(k.Stop)
	err = StartOnFreePorts(t, "kamailio", 3, func() (string, error) {
		port := FreePort(t)
		k.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		cfg := filepath.Join(k.Dir, "kamailio.cfg")
		writeFile(t, cfg, fmt.Sprintf(`#!KAMAILIO
log_stderror=yes
children=1
enable_tls=yes
disable_tcp=no
auto_aliases=no
listen=tls:%[1]s
server_header="Server: %[2]s"
mpath="%[3]s/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "textops.so"
modparam("tls", "config", "%[4]s")
request_route {
	if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }
	sl_send_reply("403", "Forbidden");
}
`, k.Addr, opts.Server, mods, tlsCfg))
		k.args = []string{"-f", cfg, "-DD", "-E", "-P", filepath.Join(k.Dir, "kamailio.pid"), "-Y", k.Dir}
		logStart := fileSize(k.logPath)
		err := k.start()
		return readLogFrom(k.logPath, logStart), err
	})
	if err != nil {
		t.Fatalf("StartKamailio: %v", err)
	}
	return k
}

func (k *Kamailio) start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := startProcess("kamailio", k.logPath, k.Dir, filterEnv(os.Environ()), k.bin, k.args...)
	if err != nil {
		return err
	}
	k.proc = p
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A TLS handshake, not just a TCP accept: if another program took
		// the port, Kamailio exits and that program answers the connect.
		// A TLS alert (a client certificate demanded) is Kamailio too.
		d := &net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := tls.DialWithDialer(d, "tcp4", k.Addr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			c.Close()
		}
		var alert tls.AlertError
		if (err == nil || errors.As(err, &alert)) && !p.exited() {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("kamailio exited before it was ready (%v); see its output", p.waitErr)
		}
		if time.Now().After(deadline) {
			p.stop(kamailioStopGrace)
			return fmt.Errorf("kamailio not ready on %s after 10s", k.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops Kamailio by its PID (SIGTERM, SIGKILL after 10 s) and waits
// for it to exit. Idempotent.
func (k *Kamailio) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proc != nil && k.proc.stop(kamailioStopGrace) {
		k.t.Logf("kamailio (pid %d) ignored SIGTERM and was killed", k.proc.pid())
	}
}

// Restart starts Kamailio again on the same port after Stop.
func (k *Kamailio) Restart(t testing.TB) {
	t.Helper()
	if err := k.start(); err != nil {
		t.Fatalf("restarting kamailio: %v", err)
	}
}

// PID of the running Kamailio, 0 if none.
func (k *Kamailio) PID() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proc == nil {
		return 0
	}
	return k.proc.pid()
}
