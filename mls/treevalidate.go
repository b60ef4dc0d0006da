package mls

import "fmt"

// Ratchet tree and leaf node validation (RFC 9420 §7.3, §7.9.2, §12.4.3.1).

// defaultExtensions and defaultProposals need not be listed in capabilities (§7.2).
func isDefaultProposal(t uint16) bool { return t >= ProposalAdd && t <= ProposalGroupContextExtensions }
func isDefaultExtension(t uint16) bool {
	return t >= extApplicationID && t <= extExternalSenders
}

// validateLeafCapabilities checks a leaf supports the group's suite and required capabilities,
// and lists the extensions it carries.
func validateLeafCapabilities(l *LeafNode, cs CipherSuite, groupExts []Extension) error {
	if !containsU16(l.Capabilities.Versions, mls10) {
		return fmt.Errorf("%w: leaf does not support mls10", ErrInvalidLeaf)
	}
	if !containsU16(l.Capabilities.CipherSuites, uint16(cs)) {
		return fmt.Errorf("%w: leaf does not support cipher suite %s", ErrInvalidLeaf, cs)
	}
	if !containsU16(l.Capabilities.Credentials, l.Credential.Type) {
		return fmt.Errorf("%w: leaf does not list its own credential type %d", ErrInvalidLeaf, l.Credential.Type)
	}
	for _, e := range l.Extensions {
		if !isDefaultExtension(e.Type) && !containsU16(l.Capabilities.Extensions, e.Type) {
			return fmt.Errorf("%w: leaf extension %d not in its capabilities", ErrInvalidLeaf, e.Type)
		}
	}
	if data, ok := findExtension(groupExts, extRequiredCapabilities); ok {
		var rc Capabilities
		if err := decodeAll(data, "required_capabilities", func(r *reader) {
			rc.Extensions = decodeU16s(r, "required_capabilities.extension_types")
			rc.Proposals = decodeU16s(r, "required_capabilities.proposal_types")
			rc.Credentials = decodeU16s(r, "required_capabilities.credential_types")
		}); err != nil {
			return err
		}
		for _, e := range rc.Extensions {
			if !isDefaultExtension(e) && !containsU16(l.Capabilities.Extensions, e) {
				return fmt.Errorf("%w: leaf lacks required extension %d", ErrInvalidLeaf, e)
			}
		}
		for _, p := range rc.Proposals {
			if !isDefaultProposal(p) && !containsU16(l.Capabilities.Proposals, p) {
				return fmt.Errorf("%w: leaf lacks required proposal %d", ErrInvalidLeaf, p)
			}
		}
		for _, c := range rc.Credentials {
			if !containsU16(l.Capabilities.Credentials, c) {
				return fmt.Errorf("%w: leaf lacks required credential %d", ErrInvalidLeaf, c)
			}
		}
	}
	return nil
}

// validateTree checks a tree received from others: structure, parent hashes,
// leaf signatures and capabilities, and key uniqueness.
func (t *ratchetTree) validate(s *suite, groupID []byte, groupExts []Extension) error {
	n := t.leaves()
	if n&(n-1) != 0 {
		return &TreeError{Node: t.width, Rule: "leaf count is not a power of two"}
	}
	if err := t.verifyParentHashes(s); err != nil {
		return err
	}
	encKeys := map[string]uint32{}
	sigKeys := map[string]uint32{}
	credTypes := map[uint16]bool{}
	for x := uint32(0); x < t.width; x++ {
		node := t.node(x)
		if node == nil {
			continue
		}
		k := string(node.encryptionKey())
		if prev, dup := encKeys[k]; dup {
			return &TreeError{Node: x, Rule: "encryption key duplicates node " + itoa(prev)}
		}
		encKeys[k] = x
		if node.Parent != nil {
			for _, u := range node.Parent.UnmergedLeaves {
				ux := leafNode(u)
				if ux >= t.width || !isInSubtree(ux, x) || t.node(ux) == nil {
					return &TreeError{Node: x, Rule: "unmerged leaf " + itoa(u) + " is not a member below this node"}
				}
				// Every non-blank parent between the leaf and x must list it too.
				for _, p := range directPath(ux, n) {
					if p == x {
						break
					}
					if pn := t.parent(p); pn != nil && !containsU32(pn.UnmergedLeaves, u) {
						return &TreeError{Node: p, Rule: "unmerged leaf " + itoa(u) + " missing below node " + itoa(x)}
					}
				}
			}
			continue
		}
		l := node.Leaf
		if prev, dup := sigKeys[string(l.SignatureKey)]; dup {
			return &TreeError{Node: x, Rule: "signature key duplicates node " + itoa(prev)}
		}
		sigKeys[string(l.SignatureKey)] = x
		if err := l.verify(s, groupID, x/2); err != nil {
			return &TreeError{Node: x, Rule: "leaf signature: " + err.Error()}
		}
		if err := validateLeafCapabilities(l, s.id, groupExts); err != nil {
			return &TreeError{Node: x, Rule: err.Error()}
		}
		credTypes[l.Credential.Type] = true
	}
	for i := uint32(0); i < n; i++ {
		if l := t.leaf(i); l != nil {
			for c := range credTypes {
				if !containsU16(l.Capabilities.Credentials, c) {
					return &TreeError{Node: 2 * i, Rule: "leaf does not support credential type " + itoa(uint32(c)) + " in use"}
				}
			}
		}
	}
	return nil
}

func containsU32(vs []uint32, v uint32) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}
