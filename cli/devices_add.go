package cli

// `mimichat devices add --out FILE` gives the user's next device a relay
// token of its own (per-device tokens, issue 13): the relay binds a token
// to the first device that uses it, so a new data directory cannot share
// this one's. The token is a secret: it goes to a file only the user can
// read (or to stdout with --out -), never to stderr, a log or argv.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// devicesAddCommand is `mimichat devices add`.
func devicesAddCommand(fs *flag.FlagSet) runFunc {
	var cf clientFlags
	cf.register(fs, 30*time.Second)
	out := fs.String("out", "", "write the new device's token to this file (created 0600; it must not exist), or - for stdout")
	return func(c *call) error {
		if err := noArgs(c); err != nil {
			return err
		}
		if *out == "" {
			return fmt.Errorf("%w: devices add needs --out FILE (or --out - for stdout)", errUsage)
		}
		var f *os.File
		if *out != "-" {
			// Created before asking, so a bad path costs no token.
			var err error
			if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
				return fmt.Errorf("devices add: %w", err)
			}
			defer f.Close()
		}
		ctx, cancel := commandContext(cf.timeout)
		defer cancel()
		h, _, err := cf.acquire(ctx, c, "devices add")
		if err != nil {
			if f != nil {
				os.Remove(*out)
			}
			return err
		}
		defer h.Close()
		tok, expires, err := h.NewDeviceToken(ctx)
		if err != nil {
			if f != nil {
				os.Remove(*out)
			}
			return err
		}
		when := expires.UTC().Format(time.RFC3339)
		if f == nil {
			return c.out.printf("%s\n", oneLine(tok))
		}
		_, werr := f.WriteString(tok + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			os.Remove(*out)
			return fmt.Errorf("devices add: write %s: %w", *out, err)
		}
		return c.out.printf("token-file %s expires %s\n", oneLine(*out), when)
	}
}
