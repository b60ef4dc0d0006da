// Package freeport gives tests loopback addresses to bind later, in
// another server or process, when the address must be known before that
// server starts (a cluster's routes name each other).
//
// A port taken from the kernel (listen on port 0, close) is in its
// ephemeral range: until the server binds it, any process's outgoing
// connection may be given it as a local port, and the bind fails. CI runs
// packages in parallel, and such a failure made cluster tests red. The
// ports here lie below that range, where the kernel hands out none.
package freeport
