package ews

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/support"
)

// typesNS is the namespace of EWS's ServerVersionInfo header (Learn
// "ServerVersionInfo": an element of the Types schema whose attributes
// MajorVersion, MinorVersion, MajorBuildNumber and MinorBuildNumber give
// the build of the server that processed the request).
const typesNS = "http://schemas.microsoft.com/exchange/services/2006/types"

// versionRequest asks EWS for one time zone's name: the smallest request
// every mailbox may make, which reads nothing of the mailbox. Its answer,
// like every EWS answer, carries ServerVersionInfo in the SOAP header.
const versionRequest = `<?xml version="1.0" encoding="utf-8"?>` +
	`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="` + typesNS + `" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">` +
	`<soap:Header><t:RequestServerVersion Version="Exchange2013" /></soap:Header>` +
	`<soap:Body><m:GetServerTimeZones ReturnFullTimeZoneData="false"><m:Ids><t:Id>UTC</t:Id></m:Ids></m:GetServerTimeZones></soap:Body>` +
	`</soap:Envelope>`

// versionPrefix bounds what is kept of the answer: the header comes first.
const versionPrefix = 16 << 10

// serverVersion signs in with the probe account and reads the build from
// the answer's ServerVersionInfo header. It returns the build, or why it
// has none (for the check's details; EWS being up is not decided here).
// Exchange Online's build is not ours to judge, and its EWS takes no
// passwords: it is not asked.
func serverVersion(ctx context.Context, cfg Config, ewsURL string) (build, note string) {
	u, err := url.Parse(ewsURL)
	if err != nil || estate.IsOnlineHost(u.Hostname()) {
		return "", ""
	}
	a, body := httpprobe.DoAuthenticated(ctx, cfg.Web, httpprobe.Request{
		Method: http.MethodPost, URL: ewsURL, Body: []byte(versionRequest),
		Header:  http.Header{"Content-Type": {"text/xml; charset=utf-8"}},
		Timeout: cfg.RequestTimeout, MaxBody: cfg.MaxBody, Keep: versionPrefix,
	}, cfg.Credentials)
	if a.Status != http.StatusOK && a.Status != http.StatusInternalServerError {
		// 500 carries a SOAP fault, which has the header too.
		return "", "no ServerVersionInfo: the signed-in request got " + a.Summary()
	}
	b, err := ParseServerVersionInfo(body)
	if err != nil {
		return "", "no ServerVersionInfo: " + err.Error()
	}
	return b, ""
}

// ParseServerVersionInfo reads MajorVersion.MinorVersion.MajorBuildNumber.
// MinorBuildNumber from the ServerVersionInfo element of an EWS answer's
// SOAP header, e.g. "15.2.2562.17". Only the header is read.
func ParseServerVersionInfo(body []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return "", errors.New("the answer has no ServerVersionInfo header")
		}
		if err != nil {
			return "", fmt.Errorf("the answer is not XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "Body" {
			return "", errors.New("the answer's SOAP header has no ServerVersionInfo")
		}
		if se.Name.Local != "ServerVersionInfo" {
			continue
		}
		var parts [4]int
		for i, name := range []string{"MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber"} {
			v, found := attr(se, name)
			if !found {
				return "", fmt.Errorf("ServerVersionInfo has no %s attribute", name)
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return "", fmt.Errorf("ServerVersionInfo %s=%q is not a number", name, v)
			}
			parts[i] = n
		}
		s := fmt.Sprintf("%d.%d.%d.%d", parts[0], parts[1], parts[2], parts[3])
		if _, err := support.Parse(s); err != nil {
			return "", err
		}
		return s, nil
	}
}

func attr(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}
