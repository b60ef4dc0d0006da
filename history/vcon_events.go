package history

// The vCon names of room events: one table for the writer and the reader.

import "mimichat/content"

// vconEvents is the party_history event of each room event kind
// (draft-ietf-vcon-mimi-messages-00), indexed by content.RoomEventKind;
// TestVConEventTable checks it against every kind. The draft merges some
// kinds: an invite (and a join by another member) is an "add", an unban and
// a role change are an "update", and a name, topic or avatar change is a
// "room" event; for the merged membership kinds the writer adds
// mimichat_event with the kind's own name (content.RoomEventKind.String).
// "" means vCon has no event for the kind: the read-receipt policy, which
// the writer reports as dropped.
var vconEvents = [content.LastEventKind + 1]string{
	content.EventJoin:       "self_add",
	content.EventLeave:      "leave",
	content.EventInvite:     "add",
	content.EventKick:       "remove",
	content.EventBan:        "ban",
	content.EventUnban:      "update",
	content.EventRoleChange: "update",
	content.EventRoomName:   "room",
	content.EventRoomTopic:  "room",
	content.EventRoomAvatar: "room",
}

// vconEventName is the party_history event of k, "" for none.
func vconEventName(k content.RoomEventKind) string {
	if !k.Valid() {
		return ""
	}
	return vconEvents[k]
}

// partyEventKind is the kind of a party_history event about a member (not
// "room", not a role "update", which the reader handles first): the kind's
// own name (mimichat_event, or a writer using content's names), or the
// draft's name where it stands for one kind. The draft's "add" is a member
// added to the room, so a join; mimichat's invites carry mimichat_event.
func partyEventKind(name string) (content.RoomEventKind, bool) {
	if name == "add" {
		return content.EventJoin, true
	}
	if k, ok := content.ParseRoomEventKind(name); ok {
		if n := vconEvents[k]; n != "" && n != "room" {
			return k, true
		}
		return 0, false
	}
	var found content.RoomEventKind
	for k, n := range vconEvents {
		if n == name && name != "" {
			if found != 0 {
				return 0, false // a merged name ("update") says too little
			}
			found = content.RoomEventKind(k)
		}
	}
	return found, found != 0
}
