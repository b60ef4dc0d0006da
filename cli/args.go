package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet makes the FlagSet of c. It prints nothing: runCommand reports
// errors and help itself, on the right stream.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses the flags of fs wherever they are on the line and
// returns the positional arguments in order: `send --room r hello --timeout
// 5s` sends "hello" for 5 s. "--" ends the flags: everything after it is
// positional (`send --room r -- --literal`). A lone "-" is positional (stdin).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	flags, pos, _ := splitArgs(fs, args)
	if err := fs.Parse(flags); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 { // cannot happen: splitArgs passes flags and their values only
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return pos, nil
}

// splitArgs separates the flags (with their values) from the positional
// arguments, knowing from fs which flags take a value. An unknown flag is
// kept with the flags, for fs.Parse to report. complete is false when the
// last flag lacks its value.
func splitArgs(fs *flag.FlagSet, args []string) (flags, pos []string, complete bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...), true
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue // --name=value
		}
		f := fs.Lookup(name)
		if f == nil || isBoolFlag(f) {
			continue
		}
		if i+1 == len(args) {
			return flags, pos, false
		}
		i++
		flags = append(flags, args[i])
	}
	return flags, pos, true
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// hideFlag keeps a flag working but out of the help: one that is accepted
// for compatibility and means nothing to its command.
func hideFlag(fs *flag.FlagSet, name string) {
	fs.Lookup(name).Usage = ""
}

// printFlags lists the flags of fs as they are typed (--name), with their
// value type, meaning and a non-zero default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return // hidden
		}
		if n == 0 {
			fmt.Fprintln(w, "\nFlags:")
		}
		n++
		typ, usage := flag.UnquoteUsage(f)
		if t, ok := f.Value.(interface{ TypeName() string }); ok {
			typ = t.TypeName()
		}
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name
		}
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintln(w, line)
		usage = strings.ReplaceAll(usage, "\n", "\n        ")
		switch f.DefValue {
		case "", "0", "0s", "false":
		default:
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "        %s\n", usage)
	})
}
