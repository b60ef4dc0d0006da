package mls

import "testing"

// roundTrip decodes b with dec, re-encodes with enc and compares.
func roundTrip(t *testing.T, name string, b []byte, dec func(r *reader), enc func(w *writer)) {
	t.Helper()
	if err := decodeAll(b, name, dec); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	var w writer
	enc(&w)
	eqHex(t, name+" re-encoded", w.b, b)
}

func TestVectorMessages(t *testing.T) {
	var vs []map[string]hexBytes
	loadVectors(t, "messages.json", &vs)
	c := newTally(t)
	for _, v := range vs {
		c.checked++
		for _, name := range []string{"mls_welcome", "mls_group_info", "mls_key_package", "public_message_application",
			"public_message_proposal", "public_message_commit", "private_message"} {
			var m Message
			roundTrip(t, name, v[name], m.decode, m.encode)
		}
		var tree *ratchetTree
		roundTrip(t, "ratchet_tree", v["ratchet_tree"], func(r *reader) { tree = decodeRatchetTree(r) },
			func(w *writer) { tree.encode(w) })
		var gs GroupSecrets
		roundTrip(t, "group_secrets", v["group_secrets"], gs.decode, gs.encode)
		var c Commit
		roundTrip(t, "commit", v["commit"], c.decode, c.encode)
		proposals := map[string]uint16{"add_proposal": ProposalAdd, "update_proposal": ProposalUpdate,
			"remove_proposal": ProposalRemove, "pre_shared_key_proposal": ProposalPSK, "re_init_proposal": ProposalReInit,
			"external_init_proposal": ProposalExternalInit, "group_context_extensions_proposal": ProposalGroupContextExtensions}
		for name, typ := range proposals {
			// The vectors hold the proposal bodies without the type field.
			var w writer
			w.u16(typ)
			w.raw(v[name])
			var p Proposal
			roundTrip(t, name, w.b, p.decode, p.encode)
		}
	}
}
