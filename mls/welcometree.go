package mls

// ExtensionWelcomeTreeApart is a private-use extension type (RFC 9420
// §17.3, 0xF000–0xFFFF) that a leaf lists in its capabilities to say its
// client joins from a Welcome without the ratchet_tree extension: it gets
// the tree of the Welcome's epoch out of band (mimichat protocol version 8:
// from the relay, beside the stored Welcome) and checks it against the
// tree hash of the GroupContext inside the Welcome (RFC 9420 §12.4.3.3).
// No extension of this type is ever sent; only the capability is.
const ExtensionWelcomeTreeApart uint16 = 0xF0A7

// takeTreeApart reports whether every joiner's leaf lists
// ExtensionWelcomeTreeApart.
func takeTreeApart(kps []*KeyPackage) bool {
	for _, kp := range kps {
		if !containsU16(kp.LeafNode.Capabilities.Extensions, ExtensionWelcomeTreeApart) {
			return false
		}
	}
	return len(kps) > 0
}
