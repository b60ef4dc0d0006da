package session

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"mimichat/mls"
)

// Each client data directory is one MLS client (a device) of its user: a
// signature key pair and a credential naming the device URI
// mimi://HOST/d/USER/DEVICE, created on the first Open and loaded after.
// The private key lives in DeviceFile, readable by the user only; the data
// directory has one owning process (see owner/), so no lock is needed here.

// DeviceFile holds the device identity (with its signature private key),
// inside the data directory.
const DeviceFile = "device.json"

// DeviceSuite is the cipher suite of the devices this client creates.
const DeviceSuite = mls.X25519_AES128GCM_SHA256_Ed25519

// device is the loaded device identity.
type device struct {
	uri string
	id  *mls.Identity
}

type deviceFile struct {
	Device   string        `json:"device"`
	User     string        `json:"user"`
	Identity *mls.Identity `json:"identity"`
}

// loadDevice reads dir's device of user, creating it on first use.
func loadDevice(dir, user string) (*device, error) {
	path := filepath.Join(dir, DeviceFile)
	b, err := readPrivate(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createDevice(path, user)
	}
	if err != nil {
		return nil, err
	}
	var f deviceFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("session: device file %s: %w", path, err)
	}
	if f.User != user {
		return nil, fmt.Errorf("session: device file %s belongs to %s, not %s", path, f.User, user)
	}
	if f.Identity == nil || len(f.Identity.SignaturePriv) == 0 {
		return nil, fmt.Errorf("session: device file %s: no identity", path)
	}
	d, err := mls.ParseDeviceCredential(f.Identity.Credential)
	if err != nil {
		return nil, fmt.Errorf("session: device file %s: %w", path, err)
	}
	if d.DeviceURI() != f.Device || d.UserURI() != user {
		return nil, fmt.Errorf("session: device file %s: credential names %s, file says %s", path, d.DeviceURI(), f.Device)
	}
	return &device{uri: f.Device, id: f.Identity}, nil
}

func createDevice(path, user string) (*device, error) {
	var name [6]byte
	if _, err := rand.Read(name[:]); err != nil {
		return nil, err
	}
	cred, err := mls.NewDeviceCredential(user, hex.EncodeToString(name[:]))
	if err != nil {
		return nil, fmt.Errorf("session: device credential for %s: %w", user, err)
	}
	id, err := mls.NewDeviceIdentity(DeviceSuite, cred)
	if err != nil {
		return nil, fmt.Errorf("session: device identity: %w", err)
	}
	b, err := json.Marshal(deviceFile{Device: cred.DeviceURI(), User: user, Identity: id})
	if err != nil {
		return nil, err
	}
	if err := writePrivate(path, b); err != nil {
		return nil, err
	}
	return &device{uri: cred.DeviceURI(), id: id}, nil
}

// readPrivate reads a file of private keys, narrowing its mode to 0600
// if something widened it.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("session: %s is readable by others and cannot be narrowed: %w", path, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: read %s: %w", path, err)
	}
	return b, nil
}

// writePrivate replaces path with b durably (temporary file, fsync,
// rename, fsync of the directory), mode 0600: a crash leaves the old file
// or the new one, never a torn one.
func writePrivate(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("session: data dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("session: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
