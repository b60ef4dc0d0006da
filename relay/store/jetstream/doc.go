// Package jetstream is the relay's clustered store backend: store.Store on
// NATS JetStream, so that a relay's state survives the loss of a machine.
// SQLite (relay/store/sqlite) stays the default; this backend is for a
// provider who needs replication, and it relies on JetStream's Raft-replicated
// streams instead of a consensus protocol of our own.
//
// Everything lives in one stream (default name MIMI) whose subjects are laid
// out like KV buckets, one subject per key with at most one message kept per
// subject (the newest). One stream, because JetStream's atomic batch publish
// works within one stream, and a relay batch (rooms, members, events, their
// submission keys and each room's head) must be stored all or nothing:
//
//	m.meta.domain               the domain
//	m.user.NAME                 a user (empty payload: removed)
//	m.uri.B64(URI)              user URI → name
//	m.tok.HEX(HASH)             token hash → name
//	m.room.B64(ROOM)            a room's metadata
//	m.mem.B64(ROOM).B64(USER)   a member
//	m.head.B64(ROOM)            the room's last stamp: the one-writer check
//	m.ev.B64(ROOM).SEQ          event SEQ of the room
//	m.key.B64(ROOM).HEX(KEY)    submission key → stamp (dedupe, for ever)
//	m.blob.ID                   blob metadata
//	m.kp.B64(USER)              the user's devices and KeyPackages
//	m.dev.B64(DEVICE)           device → owning user
//	m.xtok.HEX(HASH)            an extra token of a user (devicetokens.go)
//	m.bind.HEX(HASH)            token → the device it is bound to
//	m.dtok.B64(DEVICE)          device → the user whose token is bound to it
//	m.rdev.B64(DEVICE)          a removed device, for good
//	m.bres.B64(USER)            the user's blob quota reservations (reservations.go)
//	m.grp.B64(ROOM), m.gtc.B64(ROOM).I  an encrypted room's group and its tree chunks (groups.go)
//	m.wel.B64(DEV).B64(ROOM).SEQ a Welcome waiting for a device
//	m.wtree.B64(ROOM).SEQ.I     chunk I of the ratchet tree its invite SEQ's Welcomes name (welcome_trees.go)
//
// Ordering and exactly-once: each batch that appends to a room also writes
// the room's m.head subject with the per-subject expected-last-sequence
// header set to the head this store last read. A second writer of the room
// (another relay node) fails that check, so two nodes can never both append
// seq N; the loser gets store.ErrConflict and reloads. A submission key is
// written with expected-last-sequence 0, so a stored key fails the batch
// (store.ErrDuplicate), with no time limit. Event messages also carry
// Nats-Msg-Id ROOM:SEQ, deduped by the stream within its duplicate window
// (DuplicateWindow, 10 minutes, above any client's retry horizon): a batch
// whose commit reply was lost and which is published again is recognised.
//
// Durability: the embedded server runs with sync_interval always (fsync
// before every ack; Jepsen's 2025 NATS report found the default two-minute
// fsync loses acked writes on coordinated failures), and a batch returns
// only after its commit is acked, which in a cluster means after the
// replicated write to a quorum of the stream's replicas (R3 by default).
package jetstream
