package demo

// Visitors are more people in the same demo: the booth (`mimichat demo
// --ssh`) adds one account per SSH session. The peers treat a visitor as
// they treat the user: they answer it, send it receipts and share the
// Welcome back room's history once it joins.

import (
	"fmt"
	"path/filepath"
	"time"

	"mimichat/session"
)

// AddVisitor creates the demo account name (a valid user slug not taken
// yet; relay.ErrUserExists otherwise) and returns its session options, with
// its own data directory under the demo's. The account joins nothing: Join
// joins a started session to every demo room, which are open.
func (d *Demo) AddVisitor(name string) (session.Options, error) {
	u, tok, err := d.relay.Store().AddUser(Domain, name)
	if err != nil {
		return session.Options{}, fmt.Errorf("demo: add visitor %s: %w", name, err)
	}
	return session.Options{Relay: d.User.Relay, User: u.URI, Token: tok,
		DataDir: filepath.Join(d.dir, "visitors", name), ClientName: "mimichat-booth",
		Backoff: session.Backoff{Initial: 100 * time.Millisecond, Max: 2 * time.Second}}, nil
}

// Reserved reports whether name is one of the demo's own accounts (the
// peers and the local user), which a visitor cannot be.
func Reserved(name string) bool {
	switch name {
	case "you", "alice", "bob", "carol":
		return true
	}
	return false
}

// isPeer reports whether uri is one of the scripted peers.
func (d *Demo) isPeer(uri string) bool {
	for _, p := range d.peers {
		if p.uri == uri {
			return true
		}
	}
	return false
}
