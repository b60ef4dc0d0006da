// Package storetest is the conformance suite for relay store backends: Run
// exercises every method of store.Store against a fresh backend and checks
// the rules the relay relies on (ordering, contiguous seqs per room,
// submission-key dedupe, all-or-nothing batches, durability across close
// and reopen, members and roles, users and tokens, blob metadata, errors).
// A backend's own test calls Run; a backend that passes can be handed to
// the relay.
package storetest
