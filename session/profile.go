package session

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Room profiles: what an imported history says about a room beyond its name
// and topic (the description, avatar and mood of the MIMI room object) and
// about its members (display names, MIMI roles, client thumbprints). The
// relay's operations do not carry these, so without this the cache lost them
// on import (issue 15); they show in the UI and go out again on export. The
// tables are their own, added with CREATE TABLE IF NOT EXISTS like the rest
// of the schema, so an older cache file simply gains them.
const profileSchema = `
CREATE TABLE IF NOT EXISTS room_profiles (
	room        TEXT PRIMARY KEY,
	avatar      TEXT NOT NULL DEFAULT '',
	mood        TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '' -- JSON array of {type, lang, content}
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_member_profiles (
	room        TEXT NOT NULL,
	user        TEXT NOT NULL,
	pos         INTEGER NOT NULL, -- order the history listed them in
	name        TEXT NOT NULL DEFAULT '',
	role        TEXT NOT NULL DEFAULT '', -- MIMI role name as the history gave it
	thumbprints TEXT NOT NULL DEFAULT '', -- JSON array
	PRIMARY KEY (room, user)
) WITHOUT ROWID;
`

// RoomProfile is a room's imported description, avatar and mood.
type RoomProfile struct {
	Avatar      string
	Mood        string
	Description []RoomDescription
}

// RoomDescription is one room description (a media type, a language and
// the text).
type RoomDescription struct {
	Type    string `json:"type,omitempty"`
	Lang    string `json:"lang,omitempty"`
	Content string `json:"content"`
}

// MemberProfile is what a history said about one member of a room.
type MemberProfile struct {
	User        string
	Name        string
	Role        string
	Thumbprints []string
}

type queryer interface {
	execer
	QueryRow(q string, args ...any) *sql.Row
}

// SaveProfile writes room's profile and merges members into its member
// profiles inside the import's transaction, so a failed import leaves none.
func (t *ImportTx) SaveProfile(p RoomProfile, members []MemberProfile) error {
	return saveProfile(t.tx, t.room, p, members)
}

// SaveProfile is ImportTx.SaveProfile outside an import.
func (s *Store) SaveProfile(room string, p RoomProfile, members []MemberProfile) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("session: save profile of %s: %w", room, err)
	}
	defer tx.Rollback()
	if err := saveProfile(tx, room, p, members); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session: save profile of %s: %w", room, err)
	}
	return nil
}

// saveProfile replaces a field only with a non-empty value: a later import
// of a history that lacks a description or a name keeps the earlier one.
func saveProfile(db queryer, room string, p RoomProfile, members []MemberProfile) error {
	desc := ""
	if len(p.Description) > 0 {
		b, err := json.Marshal(p.Description)
		if err != nil {
			return fmt.Errorf("session: save profile of %s: %w", room, err)
		}
		desc = string(b)
	}
	if p.Avatar != "" || p.Mood != "" || desc != "" {
		_, err := db.Exec(`INSERT INTO room_profiles(room, avatar, mood, description) VALUES(?, ?, ?, ?)
			ON CONFLICT(room) DO UPDATE SET
			avatar=CASE WHEN excluded.avatar<>'' THEN excluded.avatar ELSE avatar END,
			mood=CASE WHEN excluded.mood<>'' THEN excluded.mood ELSE mood END,
			description=CASE WHEN excluded.description<>'' THEN excluded.description ELSE description END`,
			room, p.Avatar, p.Mood, desc)
		if err != nil {
			return fmt.Errorf("session: save profile of %s: %w", room, err)
		}
	}
	var next int64
	if err := db.QueryRow(`SELECT coalesce(max(pos)+1, 0) FROM room_member_profiles WHERE room=?`, room).Scan(&next); err != nil {
		return fmt.Errorf("session: save member profiles of %s: %w", room, err)
	}
	for _, m := range members {
		thumbs := ""
		if len(m.Thumbprints) > 0 {
			b, _ := json.Marshal(m.Thumbprints)
			thumbs = string(b)
		}
		_, err := db.Exec(`INSERT INTO room_member_profiles(room, user, pos, name, role, thumbprints) VALUES(?, ?, ?, ?, ?, ?)
			ON CONFLICT(room, user) DO UPDATE SET
			name=CASE WHEN excluded.name<>'' THEN excluded.name ELSE name END,
			role=CASE WHEN excluded.role<>'' THEN excluded.role ELSE role END,
			thumbprints=CASE WHEN excluded.thumbprints<>'' THEN excluded.thumbprints ELSE thumbprints END`,
			room, m.User, next, m.Name, m.Role, thumbs)
		if err != nil {
			return fmt.Errorf("session: save member profile %s of %s: %w", m.User, room, err)
		}
		next++
	}
	return nil
}

// Profile reads room's profile and member profiles (in the order the
// histories listed them); both are empty when no import gave any.
func (s *Store) Profile(room string) (RoomProfile, []MemberProfile, error) {
	var p RoomProfile
	var desc string
	err := s.db.QueryRow(`SELECT avatar, mood, description FROM room_profiles WHERE room=?`, room).Scan(&p.Avatar, &p.Mood, &desc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, nil, fmt.Errorf("session: profile of %s: %w", room, err)
	}
	if desc != "" {
		if err := json.Unmarshal([]byte(desc), &p.Description); err != nil {
			return p, nil, fmt.Errorf("session: profile of %s: description: %w", room, err)
		}
	}
	rows, err := s.db.Query(`SELECT user, name, role, thumbprints FROM room_member_profiles WHERE room=? ORDER BY pos`, room)
	if err != nil {
		return p, nil, fmt.Errorf("session: member profiles of %s: %w", room, err)
	}
	defer rows.Close()
	var ms []MemberProfile
	for rows.Next() {
		var m MemberProfile
		var thumbs string
		if err := rows.Scan(&m.User, &m.Name, &m.Role, &thumbs); err != nil {
			return p, nil, fmt.Errorf("session: member profiles of %s: %w", room, err)
		}
		if thumbs != "" {
			if err := json.Unmarshal([]byte(thumbs), &m.Thumbprints); err != nil {
				return p, nil, fmt.Errorf("session: member profile %s of %s: thumbprints: %w", m.User, room, err)
			}
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return p, nil, fmt.Errorf("session: member profiles of %s: %w", room, err)
	}
	return p, ms, nil
}
