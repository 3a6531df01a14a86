package autodiscover

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// SOAP autodiscover (MS-OXWSADISC), the service Skype for Business Server
// asks (its ExchangeAutodiscoverUrl points at autodiscover.svc, seed 003).
const (
	soapNS     = "http://schemas.microsoft.com/exchange/2010/Autodiscover"
	soapAction = soapNS + "/Autodiscover/GetUserSettings"
)

// SOAPRequest is a GetUserSettings request for the two EWS URLs of mailbox,
// addressed to url.
func SOAPRequest(url, mailbox string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:a="` + soapNS + `" xmlns:wsa="http://www.w3.org/2005/08/addressing" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soap:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion>` +
		`<wsa:Action>` + soapAction + `</wsa:Action><wsa:To>` + escape(url) + `</wsa:To></soap:Header>` +
		`<soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User>` +
		`<a:Mailbox>` + escape(mailbox) + `</a:Mailbox></a:User></a:Users>` +
		`<a:RequestedSettings><a:Setting>InternalEwsUrl</a:Setting><a:Setting>ExternalEwsUrl</a:Setting></a:RequestedSettings>` +
		`</a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>`)
}

// SOAPResponse is what the agent takes from a GetUserSettings answer.
type SOAPResponse struct {
	// ErrorCode is the request's ("NoError" when fine); UserErrorCode the
	// probe mailbox's ("NoError", "RedirectUrl", "InvalidUser", …).
	ErrorCode        string `json:"error_code,omitempty"`
	ErrorMessage     string `json:"error_message,omitempty"`
	UserErrorCode    string `json:"user_error_code,omitempty"`
	UserErrorMessage string `json:"user_error_message,omitempty"`
	// RedirectTarget is a URL for RedirectUrl; for RedirectAddress it is an
	// address and is not kept.
	RedirectTarget  string `json:"redirect_target,omitempty"`
	InternalEwsURL  string `json:"internal_ews_url,omitempty"`
	ExternalEwsURL  string `json:"external_ews_url,omitempty"`
	ExchangeVersion string `json:"exchange_version,omitempty"` // "15.1.2507" from ServerVersionInfo
	Fault           string `json:"fault,omitempty"`            // a SOAP fault's faultstring
}

// Failed returns the error code that makes the answer useless, or "".
func (r *SOAPResponse) Failed() string {
	switch {
	case r.Fault != "":
		return "SOAP fault"
	case r.ErrorCode != "" && !strings.EqualFold(r.ErrorCode, "NoError"):
		return r.ErrorCode
	case r.UserErrorCode != "" && !strings.EqualFold(r.UserErrorCode, "NoError"):
		return r.UserErrorCode
	}
	return ""
}

// ParseSOAP parses a GetUserSettings answer (any namespace prefix or case,
// BOM, UTF-16).
func ParseSOAP(body []byte) (*SOAPResponse, error) {
	r := &SOAPResponse{}
	const resp = "envelope/body/getusersettingsresponsemessage/response"
	const user = resp + "/userresponses/userresponse"
	var name, value string
	var version [4]string
	w := walker{
		start: func(path string, _ []xml.Attr) {
			if path == user+"/usersettings/usersetting" {
				name, value = "", ""
			}
		},
		end: func(path string) {
			if path != user+"/usersettings/usersetting" {
				return
			}
			switch strings.ToLower(name) {
			case "internalewsurl":
				r.InternalEwsURL = value
			case "externalewsurl":
				r.ExternalEwsURL = value
			}
		},
		text: func(path, text string) {
			switch path {
			case resp + "/errorcode":
				r.ErrorCode = text
			case resp + "/errormessage":
				r.ErrorMessage = clip(text)
			case user + "/errorcode":
				r.UserErrorCode = text
			case user + "/errormessage":
				r.UserErrorMessage = clip(text)
			case user + "/redirecttarget":
				r.RedirectTarget = text
			case user + "/usersettings/usersetting/name":
				name = text
			case user + "/usersettings/usersetting/value":
				value = text
			case "envelope/body/fault/faultstring":
				r.Fault = clip(text)
			case "envelope/header/serverversioninfo/majorversion":
				version[0] = text
			case "envelope/header/serverversioninfo/minorversion":
				version[1] = text
			case "envelope/header/serverversioninfo/majorbuildnumber":
				version[2] = text
			}
		},
	}
	root, err := w.walk(body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(root, "Envelope") {
		return nil, fmt.Errorf("not a SOAP answer: the root element is <%s>", clip(root))
	}
	if version[0] != "" {
		r.ExchangeVersion = strings.TrimRight(strings.Join(version[:3], "."), ".")
	}
	if strings.EqualFold(r.UserErrorCode, "RedirectAddress") {
		r.RedirectTarget = "" // an address: not kept
	}
	return r, nil
}
