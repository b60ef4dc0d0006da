// Package flock takes an exclusive, non-blocking flock on a lock file and
// records who holds it. Both the client's data directory (owner) and the
// relay's data directory use it; it lives here so the relay need not
// import client packages.
package flock
