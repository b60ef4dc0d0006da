// Command mimichat is a terminal chat client for the IETF MIMI content format,
// with the provider relay it talks to and tools for interop testers. The
// commands live in package cli.
package main

import (
	"os"

	"mimichat/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
