package cli

// mimichat search: the cache's full-text search (session.Store.Search), as
// /search in the terminal client, for scripts.

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// searchJSON is one result of `mimichat search --json`.
type searchJSON struct {
	Room    string `json:"room"`
	Seq     uint64 `json:"seq"`
	ID      string `json:"id"`
	Time    string `json:"time"`
	Sender  string `json:"sender"`
	Snippet string `json:"snippet"` // matches in [[ ]]
}

// searchCommand is `mimichat search`.
func searchCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 60*time.Second)
	room := fs.String("room", "", "only this room (URI or local name)")
	limit := fs.Int("limit", 20, "at most this many results, newest first")
	asJSON := fs.Bool("json", false, "print one JSON object per result")
	return func(c *call) error {
		if len(c.args) == 0 || *limit <= 0 {
			return fmt.Errorf("%w: need the words to search for (and a positive --limit)", errUsage)
		}
		st, r, err := cf.openCache()
		if err != nil {
			return err
		}
		defer st.Close()
		rid := ""
		if *room != "" {
			if rid, err = roomURI(*room, r.User); err != nil {
				return err
			}
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		hits, err := st.Search(ctx, strings.Join(c.args, " "), rid, *limit)
		if err != nil {
			return err
		}
		for _, h := range hits {
			var snip strings.Builder
			for _, sp := range h.Snippet {
				if sp.Match {
					snip.WriteString("[[" + sp.Text + "]]")
				} else {
					snip.WriteString(sp.Text)
				}
			}
			if *asJSON {
				if err := c.out.jsonLine(searchJSON{Room: h.Room, Seq: h.Seq, ID: h.ID.String(),
					Time: h.Time.Format(time.RFC3339), Sender: h.Sender, Snippet: snip.String()}); err != nil {
					return err
				}
				continue
			}
			if err := c.out.printf("%s %s %d %s %s\n", h.Time.Local().Format("2006-01-02 15:04"), h.Room, h.Seq, h.Sender,
				oneLine(snip.String())); err != nil {
				return err
			}
		}
		return nil
	}
}
