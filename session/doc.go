// Package session is the client side of mimichat: one user's connection to
// the relay, kept alive on its own, with a durable outbox and a local history
// cache in one SQLite file.
//
// It exists so the UI never touches the network: the consumer reads ordered
// events from Events() (cached history is available before any connection),
// and Send returns as soon as the message is durably in the outbox. Behind
// that, the session reconnects with exponential backoff and jitter, resumes
// every room from its cached cursor, drops duplicates and fills gaps by
// per-room sequence number, and resubmits unacknowledged messages (the relay
// deduplicates by message ID, so each is delivered exactly once).
//
// Imports flow one way: session uses content (message IDs, builders) and
// proto (the frames it shares with the relay), nothing above it.
package session
