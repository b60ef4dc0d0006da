package proto

// Devices and the KeyPackage directory (version 3). Each client data
// directory is one MLS client (a device) of its user, named by a device URI
// mimi://DOMAIN/d/USER/DEVICE. A device uploads KeyPackages; another user's
// client claims one per device of a user to add that user to an MLS group.
// The claim answer carries draft-ietf-mimi-protocol-06's keyMaterial
// outcomes (KeyMaterialResponse), as snake_case strings.

// Frame types of the KeyPackage directory (version 3).
const (
	TUploadKeyPackages Type = "upload_key_packages"
	TKeyPackagesStored Type = "key_packages_stored"
	TClaimKeyPackages  Type = "claim_key_packages"
	TKeyMaterial       Type = "key_material"
	TDevices           Type = "devices"
	TDeviceList        Type = "device_list"
	TRemoveDevice      Type = "remove_device"
	TKeyPackagesLow    Type = "key_packages_low"
)

// Limits of the KeyPackage directory.
const (
	// MaxKeyPackagesPerUpload caps the KeyPackages of one upload frame.
	MaxKeyPackagesPerUpload = 100
	// MaxKeyPackageSize caps one KeyPackage's encoding, in bytes.
	MaxKeyPackageSize = 8 << 10
)

// User outcomes of a claim (protocol-06 KeyMaterialUserCode).
const (
	// ClaimSuccess: a KeyPackage for every device of the user.
	ClaimSuccess = "success"
	// ClaimPartialSuccess: a KeyPackage for at least one device, not all.
	ClaimPartialSuccess = "partial_success"
	// ClaimNoCompatibleMaterial: no device had a KeyPackage to give (each
	// device's status says why: exhausted or nothing compatible), or the
	// user has no device at all.
	ClaimNoCompatibleMaterial = "no_compatible_material"
	// ClaimUserUnknown: the relay has no such user; devices is empty.
	ClaimUserUnknown = "user_unknown"
)

// Device outcomes of a claim (protocol-06 KeyMaterialClientCode).
const (
	// DeviceSuccess: KeyPackage holds the device's KeyPackage.
	DeviceSuccess = "success"
	// DeviceExhausted: the device has no unexpired KeyPackage left
	// (keyMaterialExhausted).
	DeviceExhausted = "key_material_exhausted"
	// DeviceNothingCompatible: the device has KeyPackages, none of the cipher
	// suite asked for.
	DeviceNothingCompatible = "nothing_compatible"
)

// UploadKeyPackages stores KeyPackages (MLSMessage-framed, RFC 9420 §6) of
// one device of the connection's user, registering the device on its first
// upload. Each must carry the device's credential; a last-resort one
// replaces the device's previous last-resort KeyPackage of its cipher suite.
// Answer: key_packages_stored.
type UploadKeyPackages struct {
	Head
	RID         uint64   `cbor:"rid"`
	Device      string   `cbor:"device"`
	KeyPackages [][]byte `cbor:"key_packages"`
}

// KeyPackagesStored answers upload_key_packages: how many single-use
// KeyPackages the device now has on the relay and whether it has a
// last-resort one.
type KeyPackagesStored struct {
	Head
	RID        uint64 `cbor:"rid"`
	Device     string `cbor:"device"`
	Count      uint64 `cbor:"count"`
	LastResort bool   `cbor:"last_resort,omitempty"`
}

// ClaimKeyPackages claims one KeyPackage of cipher suite Suite for every
// device of User. Each single-use KeyPackage handed out is deleted; a
// last-resort one is handed out, and kept, only when no other is left.
// Answer: key_material.
type ClaimKeyPackages struct {
	Head
	RID   uint64 `cbor:"rid"`
	User  string `cbor:"user"`
	Suite uint16 `cbor:"suite"`
}

// DeviceKeyMaterial is one device's part of a claim answer.
type DeviceKeyMaterial struct {
	Device     string `cbor:"device"`
	Status     string `cbor:"status"`
	KeyPackage []byte `cbor:"key_package,omitempty"` // when Status is DeviceSuccess
}

// KeyMaterial answers claim_key_packages (protocol-06 KeyMaterialResponse).
type KeyMaterial struct {
	Head
	RID     uint64              `cbor:"rid"`
	User    string              `cbor:"user"`
	Status  string              `cbor:"status"`
	Devices []DeviceKeyMaterial `cbor:"devices"`
}

// Devices asks for the connection's user's devices. Answer: device_list.
type Devices struct {
	Head
	RID uint64 `cbor:"rid"`
}

// DeviceInfo is one device of a device list.
type DeviceInfo struct {
	Device     string `cbor:"device"`
	Created    int64  `cbor:"created"` // first upload, ms since the epoch
	Count      uint64 `cbor:"count"`   // single-use KeyPackages left
	LastResort bool   `cbor:"last_resort,omitempty"`
}

