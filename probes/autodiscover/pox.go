package autodiscover

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// POX ("plain old XML") autodiscover, MS-OXDSCLI. The namespaces on the
// wire use http:// even where documents print https://.
const (
	poxRequestSchema  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	poxResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// POXRequest is the body Outlook posts to autodiscover.xml for mailbox.
func POXRequest(mailbox string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` +
		`<Autodiscover xmlns="` + poxRequestSchema + `"><Request>` +
		`<EMailAddress>` + escape(mailbox) + `</EMailAddress>` +
		`<AcceptableResponseSchema>` + poxResponseSchema + `</AcceptableResponseSchema>` +
		`</Request></Autodiscover>`)
}

// POXResponse is what the agent takes from a POX answer. It keeps no
// personal data: the display name, legacy DN and addresses are dropped.
type POXResponse struct {
	// Action is "settings", "redirectUrl" or "redirectAddr".
	Action      string `json:"action,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	// RedirectAddr: the answer sends the client to another address (which
	// is not kept).
	RedirectAddr bool `json:"redirect_addr,omitempty"`
	// Protocols are the Account's direct Protocol children, by type.
	Protocols []POXProtocol `json:"protocols,omitempty"`
	// ErrorCode and ErrorMessage come from an <Error> answer.
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// POXProtocol is one Protocol element of the Account.
type POXProtocol struct {
	Type          string `json:"type"` // EXCH (internal), EXPR (external), WEB, …
	EwsURL        string `json:"ews_url,omitempty"`
	ServerVersion string `json:"server_version,omitempty"` // hex, e.g. 73C18880
}

// EWS returns the EWS URL of the protocol of type typ (EXCH or EXPR).
func (r *POXResponse) EWS(typ string) string {
	for _, p := range r.Protocols {
		if strings.EqualFold(p.Type, typ) && p.EwsURL != "" {
			return p.EwsURL
		}
	}
	return ""
}

// ExchangeVersion decodes the EXCH protocol's ServerVersion ("15.1") or
// returns "".
func (r *POXResponse) ExchangeVersion() string {
	for _, p := range r.Protocols {
		if v, err := strconv.ParseUint(p.ServerVersion, 16, 32); err == nil && p.ServerVersion != "" {
			// MS-OXDSCLI: 4 bits unused, 6 major, 6 minor, 1 flag, 15 build.
			return fmt.Sprintf("%d.%d.%d", v>>22&0x3f, v>>16&0x3f, v&0x7fff)
		}
	}
	return ""
}

// ParsePOX parses a POX autodiscover answer. It accepts any namespace and
// element case, a BOM and UTF-16, and only looks at the Account's direct
// Protocol children (the WEB protocol nests its own).
func ParsePOX(body []byte) (*POXResponse, error) {
	r := &POXResponse{}
	const account = "autodiscover/response/account"
	var cur *POXProtocol
	w := walker{
		start: func(path string, attrs []xml.Attr) {
			if path == account+"/protocol" {
				cur = &POXProtocol{}
				for _, a := range attrs {
					if strings.EqualFold(a.Name.Local, "type") {
						cur.Type = strings.TrimSpace(a.Value)
					}
				}
			}
		},
		end: func(path string) {
			if path == account+"/protocol" && cur != nil {
				if len(r.Protocols) < 16 {
					r.Protocols = append(r.Protocols, *cur)
				}
				cur = nil
			}
		},
		text: func(path, text string) {
			switch path {
			case account + "/action":
				r.Action = text
			case account + "/redirecturl":
				r.RedirectURL = text
			case account + "/redirectaddr":
				r.RedirectAddr = true
			case account + "/protocol/type":
				if cur != nil {
					cur.Type = text
				}
			case account + "/protocol/ewsurl":
				if cur != nil {
					cur.EwsURL = text
				}
			case account + "/protocol/serverversion":
				if cur != nil {
					cur.ServerVersion = text
				}
			case "autodiscover/response/error/errorcode":
				r.ErrorCode = text
			case "autodiscover/response/error/message":
				r.ErrorMessage = clip(text)
			}
		},
	}
	root, err := w.walk(body)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(root, "Autodiscover") {
		return nil, fmt.Errorf("not a POX autodiscover answer: the root element is <%s>", clip(root))
	}
	if strings.EqualFold(r.Action, "redirectAddr") {
		r.RedirectAddr = true
	}
	return r, nil
}

// clip bounds text taken from a server before it reaches the status page.
func clip(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "…"
}
