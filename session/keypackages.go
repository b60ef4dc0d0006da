package session

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"mimichat/mls"
	"mimichat/proto"
)

// The device keeps KeyPackageBatch single-use KeyPackages and one
// last-resort KeyPackage on the relay: uploaded after each connect, topped
// up when the relay pushes key_packages_low. The private halves (init and
// encryption keys) are written to KeyPackagesFile (0600) before the upload,
// so a Welcome made from any KeyPackage the relay handed out can be joined.

// KeyPackagesFile holds the private KeyPackage bundles, inside the data
// directory.
const KeyPackagesFile = "keypackages.json"

// KeyPackageBatch is how many single-use KeyPackages the device keeps on
// the relay.
const KeyPackageBatch = 20

// keyPackageVersion is the first protocol version with the directory.
const keyPackageVersion = 3

// keyBundle is one private KeyPackage bundle as stored.
type keyBundle struct {
	KeyPackage     []byte    `json:"key_package"`
	InitPriv       []byte    `json:"init_priv"`
	EncryptionPriv []byte    `json:"encryption_priv"`
	LastResort     bool      `json:"last_resort,omitempty"`
	NotAfter       time.Time `json:"not_after"`
}

// keyBundles is the private half of the device's KeyPackages, by hex ref.
type keyBundles struct {
	mu      sync.Mutex
	path    string
	bundles map[string]keyBundle
}

func loadKeyBundles(dir string) (*keyBundles, error) {
	k := &keyBundles{path: filepath.Join(dir, KeyPackagesFile), bundles: map[string]keyBundle{}}
	b, err := readPrivate(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &k.bundles); err != nil {
		return nil, fmt.Errorf("session: key package file %s: %w", k.path, err)
	}
	return k, nil
}

// add stores new bundles durably, dropping expired ones.
func (k *keyBundles) add(now time.Time, bs []*mls.KeyPackageBundle) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	next := make(map[string]keyBundle, len(k.bundles)+len(bs))
	for ref, b := range k.bundles {
		if b.NotAfter.After(now) {
			next[ref] = b
		}
	}
	for _, b := range bs {
		info, err := mls.InspectKeyPackage(b.KeyPackage, now)
		if err != nil {
			return fmt.Errorf("session: new key package: %w", err)
		}
		next[hex.EncodeToString(info.Ref)] = keyBundle{KeyPackage: b.KeyPackage, InitPriv: b.InitPriv,
			EncryptionPriv: b.EncryptionPriv, LastResort: info.LastResort, NotAfter: info.NotAfter}
	}
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := writePrivate(k.path, data); err != nil {
		return err
	}
	k.bundles = next
	return nil
}

// KeyPackageBundle returns the private bundle of this device's KeyPackage
// with KeyPackageRef ref (as a Welcome names it), to join a group.
func (s *Session) KeyPackageBundle(ref []byte) (*mls.KeyPackageBundle, bool) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	b, ok := s.keys.bundles[hex.EncodeToString(ref)]
	if !ok {
		return nil, false
	}
	return &mls.KeyPackageBundle{KeyPackage: b.KeyPackage, InitPriv: b.InitPriv, EncryptionPriv: b.EncryptionPriv,
		Identity: s.device.id}, true
}

// used deletes a bundle a Welcome consumed, unless it is the last-resort
// one, which serves any number of joins.
func (k *keyBundles) used(ref []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	key := hex.EncodeToString(ref)
	b, ok := k.bundles[key]
	if !ok || b.LastResort {
		return nil
	}
	next := make(map[string]keyBundle, len(k.bundles))
	for r, b := range k.bundles {
		if r != key {
			next[r] = b
		}
	}
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := writePrivate(k.path, data); err != nil {
		return err
	}
	k.bundles = next
	return nil
}

// Device returns this client's device URI (mimi://HOST/d/USER/DEVICE).
func (s *Session) Device() string { return s.device.uri }

