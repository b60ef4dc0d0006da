package booth

// Where visitors' accounts come from: the in-process demo makes one per
// name on demand; a real relay lends accounts from a pool its operator
// created (--accounts FILE, the output of `mimichat relay user add`).

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"mimichat/demo"
	"mimichat/proto"
	"mimichat/session"
)

// Account is what one visitor's client runs as.
type Account struct {
	Name    string          // the account's user name (the URI's last segment)
	Session session.Options // relay, user, token, data directory
	Rooms   []string        // rooms the visitor joins; the first is shown first
	Names   map[string]string
}

// Accounts lends an account to each visitor. Take returns the account for
// a visitor whose SSH user name sanitizes to want; release gives it back
// once the visitor's session is closed.
type Accounts interface {
	Take(want string) (acc Account, release func(), err error)
}

// ErrNoAccount: every account of the pool is in use.
var ErrNoAccount = errors.New("booth: every visitor account is in use")

// DemoAccounts makes demo accounts on demand. A name in use gets a suffix;
// a name whose visitor has left is lent again, with its data directory, so
// someone who reconnects finds their history.
type DemoAccounts struct {
	d     *demo.Demo
	mu    sync.Mutex
	made  map[string]session.Options
	inUse map[string]bool
}

// NewDemoAccounts lends accounts of d.
func NewDemoAccounts(d *demo.Demo) *DemoAccounts {
	return &DemoAccounts{d: d, made: map[string]session.Options{}, inUse: map[string]bool{}}
}

// Take implements Accounts.
func (a *DemoAccounts) Take(want string) (Account, func(), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	name := uniqueName(want, func(n string) bool { return !a.inUse[n] && !demo.Reserved(n) })
	o, ok := a.made[name]
	if !ok {
		var err error
		if o, err = a.d.AddVisitor(name); err != nil {
			return Account{}, nil, err
		}
		a.made[name] = o
	}
	a.inUse[name] = true
	names := make(map[string]string, len(a.d.Names))
	for k, v := range a.d.Names {
		names[k] = v
	}
	release := func() {
		a.mu.Lock()
		delete(a.inUse, name)
		a.mu.Unlock()
	}
	return Account{Name: name, Session: o, Rooms: a.d.Rooms, Names: names}, release, nil
}

// PoolAccounts lends accounts of a real relay from a fixed pool.
type PoolAccounts struct {
	relay string
	dir   string
	rooms []string
	mu    sync.Mutex
	pool  []poolAccount
}

type poolAccount struct {
	name, uri, token string
	inUse            bool
}

// AccountsFileError names the line of an accounts file that is wrong.
type AccountsFileError struct {
	Path string
	Line int
	Rule string
}

func (e *AccountsFileError) Error() string {
	return fmt.Sprintf("booth: accounts %s:%d: %s", e.Path, e.Line, e.Rule)
}

// LoadPoolAccounts reads the accounts file at path: pairs of lines
// `user URI` and `token TOKEN`, as `mimichat relay user add NAME` prints
// them (so `>> FILE` after each builds it). Blank lines and # comments are
// skipped. Each visitor's data directory is under dir; rooms are the rooms
// visitors join.
func LoadPoolAccounts(path, relay, dir string, rooms []string) (*PoolAccounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("booth: accounts: %w", err)
	}
	defer f.Close()
	p := &PoolAccounts{relay: relay, dir: dir, rooms: rooms}
	var cur *poolAccount
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		switch {
		case key == "user" && cur == nil:
			name, ok := userName(val)
			if !ok {
				return nil, &AccountsFileError{Path: path, Line: n, Rule: fmt.Sprintf("not a user URI (mimi://DOMAIN/u/NAME): %q", val)}
			}
			if seen[name] {
				return nil, &AccountsFileError{Path: path, Line: n, Rule: "user " + name + " listed twice"}
			}
			seen[name] = true
			cur = &poolAccount{name: name, uri: val}
		case key == "token" && cur != nil && val != "":
			cur.token = val
			p.pool = append(p.pool, *cur)
			cur = nil
		default:
			return nil, &AccountsFileError{Path: path, Line: n, Rule: "want a `user URI` line, then a `token TOKEN` line"}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("booth: accounts %s: %w", path, err)
	}
	if cur != nil {
		return nil, &AccountsFileError{Path: path, Line: n, Rule: "user " + cur.name + " has no token line"}
	}
	if len(p.pool) == 0 {
		return nil, &AccountsFileError{Path: path, Line: n, Rule: "no account in the file"}
	}
	return p, nil
}

// Size is the number of accounts in the pool.
func (p *PoolAccounts) Size() int { return len(p.pool) }

// Take implements Accounts: the account named want when it is free, else
// the first free one.
func (p *PoolAccounts) Take(want string) (Account, func(), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pick := -1
	for i, a := range p.pool {
		if !a.inUse && (a.name == want || pick < 0) {
			pick = i
			if a.name == want {
				break
			}
		}
	}
	if pick < 0 {
		return Account{}, nil, ErrNoAccount
	}
	a := &p.pool[pick]
	a.inUse = true
	release := func() {
		p.mu.Lock()
		a.inUse = false
		p.mu.Unlock()
	}
	o := session.Options{Relay: p.relay, User: a.uri, Token: a.token, DataDir: filepath.Join(p.dir, a.name),
		ClientName: "mimichat-booth"}
	return Account{Name: a.name, Session: o, Rooms: p.rooms}, release, nil
}

// userName is the NAME of mimi://DOMAIN/u/NAME.
func userName(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "mimi://")
	if !ok {
		return "", false
	}
	dom, name, ok := strings.Cut(rest, "/u/")
	if !ok || dom == "" || strings.Contains(dom, "/") || !proto.ValidSlug(name) {
		return "", false
	}
	return name, true
}
