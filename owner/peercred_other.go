//go:build !linux

package owner

import "net"

// checkPeer relies on the socket file's 0600 mode where SO_PEERCRED does
// not exist.
func checkPeer(*net.UnixConn) error { return nil }
