package directory

// Why a connection, TLS set-up or bind failed, each cause with its own
// advice: the run's deadline, our per-request timeout, a refused or
// dropped connection, TLS trust or a certificate Go cannot parse, and the
// LDAP result codes servers refuse binds with (AD's data codes included).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"syscall"

	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/probes"
)

// encrypted reports whether the connection is (or is to be) encrypted.
func (p *Prober) encrypted() bool { return p.ldaps || p.cfg.StartTLS }

// dialErr explains a failed TCP connect.
func (p *Prober) dialErr(ctx, dctx context.Context, err error) error {
	var dnsErr *net.DNSError
	switch {
	case ctx.Err() != nil:
		return probes.WithFix(fmt.Errorf("connecting to the directory server %s did not finish before the run's deadline: %v", p.addr, err),
			"The run's deadline (SFBEX_LDAP_TIMEOUT) ended while connecting: check that the domain controller answers on this port, or raise SFBEX_LDAP_TIMEOUT.")
	case errors.Is(err, syscall.ECONNREFUSED):
		return probes.WithFix(fmt.Errorf("the directory server %s refused the connection: nothing listens on that port", p.addr),
			"Check SFBEX_LDAP_URL's host and port (389 for ldap://, 636 for ldaps://) and that the LDAP service runs on the domain controller.")
	case errors.As(err, &dnsErr):
		return probes.WithFix(fmt.Errorf("cannot resolve the directory server's name in %s: %v", p.addr, err),
			"Check the host name in SFBEX_LDAP_URL and the agent host's DNS, or pin it with SFBEX_CONNECT_TO.")
	case dctx.Err() != nil || isTimeout(err):
		return probes.WithFix(fmt.Errorf("the directory server %s did not answer the TCP connection within %s: %v", p.addr, dialTimeout, err),
			"A firewall drops the packets or the host is down: check the route and firewall from the agent to the domain controller on this port.")
	}
	return probes.WithFix(fmt.Errorf("cannot reach the directory server %s: %v", p.addr, err),
		"Check SFBEX_LDAP_URL (host and port: 389 for ldap://, 636 for ldaps://), that the domain controller is up, and that a firewall lets the agent through.")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// phaseErr explains a failure of the connection or of TLS during phase
// (StartTLS, TLS handshake, root DSE read, a bind).
func (p *Prober) phaseErr(ctx context.Context, phase string, err error) error {
	msg := p.cfg.Password.Scrub(err.Error())
	if ctx.Err() != nil {
		return probes.WithFix(fmt.Errorf("the directory server %s did not complete the %s before the run's deadline (%v): %s", p.addr, phase, ctx.Err(), msg),
			"The server accepted the connection and then did not answer: check the domain controller's LDAP service (hung or overloaded; its Directory Service event log). Raise SFBEX_LDAP_TIMEOUT only if it is merely slow. The last complete figures stay, marked stale.")
	}
	if fix, ok := p.tlsFix(err); ok {
		return probes.WithFix(fmt.Errorf("TLS with the directory server %s failed (%s): %s", p.addr, phase, msg), fix)
	}
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode < ldap.ErrorNetwork && phase == "StartTLS" {
		return probes.WithFix(fmt.Errorf("the directory server %s refused StartTLS: %s", p.addr, msg),
			"Configure a certificate on the server (AD: a Domain Controller certificate), use ldaps://, or set SFBEX_LDAP_STARTTLS=false on a trusted network.")
	}
	switch {
	case isTimeout(err):
		return probes.WithFix(fmt.Errorf("the directory server %s did not answer the %s within %s: %s", p.addr, phase, requestTimeout, msg),
			"The server accepted the connection but does not answer: check the domain controller's LDAP service (hung or overloaded).")
	case strings.Contains(msg, "Notice of Disconnection") || strings.Contains(msg, "unsolicited notification"):
		return probes.WithFix(fmt.Errorf("the directory server %s ended the connection during the %s: %s", p.addr, phase, msg),
			"The server said why in the message above: it is shutting down or refuses this client; check the domain controller.")
	case errors.Is(err, errMalformed) || errors.Is(err, errTooLarge):
		return probes.WithFix(fmt.Errorf("the directory server %s answered the %s with something that is not LDAP: %s", p.addr, phase, msg),
			"Check that SFBEX_LDAP_URL points at an LDAP port: 389 (ldap://) or 636 (ldaps://, which needs TLS from the start).")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		fix := "The server dropped the connection: check that the domain controller is up and its LDAP service healthy, and that SFBEX_LDAP_URL's port speaks LDAP (636 needs ldaps://)."
		if !p.encrypted() && strings.Contains(phase, "bind") {
			fix += " Servers that demand TLS or signing may drop a bind over plain LDAP: try SFBEX_LDAP_STARTTLS=true or ldaps://."
		}
		return probes.WithFix(fmt.Errorf("the directory server %s closed the connection during the %s: %s", p.addr, phase, msg), fix+" The last complete figures stay, marked stale.")
	}
	return probes.WithFix(fmt.Errorf("the connection to the directory server %s failed during the %s: %s", p.addr, phase, msg),
		"Check that the domain controller is up and accepts LDAP from the agent (SFBEX_LDAP_URL); the last complete figures stay, marked stale.")
}

// tlsFix gives the advice for a TLS failure, and whether err is one.
// SFBEX_TLS_INSECURE_HOSTS is suggested only where it helps: it skips
// verification, not parsing, so a certificate Go cannot parse fails with it
// too.
func (p *Prober) tlsFix(err error) (string, bool) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to parse certificate from server"):
		fix := "The server's certificate is malformed in a way Go refuses before any verification, so SFBEX_CA_FILE and SFBEX_TLS_INSECURE_HOSTS cannot help. Issue the domain controller a proper certificate (AD: from your enterprise CA)."
		if strings.Contains(msg, "negative serial number") {
			fix = "The server's certificate has a negative serial number (Samba's self-generated certificate does), which Go refuses before any verification, so SFBEX_CA_FILE and SFBEX_TLS_INSECURE_HOSTS cannot help. " +
				"Issue the domain controller a proper certificate (Samba: tls certfile/tls keyfile in smb.conf), or start the agent with GODEBUG=x509negativeserial=1 in its environment, which makes Go accept it; verification then applies as usual (SFBEX_CA_FILE)."
		}
		return fix, true
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		return "Set SFBEX_CA_FILE to the CA that issued the domain controller's certificate, make SFBEX_LDAP_URL use a name the certificate covers, " +
			"or (not recommended) list the host in SFBEX_TLS_INSECURE_HOSTS.", true
	case errors.As(err, &rh):
		return "The server does not speak TLS on this port: use ldap:// (port 389, with StartTLS) or ldaps:// on the port that serves LDAP over TLS (636).", true
	case errors.As(err, &alert):
		return "The server refused the TLS handshake (see its alert): it may require TLS settings the agent does not offer (TLS 1.2 or later), or a client certificate.", true
	}
	return "", false
}

