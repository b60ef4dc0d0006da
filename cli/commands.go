package cli

// commands is the command table: every `mimichat <command>`, in the order
// `mimichat --help` lists them. Each row's flags function (in the file named
// after the command) defines its flags and returns its run function;
// subcommands are nested tables.
var commands = []*command{
	{name: "chat",
		usage:   "[--config FILE] [--relay URL] [--user URI] [--token T | --token-file F] [--data-dir DIR] [--theme T] [--keys P] [--notify N] [--no-read-receipts]",
		summary: "the terminal client (the default command); offers the demo when there is no config",
		flags:   chatCommand},
	{name: "demo",
		usage:   "[--config FILE] [--theme auto|light|dark] [--keys default|vim] [--notify desktop|bell|off] [--no-read-receipts] [--pace N] [--no-script]",
		summary: "try mimichat: a local relay and three scripted peers, no setup",
		flags:   demoCommand},
	{name: "send",
		usage:   "--room ROOM [--reply ID | --react ID | --edit ID | --delete ID | --knock] [TEXT]",
		summary: "send one message and print its message ID and seq once the relay acknowledges it",
		flags:   sendCommand},
	{name: "tail",
		usage:   "--room ROOM [--since N] [--json] [--count N]",
		summary: "print a room's events as they arrive, one per line",
		flags:   tailCommand},
	{name: "rooms",
		usage:   "[--json]",
		summary: "list the rooms you are joined to or invited to",
		flags:   roomsCommand},
	{name: "room",
		summary: "create a room, manage members and roles, rename it (prints the room and the event's seq)",
		subs:    roomSubcommands},
	{name: "export",
		usage:   "--room R [--since TIME] [--thread T] --format vcon|cpim [--embed-attachments] FILE",
		summary: "write a room's cached history as a vCon or CPIM file (FILE - is stdout) and say what the format could not carry",
		flags:   exportCommand},
	{name: "import",
		usage:   "[--room R] FILE",
		summary: "merge a vCon, CPIM or MIMI JSON history file into the cache (format detected; all or nothing)",
		flags:   importCommand},
	{name: "content",
		summary: "inspect MIMI content: CBOR to JSON and back, message IDs",
		subs:    contentSubcommands},
	{name: "relay",
		usage:   "[--listen ADDR] [--data DIR] [--domain D] [--tls-cert F --tls-key F] [--insecure] [--sync full|normal] [--rate N] [--max-blob SIZE] [--blob-quota SIZE] [-v]",
		summary: "run the provider relay (hub), or manage its users",
		flags:   relayCommand,
		subs: []*command{
			{name: "user", summary: "manage the relay's users", subs: relayUserSubcommands},
		}},
}
