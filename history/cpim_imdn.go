package history

import (
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"

	"mimichat/content"
)

// RFC 5438 IMDN notifications (message/imdn+xml) as MIMI status reports: a
// delivery notification "delivered" is a delivery receipt, a display
// notification "displayed" a read receipt, and "error" in either an error
// status, of the message it names (by its imdn.Message-ID, as the
// original's own ID was derived).
//
// The document is walked element by element rather than unmarshalled into a
// struct, because encoding/xml drops elements a struct has no field for
// without a word, and RFC 5438 §9 lets senders add extension elements (any
// other namespace) to imdn and to status, plus the optional recipient-uri,
// original-recipient-uri and subject. Every element and attribute the model
// cannot hold is reported by its path (imdn/recipient-uri); a notification
// no MIMI status says (processing-notification, failed, forbidden, stored…)
// is dropped and reported by the path of its status.

// imdnNS is the namespace of RFC 5438's XML format; elements in no
// namespace are taken as its own too (lenient with senders that leave out
// xmlns).
const imdnXMLNS = "urn:ietf:params:xml:ns:imdn"

const imdnNotCarried = "IMDN elements mimichat does not know (not carried)"

// imdnStatuses maps (notification element, status element) to the MIMI
// status it is. Pairs not here are IMDN statuses MIMI has no word for.
var imdnStatuses = map[[2]string]content.Status{
	{"delivery-notification", "delivered"}: content.StatusDelivered,
	{"delivery-notification", "error"}:     content.StatusError,
	{"display-notification", "displayed"}:  content.StatusRead,
	{"display-notification", "error"}:      content.StatusError,
}

// imdnStatusNames are the status elements RFC 5438 §9 defines per
// notification type.
var imdnStatusNames = map[string][]string{
	"delivery-notification":   {"delivered", "failed", "forbidden", "error"},
	"display-notification":    {"displayed", "forbidden", "error"},
	"processing-notification": {"processed", "stored", "forbidden", "error"},
}

// imdnParse is what the walk found.
type imdnParse struct {
	messageID    string
	notification string // "" until the first notification element
	status       string // its status value, "" if none
	statusPath   string
	seen         map[string]bool // elements under imdn and status elements met
	lost         []string        // paths of what is not carried
}

func (cr *cpimReader) imdn(data []byte, p *content.NestedPart, no int) error {
	d, err := parseIMDN(data)
	if err != nil {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "message/imdn+xml: not an IMDN document", Err: err}
	}
	for _, path := range d.lost {
		cr.report.Drop("IMDN "+path+": "+imdnNotCarried, 1)
	}
	id := strings.TrimSpace(d.messageID)
	if id == "" {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "message/imdn+xml: no message-id"}
	}
	st, ok := imdnStatuses[[2]string{d.notification, d.status}]
	if !ok {
		switch {
		case d.notification == "":
			cr.report.Drop("IMDN imdn: no notification element (message dropped)", 1)
		case d.status == "":
			cr.report.Drop("IMDN imdn/"+d.notification+": no status (message dropped)", 1)
		default:
			cr.report.Drop("IMDN "+d.statusPath+": no MIMI status says it (message dropped)", 1)
		}
		*p = content.NestedPart{Cardinality: content.NullPart}
		return errSkipMessage
	}
	sb, err := content.StatusBody(content.StatusReport{{ID: cpimID(id), Status: st}})
	if err != nil {
		return err
	}
	*p = sb
	return nil
}

// parseIMDN walks an IMDN document. Known elements are those of RFC 5438
// §9 that the model holds: message-id, datetime (the original message's
// time, only there to correlate: the named message carries it), one
// notification element with its status. Everything else is listed in lost.
func parseIMDN(data []byte) (*imdnParse, error) {
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	d := &imdnParse{seen: map[string]bool{}}
	var path []string // local names of the open elements
	var text *strings.Builder
	root := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := imdnName(t.Name)
			at := strings.Join(append(path, name), "/")
			if !imdnKnown(d, path, name) {
				d.lost = append(d.lost, at)
				if err := dec.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				d.lost = append(d.lost, at+"/@"+imdnName(a.Name))
			}
			path = append(path, name)
			switch len(path) {
			case 1:
				if root {
					return nil, errors.New("more than one root element")
				}
				root = true
			case 2:
				if strings.HasSuffix(name, "-notification") {
					d.notification = name
				}
			case 4:
				d.status, d.statusPath = name, at
			}
			if len(path) == 2 && (name == "message-id" || name == "datetime") {
				text = &strings.Builder{}
			}
		case xml.EndElement:
			if len(path) == 2 && path[1] == "message-id" && text != nil {
				d.messageID = text.String()
			}
			if len(path) == 2 {
				text = nil
			}
			path = path[:len(path)-1]
		case xml.CharData:
			switch {
			case text != nil:
				text.Write(t)
			case len(path) > 0 && strings.TrimSpace(string(t)) != "":
				d.lost = append(d.lost, strings.Join(path, "/")+"/text()")
			}
		}
	}
	if !root {
		return nil, errors.New("no imdn element")
	}
	return d, nil
}

// imdnName is an element's or attribute's name in a report path: its local
// name in the IMDN namespace (or none), else {namespace}local.
func imdnName(n xml.Name) string {
	if n.Space == "" || n.Space == imdnXMLNS {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// imdnKnown reports whether the element name under the open elements path
// is one the model holds.
func imdnKnown(d *imdnParse, path []string, name string) bool {
	switch len(path) {
	case 0:
		return name == "imdn"
	case 1:
		// One of each; a second message-id, datetime or notification is not
		// carried.
		_, isNotification := imdnStatusNames[name]
		known := name == "message-id" || name == "datetime" || isNotification && d.notification == ""
		if !known || d.seen[name] {
			return false
		}
		d.seen[name] = true
		return true
	case 2:
		if name != "status" || d.seen["status"] {
			return false
		}
		d.seen["status"] = true
		return true
	case 3:
		return path[2] == "status" && d.status == "" && slices.Contains(imdnStatusNames[path[1]], name)
	}
	return false
}

// errSkipMessage tells message that its body was dropped (and reported).
var errSkipMessage = errors.New("message dropped")
