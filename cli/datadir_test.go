package cli

import (
	"path/filepath"
	"testing"

	"mimichat/config"
	"mimichat/session"
)

func TestUserDataDir(t *testing.T) {
	const alice, bob = "mimi://example.com/u/alice", "mimi://example.com/u/bob"
	tests := []struct {
		name       string
		oldOwner   string // "" with oldStore: a store of no one yet
		oldStore   bool   // a store directly in the default directory
		user       string
		configured bool
		want       string // relative to the default directory; "." is itself
	}{
		{name: "no old store: the user's own directory", user: alice, want: "example.com_u_alice"},
		{name: "the old store is the user's: kept", oldStore: true, oldOwner: alice, user: alice, want: "."},
		{name: "the old store is another user's", oldStore: true, oldOwner: alice, user: bob, want: "example.com_u_bob"},
		{name: "the old store is no one's yet: kept", oldStore: true, user: bob, want: "."},
		{name: "no user (export, import): the default directory", oldStore: true, oldOwner: alice, want: "."},
		{name: "a configured directory is used as given", oldStore: true, oldOwner: alice, user: bob, configured: true, want: "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			if tt.oldStore {
				st, err := session.OpenStore(filepath.Join(base, session.StoreFile))
				if err != nil {
					t.Fatal(err)
				}
				if tt.oldOwner != "" {
					if _, err := st.BindUser(tt.oldOwner); err != nil {
						t.Fatal(err)
					}
				}
				st.Close()
			}
			configured := ""
			if tt.configured {
				configured = base
			}
			got, err := userDataDir(config.Resolved{User: tt.user, DataDir: base}, configured)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(base, tt.want); got != want {
				t.Errorf("data dir %s, want %s", got, want)
			}
		})
	}
}