// DeviceList answers devices, ordered by device URI.
type DeviceList struct {
	Head
	RID     uint64       `cbor:"rid"`
	Devices []DeviceInfo `cbor:"devices"`
}

// RemoveDevice deletes one of the user's own devices and its KeyPackages.
// Answer: ok; an unknown device is no_such_device.
type RemoveDevice struct {
	Head
	RID    uint64 `cbor:"rid"`
	Device string `cbor:"device"`
}

// KeyPackagesLow is pushed to every live connection of a user whose device
// was left with fewer than Count single-use KeyPackages by a claim: the
// device tops them up with upload_key_packages.
type KeyPackagesLow struct {
	Head
	Device string `cbor:"device"`
	Count  uint64 `cbor:"count"`
}

func (*UploadKeyPackages) FrameType() Type { return TUploadKeyPackages }
func (*KeyPackagesStored) FrameType() Type { return TKeyPackagesStored }
func (*ClaimKeyPackages) FrameType() Type  { return TClaimKeyPackages }
func (*KeyMaterial) FrameType() Type       { return TKeyMaterial }
func (*Devices) FrameType() Type           { return TDevices }
func (*DeviceList) FrameType() Type        { return TDeviceList }
func (*RemoveDevice) FrameType() Type      { return TRemoveDevice }
func (*KeyPackagesLow) FrameType() Type    { return TKeyPackagesLow }

// newKeyPackageFrame returns an empty KeyPackage directory frame of type t,
// or nil.
func newKeyPackageFrame(t Type) Frame {
	switch t {
	case TUploadKeyPackages:
		return new(UploadKeyPackages)
	case TKeyPackagesStored:
		return new(KeyPackagesStored)
	case TClaimKeyPackages:
		return new(ClaimKeyPackages)
	case TKeyMaterial:
		return new(KeyMaterial)
	case TDevices:
		return new(Devices)
	case TDeviceList:
		return new(DeviceList)
	case TRemoveDevice:
		return new(RemoveDevice)
	case TKeyPackagesLow:
		return new(KeyPackagesLow)
	}
	return nil
}

// validateKeyPackageFrame checks the field rules of a KeyPackage directory
// frame; handled is false for other frames.
func validateKeyPackageFrame(f Frame) (handled bool, err error) {
	switch f := f.(type) {
	case *UploadKeyPackages:
		if err := needURI("device", f.Device); err != nil {
			return true, err
		}
		if len(f.KeyPackages) == 0 {
			return true, badField("key_packages", "missing")
		}
		if len(f.KeyPackages) > MaxKeyPackagesPerUpload {
			return true, badField("key_packages", "at most %d per upload, got %d", MaxKeyPackagesPerUpload, len(f.KeyPackages))
		}
		for i, kp := range f.KeyPackages {
			if len(kp) == 0 || len(kp) > MaxKeyPackageSize {
				return true, badField("key_packages", "key package %d is %d bytes; 1 to %d", i, len(kp), MaxKeyPackageSize)
			}
		}
	case *KeyPackagesStored:
		return true, needURI("device", f.Device)
	case *ClaimKeyPackages:
		if f.Suite == 0 {
			return true, badField("suite", "missing cipher suite")
		}
		return true, needURI("user", f.User)
	case *KeyMaterial:
		return true, validateKeyMaterial(f)
	case *DeviceList:
		for _, d := range f.Devices {
			if err := needURI("device", d.Device); err != nil {
				return true, err
			}
		}
	case *RemoveDevice:
		return true, needURI("device", f.Device)
	case *KeyPackagesLow:
		return true, needURI("device", f.Device)
	case *Devices:
	default:
		return false, nil
	}
	return true, nil
}

func validateKeyMaterial(f *KeyMaterial) error {
	if err := needURI("user", f.User); err != nil {
		return err
	}
	switch f.Status {
	case ClaimSuccess, ClaimPartialSuccess, ClaimNoCompatibleMaterial, ClaimUserUnknown:
	default:
		return badField("status", "unknown claim outcome %q", truncate(f.Status))
	}
	for _, d := range f.Devices {
		if err := needURI("device", d.Device); err != nil {
			return err
		}
		switch d.Status {
		case DeviceSuccess:
			if len(d.KeyPackage) == 0 {
				return badField("key_package", "missing for device outcome %q", d.Status)
			}
		case DeviceExhausted, DeviceNothingCompatible:
			if len(d.KeyPackage) != 0 {
				return badField("key_package", "present for device outcome %q", d.Status)
			}
		default:
			return badField("status", "unknown device outcome %q", truncate(d.Status))
		}
	}
	return nil
}
