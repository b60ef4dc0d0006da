// Package cli is mimichat's command line: every `mimichat <command>` (the
// terminal client, the demo, the relay, the headless client commands, the
// history and content tools) in one explicit command table.
//
// It exists so the commands are a package with one shape rather than files of
// package main that register themselves: the table (commands.go) lists each
// command's name, usage, summary, flags and run function, with subcommands
// (room create, relay user add, content decode) as nested tables; one parser
// (args.go) takes flags anywhere on the line and stops at "--"; and one
// function (sessionOptions in client.go) builds the session options of every
// command that talks to the relay. Those commands work through an
// owner.Handle (clientFlags.acquire): the data directory's own session when
// no other mimichat process of the user owns it, else the owner's control
// socket; the terminal client owns its directory (owner.Own). The root
// main.go only calls Main.
package cli
