package webclient

import (
	"errors"
	"fmt"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

// Settings are how every HTTPS and TLS probe connects (Options), and the
// schedule and limits the HTTP families (autodiscover, lyncdiscover, EWS)
// share.
type Settings struct {
	Options
	Interval, Timeout time.Duration // of one HTTP family run
	RequestTimeout    time.Duration // of one request within a run
	MaxBody           int64         // bytes read of one answer
}

// Vars are the web client's variables.
type Vars struct {
	CAFile           string        `env:"SFBEX_CA_FILE"`
	ConnectTo        string        `env:"SFBEX_CONNECT_TO"`
	TLSInsecureHosts []string      `env:"SFBEX_TLS_INSECURE_HOSTS"`
	Interval         time.Duration `env:"SFBEX_HTTP_INTERVAL, default=1m"`
	Timeout          time.Duration `env:"SFBEX_HTTP_TIMEOUT, default=30s"`
	RequestTimeout   time.Duration `env:"SFBEX_HTTP_REQUEST_TIMEOUT, default=10s"`
	MaxBodyBytes     int64         `env:"SFBEX_HTTP_MAX_BODY_BYTES, default=1048576"`
	MaxRedirects     int           `env:"SFBEX_HTTP_MAX_REDIRECTS, default=5"`
}

// MaxBodyLimit is the largest SFBEX_HTTP_MAX_BODY_BYTES.
const MaxBodyLimit = 64 << 20

// Load reads the web client's variables from src. userAgent is sent with
// every request.
func Load(src config.Source, userAgent string) (*Settings, error) {
	var v Vars
	if err := config.Load(src, &v); err != nil {
		return nil, err
	}
	s := &Settings{Options: Options{UserAgent: userAgent}}
	if v.CAFile != "" {
		pool, err := LoadCAFile(v.CAFile)
		var cfe *CAFileError
		if errors.As(err, &cfe) {
			return nil, fmt.Errorf("SFBEX_CA_FILE=%q: %v; %s", v.CAFile, err, cfe.Hint)
		}
		if err != nil {
			return nil, fmt.Errorf("SFBEX_CA_FILE=%q: %v; point it at a PEM bundle of the CAs that issued your servers' certificates, e.g. SFBEX_CA_FILE=/etc/ssl/certs/contoso-root.pem", v.CAFile, err)
		}
		s.RootCAs = pool
	}
	ct, err := ParseConnectTo(v.ConnectTo)
	if err != nil {
		return nil, fmt.Errorf("SFBEX_CONNECT_TO: %v; e.g. SFBEX_CONNECT_TO=autodiscover.contoso.com:443=10.0.0.20:443", err)
	}
	s.ConnectTo = ct
	if s.InsecureHosts, err = config.Hosts("SFBEX_TLS_INSECURE_HOSTS", v.TLSInsecureHosts, "mail.contoso.com"); err != nil {
		return nil, err
	}
	if err := config.Schedule("SFBEX_HTTP", v.Interval, v.Timeout); err != nil {
		return nil, err
	}
	if err := config.Positive("SFBEX_HTTP_REQUEST_TIMEOUT", v.RequestTimeout, "10s"); err != nil {
		return nil, err
	}
	if err := config.Within("SFBEX_HTTP_REQUEST_TIMEOUT", v.RequestTimeout, "SFBEX_HTTP_TIMEOUT", v.Timeout, "which bounds a whole run of several requests"); err != nil {
		return nil, err
	}
	if err := config.Range("SFBEX_HTTP_MAX_BODY_BYTES", v.MaxBodyBytes, 4096, MaxBodyLimit, "1048576"); err != nil {
		return nil, err
	}
	if err := config.Range("SFBEX_HTTP_MAX_REDIRECTS", v.MaxRedirects, 1, 20, "5"); err != nil {
		return nil, err
	}
	s.Interval, s.Timeout, s.RequestTimeout = v.Interval, v.Timeout, v.RequestTimeout
	s.MaxBody, s.MaxRedirects = v.MaxBodyBytes, v.MaxRedirects
	return s, nil
}
