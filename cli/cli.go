package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"mimichat/owner"
)

// command is one row of the command table (commands.go).
type command struct {
	name    string // the word typed: "send", "create"
	usage   string // what follows the full name in the usage line: "--room ROOM [TEXT]"
	summary string // one line for the command list; more lines in its own help
	// flags defines the command's flags on fs and returns the function that
	// runs the command with their parsed values. nil for a command that only
	// groups subcommands.
	flags func(fs *flag.FlagSet) runFunc
	// subs are the subcommands: `mimichat room create`, `relay user add`.
	subs []*command
}

// runFunc runs a command once its flags are parsed.
type runFunc func(c *call) error

// call is one run of a command.
type call struct {
	in io.Reader
	// out and err are the process's stdout and stderr as an output
	// (output.go): a command has no other way to print, so network text
	// cannot reach the terminal raw.
	out, err *output
	path     string   // the full name: "room create"
	args     []string // the positional arguments, flags removed
}

// stdio carries the streams so commands can be tested without a process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// errUsage marks an argument error: the caller prints the message and the
// usage line and exits 2.
var errUsage = errors.New("usage")

// defaultCommand runs when the line starts with no command: `mimichat` or
// `mimichat --theme dark`.
const defaultCommand = "chat"

// ExitPending is the exit status of a send (or outbox retry) whose message
// is durably in the outbox but was not acknowledged before --timeout: it is
// delivered by the running owner or the next command, and must not be sent
// again.
const ExitPending = 3

// Main runs the command line args (without the program name) on the
// process's streams and returns the exit status: 0 ok, 1 error (a refusal
// included), 2 usage, 3 pending (ExitPending).
func Main(args []string) int {
	defer startCPUProfile()()
	return run(args, stdio{os.Stdin, os.Stdout, os.Stderr})
}

func run(args []string, io stdio) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			return help(args[1:], io)
		}
	}
	root := &command{name: "mimichat", subs: commands}
	c, path, rest, ok := find(root, nil, args)
	if !ok {
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			newOutput(io.err).printf("mimichat: unknown command %q\nRun 'mimichat --help' for the list of commands.\n", args[0])
			return 2
		}
		c, path, rest = lookup(defaultCommand), []string{defaultCommand}, args
	}
	return runCommand(c, path, rest, io)
}

// help prints the command list, or the help of the command named by args
// (`mimichat help room create`).
func help(args []string, io stdio) int {
	if len(args) == 0 {
		printCommandList(io.out)
		return 0
	}
	root := &command{name: "mimichat", subs: commands}
	c, path, rest, ok := find(root, nil, args)
	if !ok || len(rest) > 0 {
		newOutput(io.err).printf("mimichat help: no command %q\nRun 'mimichat --help' for the list of commands.\n", strings.Join(args, " "))
		return 2
	}
	printHelp(io.out, c, strings.Join(path, " "))
	return 0
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	panic("cli: no command " + name)
}

// find walks down from c to the subcommand args name and returns it, its
// full name and the remaining arguments. A command word may follow flags of
// the command it leads to (`room --timeout 5s info lobby`, `--config f
// room invite lobby bob`). ok is false when args name no subcommand of c.
func find(c *command, path []string, args []string) (*command, []string, []string, bool) {
	for i, a := range args {
		sub := c.sub(a)
		if sub == nil {
			continue
		}
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		found, p, r, _ := find(sub, append(append([]string{}, path...), sub.name), rest)
		if i > 0 && !onlyFlags(found, args[:i]) {
			continue // a word among the arguments, or a flag's value
		}
		return found, p, r, true
	}
	return c, path, args, len(path) > 0
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// onlyFlags says whether args are nothing but flags of c with their values,
// so a subcommand word after them names c.
func onlyFlags(c *command, args []string) bool {
	if c.flags == nil {
		return false
	}
	fs := newFlagSet(c)
	c.flags(fs)
	flags, pos, complete := splitArgs(fs, args)
	return len(pos) == 0 && complete && fs.Parse(flags) == nil
}

// runCommand parses the flags of c (found at path) from args and runs it.
func runCommand(c *command, path []string, args []string, io stdio) int {
	name := strings.Join(path, " ")
	if c.flags == nil {
		// A group: its subcommand is missing or unknown.
		if slices.ContainsFunc(args, isHelp) {
			printHelp(io.out, c, name)
			return 0
		}
		msg := "missing subcommand"
		if _, pos, _ := splitArgs(groupFlags(c), args); len(pos) > 0 {
			msg = fmt.Sprintf("unknown subcommand %q", pos[0])
		}
		return usageError(c, name, msg, io)
	}
	fs := newFlagSet(c)
	runIt := c.flags(fs)
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(io.out, c, name)
		return 0
	}
	if err != nil {
		return usageError(c, name, err.Error(), io)
	}
	stderr := newOutput(io.err)
	err = runIt(&call{in: io.in, out: newOutput(io.out), err: stderr, path: name, args: pos})
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), errUsage.Error()), ": ")
		if msg == err.Error() {
			msg = "" // errUsage itself, with nothing to say
		}
		return usageError(c, name, msg, io)
	case errors.Is(err, owner.ErrPending):
		// Not an error a script should retry: the message is in the outbox
		// and is delivered later; sending the text again duplicates it.
		stderr.printError(path[0], err)
		return ExitPending
	default:
		// Runtime errors carry the top-level name (`mimichat content: …`),
		// which scripts may match on. The error's text may be the relay's
		// or a file's: printError sanitizes it.
		stderr.printError(path[0], err)
		return 1
	}
}

