package history

import (
	"encoding/xml"
	"errors"
	"strings"

	"mimichat/content"
)

// RFC 5438 IMDN notifications (message/imdn+xml) as MIMI status reports: a
// delivery notification "delivered" is a delivery receipt, a display
// notification "displayed" a read receipt of the message it names (by its
// imdn.Message-ID, as the original's own ID was derived).

type imdnDoc struct {
	XMLName   xml.Name   `xml:"imdn"`
	MessageID string     `xml:"message-id"`
	Delivery  *imdnState `xml:"delivery-notification>status"`
	Display   *imdnState `xml:"display-notification>status"`
}

type imdnState struct {
	Delivered *struct{} `xml:"delivered"`
	Displayed *struct{} `xml:"displayed"`
}

func (cr *cpimReader) imdn(data []byte, p *content.NestedPart, no int) error {
	var d imdnDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "message/imdn+xml: not an IMDN document", Err: err}
	}
	id := strings.TrimSpace(d.MessageID)
	if id == "" {
		return &ImportError{Format: FormatCPIM, Line: no, Rule: "message/imdn+xml: no message-id"}
	}
	var st content.Status
	switch {
	case d.Delivery != nil && d.Delivery.Delivered != nil:
		st = content.StatusDelivered
	case d.Display != nil && d.Display.Displayed != nil:
		st = content.StatusRead
	default:
		// failed, forbidden, error, processed, stored: no MIMI status says it.
		cr.report.Drop("IMDN notifications other than delivered and displayed", 1)
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

// errSkipMessage tells message that its body was dropped (and reported).
var errSkipMessage = errors.New("message dropped")
