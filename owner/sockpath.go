package owner

import (
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest unix socket path Linux takes (sun_path less
// the terminating NUL).
const maxSocketPath = 107

// withSocketAddr calls use with an address of dir's control socket that
// fits a socket address. A data directory deep enough to make the plain
// path too long is reached through /proc/self/fd/N/, N an open descriptor
// of the directory (Linux resolves it at bind and connect), so no data
// directory is refused for its length.
func withSocketAddr(dir string, use func(addr string) error) error {
	path := filepath.Join(dir, SocketFile)
	if len(path) <= maxSocketPath {
		return use(path)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("owner: control socket: %w", err)
	}
	defer d.Close()
	short := fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), SocketFile)
	if _, err := os.Stat(filepath.Dir(short)); err != nil {
		return fmt.Errorf("owner: control socket path %s is %d bytes, longer than the %d a unix socket allows, and %s is not there: use a shorter data directory (--data-dir, client.data_dir)",
			path, len(path), maxSocketPath, filepath.Dir(short))
	}
	return use(short)
}
