package mls

import "fmt"

// Stateless inspection of MLSMessages for a relay that routes them: the
// cleartext header of group messages, and whom a Welcome is for.

// MessageHeader is the cleartext part of a group message.
type MessageHeader struct {
	WireFormat  uint16
	GroupID     []byte
	Epoch       uint64
	ContentType uint8
	Sender      *Sender // PublicMessage only; a PrivateMessage's sender is encrypted
}

// PeekMessage parses msg and returns its header without verifying anything.
// Welcome, GroupInfo and KeyPackage messages have no group header: ErrWireFormat.
func PeekMessage(msg []byte) (*MessageHeader, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	switch m.WireFormat {
	case WirePublicMessage:
		c := &m.Public.Content
		snd := c.Sender
		return &MessageHeader{WireFormat: m.WireFormat, GroupID: c.GroupID, Epoch: c.Epoch, ContentType: c.ContentType, Sender: &snd}, nil
	case WirePrivateMessage:
		p := m.Private
		return &MessageHeader{WireFormat: m.WireFormat, GroupID: p.GroupID, Epoch: p.Epoch, ContentType: p.ContentType}, nil
	}
	return nil, fmt.Errorf("%w: wire format %d has no group header", ErrWireFormat, m.WireFormat)
}

// WelcomeRecipients lists the KeyPackageRefs a Welcome is encrypted to, so
// the relay can deliver it to the devices whose key packages those are (see
// KeyPackageInfo.Ref).
func WelcomeRecipients(welcome []byte) ([][]byte, error) {
	m, err := ParseMessage(welcome)
	if err != nil {
		return nil, err
	}
	if m.Welcome == nil {
		return nil, fmt.Errorf("%w: wire format %d, want welcome", ErrWireFormat, m.WireFormat)
	}
	var out [][]byte
	for _, s := range m.Welcome.Secrets {
		out = append(out, clone(s.NewMember))
	}
	return out, nil
}