// groupFlags are the flags of every command under the group c, so the
// words among its arguments can be told from flag values.
func groupFlags(c *command) *flag.FlagSet {
	all := newFlagSet(c)
	var walk func(c *command)
	walk = func(c *command) {
		if c.flags != nil {
			fs := newFlagSet(c)
			c.flags(fs)
			fs.VisitAll(func(f *flag.Flag) {
				if all.Lookup(f.Name) == nil {
					all.Var(f.Value, f.Name, f.Usage)
				}
			})
		}
		for _, s := range c.subs {
			walk(s)
		}
	}
	walk(c)
	return all
}

func isHelp(a string) bool {
	switch a {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// usageError prints msg, the usage line and where to find more; exit 2.
func usageError(c *command, name, msg string, io stdio) int {
	if msg != "" {
		newOutput(io.err).printf("mimichat %s: %s\n", name, msg) // msg may quote an argument
	}
	for i, line := range usageLines(c, name) {
		if i == 0 {
			fmt.Fprintf(io.err, "usage: %s\n", line)
		} else {
			fmt.Fprintf(io.err, "       %s\n", line)
		}
	}
	fmt.Fprintf(io.err, "Run 'mimichat %s --help' for more.\n", name)
	return 2
}

// usageLines are the usage lines of c: its own, then its subcommands'.
func usageLines(c *command, name string) []string {
	var lines []string
	if c.flags != nil {
		lines = append(lines, strings.TrimSpace("mimichat "+name+" "+c.usage))
	}
	for _, s := range c.subs {
		lines = append(lines, usageLines(s, name+" "+s.name)...)
	}
	return lines
}

func printCommandList(w io.Writer) {
	fmt.Fprint(w, `mimichat: a terminal messenger for the IETF MIMI content format.

Usage:
  mimichat [command] [flags] [arguments]

With no command, mimichat runs `+defaultCommand+` (flags alone go to it: mimichat --theme dark).
Flags may come before or after the arguments; "--" ends the flags.

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, firstLine(c.summary))
	}
	fmt.Fprint(w, "\nRun 'mimichat <command> --help' for a command's flags.\n")
}

// printHelp is `mimichat NAME --help`: usage, summary, flags, subcommands.
func printHelp(w io.Writer, c *command, name string) {
	for i, l := range usageLines(c, name) {
		if i == 0 {
			fmt.Fprintf(w, "usage: %s\n", l)
		} else {
			fmt.Fprintf(w, "       %s\n", l)
		}
	}
	fmt.Fprintf(w, "\n%s\n", c.summary)
	if c.flags != nil {
		fs := newFlagSet(c)
		c.flags(fs)
		printFlags(w, fs)
	}
	if len(c.subs) > 0 {
		fmt.Fprintln(w, "\nSubcommands:")
		for _, s := range c.subs {
			fmt.Fprintf(w, "  %-13s %s\n", s.name, firstLine(s.summary))
		}
		fmt.Fprintf(w, "\nRun 'mimichat %s <subcommand> --help' for its flags.\n", name)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