// adDataCode finds AD's (and Samba's) reason in an invalidCredentials
// diagnostic message, e.g. "... AcceptSecurityContext error, data 52e, v4563".
var adDataCode = regexp.MustCompile(`\bdata ([0-9a-fA-F]{3}),`)

var adDataCodes = map[string]string{
	"525": "user not found: check the account name",
	"52e": "wrong password: update SFBEX_LDAP_PASSWORD(_FILE)",
	"530": "not permitted to log on at this time (logon hours)",
	"531": "not permitted to log on from this workstation (userWorkstations)",
	"532": "password expired: set a new password for the service account",
	"533": "account disabled: enable the service account",
	"568": "the account's token has too many group memberships",
	"701": "account expired: extend the service account's expiry date",
	"773": "the password must be changed before first logon: set a new password",
	"775": "account locked out: unlock it, and look for what keeps using an old password",
}

// bindErr explains a failed bind (what: "simple bind", "NTLM bind over …").
func (p *Prober) bindErr(ctx context.Context, what string, err error) error {
	msg := p.cfg.Password.Scrub(err.Error())
	var le *ldap.Error
	if ctx.Err() != nil || !errors.As(err, &le) || le.ResultCode >= ldap.ErrorNetwork {
		if errors.Is(err, errNTLMProtocol) {
			return probes.WithFix(fmt.Errorf("the %s to %s failed: %s", what, p.addr, msg),
				"The server does not answer NTLM as Samba or Windows do; use SFBEX_LDAP_AUTH=simple with StartTLS or ldaps://.")
		}
		return p.phaseErr(ctx, what, err)
	}
	as := fmt.Sprintf("%q", p.cfg.BindDN)
	if p.cfg.BindDN == "" {
		as = "anonymous"
	}
	lead := fmt.Sprintf("the directory server %s refused the %s as %s", p.addr, what, as)
	anonymous := p.cfg.BindDN == "" && !p.cfg.NTLM
	switch le.ResultCode {
	case ldap.LDAPResultInvalidCredentials:
		fix := "Check SFBEX_LDAP_BIND_DN (simple bind: a DN or user@domain; NTLM: DOMAIN\\user) and the password in SFBEX_LDAP_PASSWORD(_FILE)."
		if m := adDataCode.FindStringSubmatch(msg); m != nil {
			if why, ok := adDataCodes[strings.ToLower(m[1])]; ok {
				fix = "AD data code " + strings.ToLower(m[1]) + ": " + why + "."
			}
		}
		return probes.WithFix(fmt.Errorf("%s: invalid credentials (%s)", lead, msg), fix)
	case ldap.LDAPResultConfidentialityRequired:
		return probes.WithFix(fmt.Errorf("%s: the server requires TLS for this bind (%s)", lead, msg),
			"Use StartTLS (SFBEX_LDAP_STARTTLS=true with ldap://) or ldaps://.")
	case ldap.LDAPResultStrongAuthRequired:
		fix := "The server wants the bind protected: use StartTLS (SFBEX_LDAP_STARTTLS=true) or ldaps:// (AD with LDAP signing required accepts simple and NTLM binds over TLS)."
		if p.cfg.NTLM {
			fix = "The server requires NTLM binds to sign or seal the LDAP traffic, which the agent does not do. Over TLS, AD accepts it; " +
				"Samba refuses it by default (\"Sign or Seal are required\"): use a simple bind over StartTLS or ldaps:// (SFBEX_LDAP_AUTH=simple, allowed by Samba's defaults), or set `ldap server require strong auth = allow_sasl_without_tls_channel_bindings` (Samba 4.20 and later; allow_sasl_over_tls before) and use TLS."
			if !p.encrypted() {
				fix = "Use StartTLS (SFBEX_LDAP_STARTTLS=true) or ldaps://. " + fix
			}
		}
		return probes.WithFix(fmt.Errorf("%s: stronger authentication required (%s)", lead, msg), fix)
	case ldap.LDAPResultInappropriateAuthentication:
		fix := "The server does not accept this kind of bind for this account."
		switch {
		case anonymous:
			fix = "The server refuses anonymous binds: set SFBEX_LDAP_BIND_DN and SFBEX_LDAP_PASSWORD(_FILE) to a read-only service account."
		case p.cfg.NTLM:
			fix = "The server finds an NTLM bind without signing too weak on this connection: use StartTLS (SFBEX_LDAP_STARTTLS=true) or ldaps://, or SFBEX_LDAP_AUTH=simple over TLS."
		}
		return probes.WithFix(fmt.Errorf("%s: inappropriate authentication (%s)", lead, msg), fix)
	case ldap.LDAPResultUnwillingToPerform:
		fix := "The server refuses this kind of bind: check its policy for simple binds, or use SFBEX_LDAP_AUTH=ntlm."
		if anonymous {
			fix = "The server refuses anonymous (or unauthenticated) binds: set SFBEX_LDAP_BIND_DN and SFBEX_LDAP_PASSWORD(_FILE) to a read-only service account."
		}
		return probes.WithFix(fmt.Errorf("%s: unwilling to perform (%s)", lead, msg), fix)
	case ldap.LDAPResultAuthMethodNotSupported:
		return probes.WithFix(fmt.Errorf("%s: authentication method not supported (%s)", lead, msg),
			"Use the other SFBEX_LDAP_AUTH (simple or ntlm) with StartTLS or ldaps://.")
	}
	return probes.WithFix(fmt.Errorf("%s: %s", lead, msg),
		"Check SFBEX_LDAP_BIND_DN and the service account; the LDAP result code above says what the server objects to.")
}
