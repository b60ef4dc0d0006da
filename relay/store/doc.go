// Package store is the relay's storage boundary: the one interface (Store)
// behind which every durable read and write of the relay happens, the
// records it exchanges, and its errors. The relay keeps its state machine
// (authorization, sequence numbers, timestamps, fan-out) in memory and asks
// a Store only to keep what it decided, so a backend needs no knowledge of
// rooms' rules or of the wire format: frames are opaque bytes to it.
//
// The SQLite backend (relay/store/sqlite) is the first implementation;
// relay/store/storetest is the conformance suite any backend must pass.
// Nothing here imports the relay: the dependency runs relay → store.
package store
