package cache

import (
	"slices"

	"mimichat/history"
)

// reportUnkept adds to rep what the history held but the cache has no
// place for: members' names, roles and thumbprints (the cache learns
// members from the room's operations) and the room's description, avatar
// and mood (it keeps name and topic). Each is named by where the file had
// it, so a user can find what was not carried.
// A party role of a member whose role changes are among the imported room
// operations (roled: their targets) is kept that way, so it is no loss.
func reportUnkept(f history.Format, h *history.History, rep *history.Report, roled []string) {
	if h == nil || rep == nil {
		return
	}
	where := map[string]string{"name": "$.parties[].name", "role": "$.parties[].role", "thumbprint": "$.parties[].thumbprint",
		"description": "$.room.description", "avatar": "$.room.avatar", "mood": "$.room.mood"}
	if f == history.FormatCPIM {
		where["name"] = "From: display names"
	}
	var names, roles, thumbs int
	for _, m := range h.Members {
		if m.Name != "" {
			names++
		}
		if m.Role != "" && !slices.Contains(roled, m.URI) {
			roles++
		}
		thumbs += len(m.Thumbprints)
	}
	rep.Drop(where["name"]+": member display names (the cache keeps none)", names)
	rep.Drop(where["role"]+": member roles (the cache takes roles from the room's operations only)", roles)
	rep.Drop(where["thumbprint"]+": client thumbprints (the cache keeps none)", thumbs)
	rep.Drop(where["description"]+": room descriptions (the cache keeps name and topic)", len(h.Room.Description))
	if h.Room.Avatar != "" {
		rep.Drop(where["avatar"]+": the room avatar (the cache keeps name and topic)", 1)
	}
	if h.Room.Mood != "" {
		rep.Drop(where["mood"]+": the room mood (the cache keeps name and topic)", 1)
	}
}
