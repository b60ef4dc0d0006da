// Package booth serves the terminal client over SSH: `mimichat demo --ssh
// ADDR`. At an interop event one laptop hands its address to a handful of
// people, who chat with each other and with the demo's scripted peers, each
// in their own terminal, with nothing installed.
//
// Every SSH session is a visitor with its own account (named from the SSH
// user name, made unique), its own device and data directory, and its own
// Bubble Tea program sized to and coloured for the visitor's terminal. All
// visitors' sessions talk to one relay (the demo's in-process relay, or a
// real one with a pool of accounts), so they see each other's messages,
// reactions, knocks and receipts live; a dropped session closes only that
// visitor's session.
//
// The booth is reachable by strangers, so it bounds what they can do: a
// maximum of concurrent visitors, a connection rate per source address, an
// input rate per session, optional authorized keys, and a client that runs
// no program and touches no file of the host (ui.Options.Remote).
package booth