// keyPackageLoop keeps the device's KeyPackages topped up while c lives.
func (s *Session) keyPackageLoop(c *conn) {
	if c.welcome.V < keyPackageVersion {
		return
	}
	for {
		if err := s.topUpKeyPackages(c); err != nil && c.cause() == nil {
			s.q.push(ErrorEvent{fmt.Errorf("session: upload key packages: %w", err)})
		}
		select {
		case <-c.done:
			return
		case <-s.kpLow:
		}
	}
}

// topUpKeyPackages uploads what brings the device back to KeyPackageBatch
// single-use KeyPackages and one last-resort KeyPackage.
func (s *Session) topUpKeyPackages(c *conn) error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	have, lastResort := 0, false
	devices, err := s.devicesOn(ctx, c)
	if err != nil {
		return err
	}
	for _, d := range devices {
		if d.Device == s.device.uri {
			have, lastResort = int(d.Count), d.LastResort
		}
	}
	var fresh []*mls.KeyPackageBundle
	for range KeyPackageBatch - have {
		b, err := mls.NewKeyPackage(s.device.id)
		if err != nil {
			return err
		}
		fresh = append(fresh, b)
	}
	if !lastResort {
		b, err := mls.NewKeyPackage(s.device.id, mls.WithLastResort())
		if err != nil {
			return err
		}
		fresh = append(fresh, b)
	}
	if len(fresh) == 0 {
		return nil
	}
	// The private halves are durable before the relay can hand one out.
	if err := s.keys.add(s.opts.Now(), fresh); err != nil {
		return err
	}
	up := &proto.UploadKeyPackages{RID: s.rid(), Device: s.device.uri}
	for _, b := range fresh {
		up.KeyPackages = append(up.KeyPackages, b.KeyPackage)
	}
	f, err := c.request(ctx, up.RID, up)
	if err != nil {
		return err
	}
	if _, ok := f.(*proto.KeyPackagesStored); !ok {
		return fmt.Errorf("unexpected answer %s", f.FrameType())
	}
	return nil
}

// ClaimKeyPackages claims one KeyPackage of this device's cipher suite for
// every device of user (to add user to a group): the relay's answer, with
// draft-ietf-mimi-protocol-06's outcomes.
func (s *Session) ClaimKeyPackages(ctx context.Context, user string) (*proto.KeyMaterial, error) {
	c, err := s.live()
	if err != nil {
		return nil, err
	}
	if c.welcome.V < keyPackageVersion {
		return nil, fmt.Errorf("session: claim key packages: the relay speaks protocol %d, key packages need %d", c.welcome.V, keyPackageVersion)
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.ClaimKeyPackages{RID: rid, User: user, Suite: uint16(s.device.id.CipherSuite)})
	if err != nil {
		return nil, fmt.Errorf("session: claim key packages of %s: %w", user, err)
	}
	km, ok := f.(*proto.KeyMaterial)
	if !ok {
		return nil, fmt.Errorf("session: claim key packages of %s: unexpected answer %s", user, f.FrameType())
	}
	return km, nil
}

// Devices lists this user's devices as the relay knows them.
func (s *Session) Devices(ctx context.Context) ([]proto.DeviceInfo, error) {
	c, err := s.live()
	if err != nil {
		return nil, err
	}
	ds, err := s.devicesOn(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("session: devices: %w", err)
	}
	return ds, nil
}

func (s *Session) devicesOn(ctx context.Context, c *conn) ([]proto.DeviceInfo, error) {
	if c.welcome.V < keyPackageVersion {
		return nil, fmt.Errorf("the relay speaks protocol %d, devices need %d", c.welcome.V, keyPackageVersion)
	}
	rid := s.rid()
	f, err := c.request(ctx, rid, &proto.Devices{RID: rid})
	if err != nil {
		return nil, err
	}
	dl, ok := f.(*proto.DeviceList)
	if !ok {
		return nil, fmt.Errorf("unexpected answer %s", f.FrameType())
	}
	return dl.Devices, nil
}
