// Package owner makes one process the owner of a data directory and lets
// every other mimichat process of that user talk to it.
//
// Two processes writing one cache and one outbox lose events (each one's
// cursor runs past what the other committed, an ack lands in the other's
// outbox view) and, with end-to-end encryption, would corrupt the device's
// key state. So the data directory carries an exclusive lock (flock on
// mimichat.lock): the process holding it owns the connection, the cache, the
// outbox and the keys, and serves a control socket (mimichat.sock, 0600,
// same-uid peers only) where headless commands started meanwhile send,
// tail, list rooms, run room operations and manage the outbox. A command
// that finds no owner takes the lock itself. The order is always lock, then
// socket: a stale socket of a killed owner is replaced by whoever gets the
// lock, and a client that can reach no socket tries the lock again.
//
// Imports flow one way: owner uses session (the owning process's client),
// content and proto; the commands (and the terminal UI's launcher) use owner.
package owner
