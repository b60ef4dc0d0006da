package proto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestKeyPackageFramesRoundTrip(t *testing.T) {
	frames := []Frame{
		&UploadKeyPackages{RID: 1, Device: device, KeyPackages: [][]byte{{1, 2}, {3}}},
		&KeyPackagesStored{RID: 1, Device: device, Count: 20, LastResort: true},
		&ClaimKeyPackages{RID: 2, User: "mimi://example.com/u/bob", Suite: 1},
		&KeyMaterial{RID: 2, User: "mimi://example.com/u/bob", Status: ClaimSuccess,
			Devices: []DeviceKeyMaterial{{Device: device, Status: DeviceSuccess, KeyPackage: []byte{9}}}},
		&KeyMaterial{RID: 3, User: "mimi://example.com/u/bob", Status: ClaimNoCompatibleMaterial,
			Devices: []DeviceKeyMaterial{{Device: device, Status: DeviceNothingCompatible}}},
		&Devices{RID: 4},
		&DeviceList{RID: 4, Devices: []DeviceInfo{{Device: device, Created: 5, Count: 2}}},
		&RemoveDevice{RID: 5, Device: device},
		&KeyPackagesLow{Device: device, Count: 3},
	}
	for _, f := range frames {
		b, err := Encode(f)
		if err != nil {
			t.Fatalf("%s: %v", f.FrameType(), err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", f.FrameType(), err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("%s: round trip\n got %#v\nwant %#v", f.FrameType(), got, f)
		}
	}
}

func TestKeyPackageFramesRefused(t *testing.T) {
	many := make([][]byte, MaxKeyPackagesPerUpload+1)
	for i := range many {
		many[i] = []byte{1}
	}
	for _, tc := range []struct {
		name  string
		f     Frame
		field string
	}{
		{"upload without device", &UploadKeyPackages{RID: 1, KeyPackages: [][]byte{{1}}}, "device"},
		{"upload device not a URI", &UploadKeyPackages{RID: 1, Device: "laptop", KeyPackages: [][]byte{{1}}}, "device"},
		{"upload nothing", &UploadKeyPackages{RID: 1, Device: device}, "key_packages"},
		{"upload too many", &UploadKeyPackages{RID: 1, Device: device, KeyPackages: many}, "key_packages"},
		{"upload empty key package", &UploadKeyPackages{RID: 1, Device: device, KeyPackages: [][]byte{{1}, {}}}, "key_packages"},
		{"upload huge key package", &UploadKeyPackages{RID: 1, Device: device, KeyPackages: [][]byte{bytes.Repeat([]byte{1}, MaxKeyPackageSize+1)}}, "key_packages"},
		{"claim without suite", &ClaimKeyPackages{RID: 1, User: "mimi://example.com/u/bob"}, "suite"},
		{"claim without user", &ClaimKeyPackages{RID: 1, Suite: 1}, "user"},
		{"answer unknown outcome", &KeyMaterial{RID: 1, User: "mimi://example.com/u/bob", Status: "maybe"}, "status"},
		{"answer unknown device outcome", &KeyMaterial{RID: 1, User: "mimi://example.com/u/bob", Status: ClaimSuccess,
			Devices: []DeviceKeyMaterial{{Device: device, Status: "fine"}}}, "status"},
		{"success without key package", &KeyMaterial{RID: 1, User: "mimi://example.com/u/bob", Status: ClaimSuccess,
			Devices: []DeviceKeyMaterial{{Device: device, Status: DeviceSuccess}}}, "key_package"},
		{"exhausted with key package", &KeyMaterial{RID: 1, User: "mimi://example.com/u/bob", Status: ClaimNoCompatibleMaterial,
			Devices: []DeviceKeyMaterial{{Device: device, Status: DeviceExhausted, KeyPackage: []byte{1}}}}, "key_package"},
		{"remove without device", &RemoveDevice{RID: 1}, "device"},
		{"low without device", &KeyPackagesLow{Count: 1}, "device"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(b)
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != CodeBadField || pe.Field != tc.field {
				t.Fatalf("got %v, want bad_field on %q", err, tc.field)
			}
		})
	}
}
