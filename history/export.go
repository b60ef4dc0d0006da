package history

import (
	"fmt"
	"io"

	"mimichat/content"
)

// ExportOptions selects what to export and how.
type ExportOptions struct {
	Format Format // FormatVCon or FormatCPIM
	Now    int64  // ms: created_at, and what has expired by now
	Since  int64  // ms; 0 = from the start
	Thread []byte // topic ID; nil = whole room
	// Fetch embeds external parts' content (vCon only); nil leaves references.
	Fetch func(id content.MessageID, partIndex int, p *content.NestedPart) ([]byte, bool, error)
	// Members are what the source knows of the room's members beyond its
	// items (display names, roles, thumbprints: cache.Room gives those an
	// import left). They fill in the members the items name, a role only
	// where no role change does, and are listed after them.
	Members []Member
}

// Source yields a room's items in hub order; it is called twice (the plan
// needs a first pass), so it must be repeatable: a paged scan of the client's
// cache (history/cache.Source) or a loop over a slice (SliceSource).
type Source func(fn func(*Item) error) error

// SliceSource serves items from memory.
func SliceSource(items []Item) Source {
	return func(fn func(*Item) error) error {
		for i := range items {
			it := items[i]
			if err := fn(&it); err != nil {
				return err
			}
		}
		return nil
	}
}

// itemWriter is what both format writers offer.
type itemWriter interface {
	Write(*Item) error
	Close() (*Report, error)
}

// Export writes room's history from src to w in two streaming passes and
// returns the report of what the format could not carry.
func Export(w io.Writer, room Room, src Source, opts ExportOptions) (*Report, error) {
	plan := NewPlan(opts.Now, opts.Since, opts.Thread)
	var members []Member
	index := map[string]int{}
	add := func(uri string) {
		if _, ok := index[uri]; uri != "" && !ok && uri != room.ID {
			index[uri] = len(members)
			members = append(members, Member{URI: uri})
		}
	}
	err := src(func(it *Item) error {
		plan.Scan(it)
		add(it.Sender)
		if ev := it.Event; ev != nil {
			add(ev.Actor)
			add(ev.Target)
			if ev.Kind == content.EventRoleChange {
				members[index[ev.Target]].Role = ev.Role.String()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: export %s: %w", room.ID, err)
	}
	for _, k := range opts.Members {
		i, ok := index[k.URI]
		if !ok {
			if add(k.URI); k.URI == "" || k.URI == room.ID {
				continue
			}
			i = index[k.URI]
		}
		m := &members[i]
		if m.Name == "" {
			m.Name = k.Name
		}
		if m.Role == "" {
			m.Role = k.Role
		}
		if len(m.Thumbprints) == 0 {
			m.Thumbprints = k.Thumbprints
		}
	}
	var iw itemWriter
	switch opts.Format {
	case FormatVCon:
		vw, err := NewVConWriter(w, room, members, VConOptions{CreatedAt: opts.Now, Fetch: opts.Fetch})
		if err != nil {
			return nil, err
		}
		iw = vw
	case FormatCPIM:
		if opts.Fetch != nil {
			plan.Report.Drop("embedded attachments (CPIM export keeps references only)", 1)
		}
		iw = NewCPIMWriter(w, room, members, opts.Now)
	default:
		return nil, fmt.Errorf("history: cannot export to %q (vcon or cpim)", opts.Format)
	}
	err = src(func(it *Item) error {
		out, keep := plan.Filter(*it)
		if !keep {
			return nil
		}
		return iw.Write(&out)
	})
	rep, cerr := iw.Close()
	if err == nil {
		err = cerr
	}
	for k, v := range plan.Report.Dropped {
		rep.Drop(k, v)
	}
	for k, v := range plan.Report.Notes {
		rep.Note(k, v)
	}
	return rep, err
}
