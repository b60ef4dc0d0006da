package owner

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// checkPeer refuses a control-socket peer of another uid (SO_PEERCRED): the
// socket file's 0600 mode already keeps others out, this holds even in a
// data directory whose mode was loosened.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("owner: peer credentials: %w", err)
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("owner: peer credentials: %w", err)
	}
	if credErr != nil {
		return fmt.Errorf("owner: peer credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("owner: control socket peer is uid %d, not %d", cred.Uid, os.Getuid())
	}
	return nil
}
