// Package relay is the mimichat provider relay: the hub of draft-ietf-mimi-
// protocol for its own users. It authenticates clients by bearer token,
// orders every room's messages and membership operations in one log with
// hub timestamps, stores them durably before acknowledging, and fans them
// out over websockets.
//
// Message content is opaque bytes to it: the relay does not import the
// content package, dedupes resubmissions on the SHA-256 of the content
// bytes, and leaves message IDs to clients, so end-to-end encrypted content
// changes nothing here.
//
// All storage goes through the store.Store interface (relay/store), with
// SQLite (relay/store/sqlite) as the default backend; a new backend is one
// that passes relay/store/storetest. docs/relay.md has the design.
package relay
