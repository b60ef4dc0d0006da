package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// The ratchet tree an invite keeps for its Welcomes (protocol version 8)
// is stored once per invite in welcome_trees, not in each Welcome row: an
// invite of N devices wrote N copies of a tree of about 209 bytes a member
// (1.25 MB at 6,000 members). A Welcome row's tree_len names the tree; the
// tree goes with the last Welcome of its invite (dropOrphanTrees).

// invite names an invite: the room and the seq of its event.
type invite struct {
	room string
	seq  uint64
}

// dropOrphanTrees deletes the trees of the invites in gone that no stored
// Welcome names any more.
func dropOrphanTrees(ctx context.Context, tx *sql.Tx, gone []invite) error {
	slices.SortFunc(gone, func(a, b invite) int {
		if c := strings.Compare(a.room, b.room); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	gone = slices.Compact(gone)
	for _, inv := range gone {
		_, err := tx.ExecContext(ctx, `DELETE FROM welcome_trees WHERE room=? AND seq=?
			AND NOT EXISTS(SELECT 1 FROM welcomes WHERE room=? AND seq=?)`, inv.room, inv.seq, inv.room, inv.seq)
		if err != nil {
			return fmt.Errorf("sqlite store: drop the ratchet tree of %s #%d: %w", inv.room, inv.seq, err)
		}
	}
	return nil
}

// migrateWelcomeTrees brings the welcomes table to tree_len. A database
// from before kept each Welcome's tree in welcomes.tree (one copy per
// device): each invite's tree moves to welcome_trees once and the column
// goes. An invite's Welcomes all carried the same tree (the relay's tree of
// the invite's epoch), so any row's copy is the invite's.
func migrateWelcomeTrees(tx *sql.Tx) error {
	if !hasColumn(tx, "welcomes", "tree_len") {
		if _, err := tx.Exec(`ALTER TABLE welcomes ADD COLUMN tree_len INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("add welcomes.tree_len: %w", err)
		}
	}
	if !hasColumn(tx, "welcomes", "tree") {
		return nil
	}
	for _, q := range []string{
		`INSERT INTO welcome_trees(room, seq, tree)
			SELECT room, seq, max(tree) FROM welcomes WHERE length(tree)>0 GROUP BY room, seq ORDER BY room, seq`,
		`UPDATE welcomes SET tree_len=(SELECT length(t.tree) FROM welcome_trees t WHERE t.room=welcomes.room AND t.seq=welcomes.seq)
			WHERE length(tree)>0`,
		`ALTER TABLE welcomes DROP COLUMN tree`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("move the Welcomes' ratchet trees to welcome_trees: %w", err)
		}
	}
	return nil
}
