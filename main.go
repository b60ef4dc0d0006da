// Command mimichat is a terminal chat client for the IETF MIMI content format,
// with the provider relay it talks to and tools for interop testers.
//
// Every subcommand lives in its own cmd_*.go file and registers itself here, so
// the client, the relay, the demo and the content tools stay independent.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one `mimichat <name>` subcommand.
type command struct {
	name    string
	usage   string // e.g. "content decode [--hex] [FILE]"
	summary string // one line for the command list
	// run gets the arguments after the subcommand name. It returns errUsage
	// (possibly wrapped) when the arguments are wrong.
	run func(args []string, stdio stdio) error
	// hidden commands are not listed in the top-level help.
	hidden bool
}

// stdio carries the streams so commands can be tested without a process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("mimichat: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an argument error: the caller prints usage and exits 2.
var errUsage = errors.New("usage")

// defaultCommand runs when mimichat is started with no arguments.
var defaultCommand = "help"

func main() {
	os.Exit(run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

func run(args []string, io stdio) int {
	name := defaultCommand
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 0 {
			if c, ok := commands[args[0]]; ok {
				return runCommand(c, []string{"--help"}, io)
			}
		}
		printHelp(io.out)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(io.err, "mimichat: unknown command %q\nRun 'mimichat --help' for the list of commands.\n", name)
		return 2
	}
	return runCommand(c, args, io)
}

func runCommand(c *command, args []string, io stdio) int {
	err := c.run(args, io)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(flagError)):
		return 2 // flag printed the message and usage already
	case errors.Is(err, errUsage):
		if msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), errUsage.Error()), ": "); msg != "" && msg != err.Error() {
			fmt.Fprintf(io.err, "mimichat %s: %s\n", c.name, msg)
		}
		fmt.Fprintf(io.err, "usage: mimichat %s\n", c.usage)
		return 2
	default:
		fmt.Fprintf(io.err, "mimichat %s: %v\n", c.name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `mimichat: a terminal messenger for the IETF MIMI content format.

Usage:
  mimichat [command] [flags] [arguments]

With no command, mimichat runs `+defaultCommand+`.

Commands:
`)
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if !c.hidden {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'mimichat <command> --help' for a command's flags.\n")
}

// newFlagSet makes a FlagSet that reports errors instead of exiting and prints
// its usage to the command's stderr.
func newFlagSet(c *command, io stdio) *flag.FlagSet {
	fs := flag.NewFlagSet("mimichat "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.err, "usage: mimichat %s\n\n%s\n", c.usage, c.summary)
		if hasFlags(fs) {
			fmt.Fprintln(io.err, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args, turning flag errors into errUsage (flag has already
// printed the message and usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError{err}
	}
	return nil
}

// flagError is a usage error whose message flag already printed.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
