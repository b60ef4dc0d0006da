package proto

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// Version 9 frames and keys survive a round trip unchanged.
func TestRoundTripWelcomePages(t *testing.T) {
	mls := []byte{0x00, 0x01, 0x00, 0x03, 0x42}
	for i, f := range []Frame{
		&Welcomes{RID: 1, Device: bobDevice, Room: room},
		&Welcomes{RID: 2, Device: bobDevice, AfterRoom: room, AfterSeq: 9},
		&WelcomeList{RID: 3, Device: bobDevice, More: true, Welcomes: []PendingWelcome{
			{Room: room, Seq: 7, Welcome: mls, TreeSize: 9 << 20},
			{Room: room, Seq: 8, WelcomeSize: 3 << 20, TreeSize: 12},
			{Room: room, Seq: 9, WelcomeSize: 5},
		}},
		&GetWelcomePart{RID: 4, Device: bobDevice, Room: room, Seq: 7, Part: PartRatchetTree, Offset: 8 << 20},
		&GetWelcomePart{RID: 5, Device: bobDevice, Room: room, Seq: 8, Part: PartWelcome},
		&WelcomePart{RID: 4, Device: bobDevice, Room: room, Seq: 7, Part: PartRatchetTree, Offset: 8 << 20, Size: 9 << 20, Data: mls},
		&WelcomePart{RID: 5, Device: bobDevice, Room: room, Seq: 8, Part: PartWelcome, Size: 5, Data: mls},
	} {
		t.Run(fmt.Sprintf("%s/%d", f.FrameType(), i), func(t *testing.T) {
			b, err := Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, f) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, f)
			}
		})
	}
}

// Every rule of the version 9 keys is a typed bad_field naming the key.
func TestDecodeErrorsWelcomePages(t *testing.T) {
	type m = map[string]any
	mls := []byte{1, 2, 3}
	entry := func(kv m) []m {
		e := m{"room": room, "seq": 1}
		for k, v := range kv {
			e[k] = v
		}
		return []m{e}
	}
	part := func(kv m) m {
		f := m{"t": "welcome_part", "rid": 1, "device": bobDevice, "room": room, "seq": 1, "part": "welcome", "size": 10, "data": mls}
		for k, v := range kv {
			f[k] = v
		}
		return f
	}
	for _, tt := range []struct {
		name  string
		in    m
		field string
	}{
		{"welcomes room not uri", m{"t": "welcomes", "rid": 1, "device": bobDevice, "room": "lobby"}, "room"},
		{"welcomes after_seq alone", m{"t": "welcomes", "rid": 1, "device": bobDevice, "after_seq": 3}, "after_seq"},
		{"welcomes after_room not uri", m{"t": "welcomes", "rid": 1, "device": bobDevice, "after_room": "x", "after_seq": 3}, "after_room"},
		{"entry welcome and welcome_size", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": entry(m{"welcome": mls, "welcome_size": 3})}, "welcome_size"},
		{"entry welcome_size too large", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": entry(m{"welcome_size": MaxMLSMessage + 1})}, "welcome_size"},
		{"entry neither", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": entry(m{})}, "welcome"},
		{"entry tree and tree_size", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": entry(m{"welcome": mls, "ratchet_tree": mls, "tree_size": 3})}, "tree_size"},
		{"entry tree_size too large", m{"t": "welcome_list", "rid": 1, "device": bobDevice, "welcomes": entry(m{"welcome": mls, "tree_size": MaxWelcomeTree + 1})}, "tree_size"},
		{"get part unknown part", m{"t": "get_welcome_part", "rid": 1, "device": bobDevice, "room": room, "seq": 1, "part": "group_info"}, "part"},
		{"get part no seq", m{"t": "get_welcome_part", "rid": 1, "device": bobDevice, "room": room, "part": "welcome"}, "seq"},
		{"get part user not device", m{"t": "get_welcome_part", "rid": 1, "device": bob, "room": room, "seq": 1, "part": "welcome"}, "device"},
		{"part no size", part(m{"size": 0}), "size"},
		{"part offset at size", part(m{"offset": 10}), "offset"},
		{"part data past size", part(m{"offset": 8}), "data"},
		{"part empty data", part(m{"data": []byte{}}), "data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(mustCBOR(t, tt.in))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Decode = %v, %v; want *Error", f, err)
			}
			if pe.Code != CodeBadField || pe.Field != tt.field {
				t.Fatalf("got code %q field %q (%v); want bad_field %q", pe.Code, pe.Field, err, tt.field)
			}
		})
	}
}
