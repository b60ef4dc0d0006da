package mls

import "testing"

func TestVectorTreeKEM(t *testing.T) {
	var vs []struct {
		CipherSuite   uint16   `json:"cipher_suite"`
		GroupID       hexBytes `json:"group_id"`
		Epoch         uint64   `json:"epoch"`
		Confirmed     hexBytes `json:"confirmed_transcript_hash"`
		RatchetTree   hexBytes `json:"ratchet_tree"`
		LeavesPrivate []struct {
			Index          uint32   `json:"index"`
			EncryptionPriv hexBytes `json:"encryption_priv"`
			SignaturePriv  hexBytes `json:"signature_priv"`
			PathSecrets    []struct {
				Node       uint32   `json:"node"`
				PathSecret hexBytes `json:"path_secret"`
			} `json:"path_secrets"`
		} `json:"leaves_private"`
		UpdatePaths []struct {
			Sender        uint32     `json:"sender"`
			UpdatePath    hexBytes   `json:"update_path"`
			PathSecrets   []hexBytes `json:"path_secrets"`
			CommitSecret  hexBytes   `json:"commit_secret"`
			TreeHashAfter hexBytes   `json:"tree_hash_after"`
		} `json:"update_paths"`
	}
	loadVectors(t, "treekem.json", &vs)
	c := newTally(t)
	for vi, v := range vs {
		s := c.suite(v.CipherSuite)
		if s == nil {
			continue
		}
		c.checked++
		tree, err := parseRatchetTree(v.RatchetTree)
		if err != nil {
			t.Fatalf("%d: %v", vi, err)
		}
		keys := map[uint32]privateKeys{}
		sigs := map[uint32][]byte{}
		for _, lp := range v.LeavesPrivate {
			k := privateKeys{leafNode(lp.Index): lp.EncryptionPriv}
			sigs[lp.Index] = lp.SignaturePriv
			for _, ps := range lp.PathSecrets {
				priv, pub, err := s.nodeKeyPair(ps.PathSecret)
				if err != nil {
					t.Fatal(err)
				}
				if tree.node(ps.Node) == nil || string(tree.node(ps.Node).encryptionKey()) != string(pub) {
					t.Errorf("%d: private state for node %d inconsistent with the tree", vi, ps.Node)
				}
				k[ps.Node] = priv
			}
			if pub, _ := s.hpkePublicFromPrivate(lp.EncryptionPriv); string(pub) != string(tree.leaf(lp.Index).EncryptionKey) {
				t.Errorf("%d: leaf %d private key inconsistent with the tree", vi, lp.Index)
			}
			keys[lp.Index] = k
		}
		ctxFor := func(th []byte) []byte {
			gc := GroupContext{Version: mls10, CipherSuite: CipherSuite(v.CipherSuite), GroupID: v.GroupID,
				Epoch: v.Epoch, TreeHash: th, ConfirmedTranscriptHash: v.Confirmed}
			return gc.bytes()
		}
		for ui, up := range v.UpdatePaths {
			var path UpdatePath
			if err := decodeAll(up.UpdatePath, "update_path", path.decode); err != nil {
				t.Fatalf("%d/%d: %v", vi, ui, err)
			}
			after := tree.clone()
			if err := after.mergeUpdatePath(s, up.Sender, &path, v.GroupID); err != nil {
				t.Fatalf("%d/%d: %v", vi, ui, err)
			}
			if err := after.verifyParentHashes(s); err != nil {
				t.Errorf("%d/%d: tree after merge: %v", vi, ui, err)
			}
			th := after.rootHash(s)
			eqHex(t, "tree_hash_after", th, up.TreeHashAfter)
			ctx := ctxFor(th)
			for j := uint32(0); j < tree.leaves(); j++ {
				if j == up.Sender || tree.leaf(j) == nil {
					continue
				}
				d, err := after.decryptUpdatePath(s, up.Sender, j, &path, keys[j], nil, ctx)
				if err != nil {
					t.Fatalf("%d/%d: leaf %d: %v", vi, ui, j, err)
				}
				eqHex(t, "path secret", d.pathSecret, up.PathSecrets[j])
				eqHex(t, "commit secret", d.commitSecret, up.CommitSecret)
			}
			// Create a fresh path from the same sender; every other leaf must agree.
			mine := tree.clone()
			res, err := mine.createUpdatePath(s, up.Sender, sigs[up.Sender], v.GroupID, nil, ctxFor)
			if err != nil {
				t.Fatalf("%d/%d: create: %v", vi, ui, err)
			}
			if err := mine.verifyParentHashes(s); err != nil {
				t.Errorf("%d/%d: own path: %v", vi, ui, err)
			}
			theirs := tree.clone()
			if err := theirs.mergeUpdatePath(s, up.Sender, res.path, v.GroupID); err != nil {
				t.Fatalf("%d/%d: merge own path: %v", vi, ui, err)
			}
			eqHex(t, "own tree hash", theirs.rootHash(s), mine.rootHash(s))
			ctx = ctxFor(theirs.rootHash(s))
			for j := uint32(0); j < tree.leaves(); j++ {
				if j == up.Sender || tree.leaf(j) == nil {
					continue
				}
				d, err := theirs.decryptUpdatePath(s, up.Sender, j, res.path, keys[j], nil, ctx)
				if err != nil {
					t.Fatalf("%d/%d: leaf %d own path: %v", vi, ui, j, err)
				}
				eqHex(t, "own commit secret", d.commitSecret, res.commitSecret)
			}
		}
	}
}
