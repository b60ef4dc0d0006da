package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"mimichat/content"
)

// The content tools let interop testers hold mimichat against other
// implementations byte for byte: decode, re-encode, and derive IDs.

func init() {
	register(&command{
		name:    "content",
		usage:   "content decode|encode|id [flags] [FILE]",
		summary: "inspect MIMI content: CBOR to JSON and back, message IDs",
		run:     runContent,
	})
	// Set here, not in the literal: the runners read their own usage from the map.
	contentSubcommands["decode"].run = runContentDecode
	contentSubcommands["encode"].run = runContentEncode
	contentSubcommands["id"].run = runContentID
}

var contentSubcommands = map[string]*command{
	"decode": {
		name:  "content decode",
		usage: "content decode [--as message|status|auto] [--sender URI --room URI] [--rule 08|07] [FILE]",
		summary: "Decode one MIMI CBOR document (raw or hex; FILE or stdin) and print its JSON view.\n" +
			"With --sender and --room it also prints the message ID.",
	},
	"encode": {
		name:    "content encode",
		usage:   "content encode [--hex] [FILE]",
		summary: "Encode a JSON view (as printed by decode; FILE or stdin) back to deterministic CBOR.",
	},
	"id": {
		name:    "content id",
		usage:   "content id --sender URI --room URI [--rule 08|07] [FILE]",
		summary: "Print the message ID of a MIMI CBOR message (raw or hex; FILE or stdin), over the bytes as given.",
	},
}

func runContent(args []string, io stdio) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: name a subcommand: decode, encode or id", errUsage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(io.out, "usage: mimichat content decode|encode|id [flags] [FILE]")
		for _, n := range []string{"decode", "encode", "id"} {
			c := contentSubcommands[n]
			fmt.Fprintf(io.out, "\n  mimichat %s\n      %s\n", c.usage, strings.ReplaceAll(c.summary, "\n", "\n      "))
		}
		return nil
	}
	c, ok := contentSubcommands[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown subcommand %q (want decode, encode or id)", errUsage, args[0])
	}
	return c.run(args[1:], io)
}

// readInput reads FILE, or stdin when no file (or "-") is named.
func readInput(fsArgs []string, io stdio) ([]byte, error) {
	switch len(fsArgs) {
	case 0:
		return readAll(io.in, "stdin")
	case 1:
		if fsArgs[0] == "-" {
			return readAll(io.in, "stdin")
		}
		b, err := os.ReadFile(fsArgs[0])
		if err != nil {
			return nil, err
		}
		if len(b) > maxContentInput {
			return nil, fmt.Errorf("%s: larger than %d bytes", fsArgs[0], maxContentInput)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("%w: at most one FILE, got %d", errUsage, len(fsArgs))
	}
}

// maxContentInput bounds what the tools read: far above any message a relay accepts.
const maxContentInput = 64 << 20

func readAll(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxContentInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > maxContentInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxContentInput)
	}
	return b, nil
}

// cborInput accepts raw CBOR or hex (whitespace allowed). A MIMI message
// starts with 0x87, which is not a hex digit, so hex text is unambiguous.
// readCBOR reads the named file (or stdin) and returns its CBOR bytes.
func readCBOR(fsArgs []string, io stdio) ([]byte, error) {
	in, err := readInput(fsArgs, io)
	if err != nil {
		return nil, err
	}
	return cborInput(in)
}

func cborInput(b []byte) ([]byte, error) {
	t := bytes.Join(bytes.Fields(b), nil)
	if len(t) > 0 && isHex(t) {
		out := make([]byte, hex.DecodedLen(len(t)))
		if _, err := hex.Decode(out, t); err != nil {
			return nil, fmt.Errorf("hex input: %w", err)
		}
		return out, nil
	}
	if len(b) == 0 {
		return nil, errors.New("empty input: want CBOR bytes or hex")
	}
	return b, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func idRule(s string) (content.IDRule, error) {
	switch s {
	case "08", "-08", "8":
		return content.IDRule08, nil
	case "07", "-07", "7":
		return content.IDRule07, nil
	}
	return 0, fmt.Errorf("%w: --rule %q: want 08 or 07", errUsage, s)
}

// decodeOutput is what decode prints: exactly one of Message and
// StatusReport, and the ID when asked for.
type decodeOutput struct {
	Kind          string              `json:"kind"` // "message" or "status"
	MessageID     string              `json:"messageId,omitempty"`
	IDRule        string              `json:"idRule,omitempty"`
	Deterministic *bool               `json:"deterministic,omitempty"`
	Message       *content.JSONView   `json:"message,omitempty"`
	StatusReport  []statusEntryOutput `json:"statusReport,omitempty"`
}

type statusEntryOutput struct {
	MessageID string           `json:"messageId"`
	Status    content.JSONCode `json:"status"`
}

func runContentDecode(args []string, io stdio) error {
	c := contentSubcommands["decode"]
	fs := newFlagSet(c, io)
	as := fs.String("as", "auto", "what the input is: message, status (a message-status report), or auto")
	sender := fs.String("sender", "", "sender URI, to print the message ID")
	room := fs.String("room", "", "room URI, to print the message ID")
	rule := fs.String("rule", "08", "message ID rule: 08, or 07 for peers on draft -07")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*sender == "") != (*room == "") {
		return fmt.Errorf("%w: --sender and --room go together", errUsage)
	}
	r, err := idRule(*rule)
	if err != nil {
		return err
	}
	raw, err := readCBOR(fs.Args(), io)
	if err != nil {
		return err
	}
	var out decodeOutput
	switch *as {
	case "message", "auto":
		m, det, err := content.DecodeCheck(raw)
		if err != nil {
			if *as == "auto" {
				if rep, serr := content.DecodeStatusReport(raw); serr == nil {
					out = statusOutput(rep)
					break
				}
			}
			return err
		}
		view := content.ToJSONView(m)
		out = decodeOutput{Kind: "message", Message: &view, Deterministic: &det}
		if *sender != "" {
			id, err := content.ComputeIDRule(r, *sender, *room, raw)
			if err != nil {
				return err
			}
			out.MessageID, out.IDRule = id.String(), "-"+strings.TrimPrefix(*rule, "-")
		}
	case "status":
		rep, err := content.DecodeStatusReport(raw)
		if err != nil {
			return err
		}
		out = statusOutput(rep)
	default:
		return fmt.Errorf("%w: --as %q: want message, status or auto", errUsage, *as)
	}
	enc := json.NewEncoder(io.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func statusOutput(rep content.StatusReport) decodeOutput {
	out := decodeOutput{Kind: "status", StatusReport: []statusEntryOutput{}}
	for _, e := range rep {
		n := int(e.Status)
		out.StatusReport = append(out.StatusReport, statusEntryOutput{
			MessageID: e.ID.String(),
			Status:    content.JSONCode{Value: &n, Name: e.Status.String()},
		})
	}
	return out
}

func runContentEncode(args []string, io stdio) error {
	c := contentSubcommands["encode"]
	fs := newFlagSet(c, io)
	asHex := fs.Bool("hex", false, "print lowercase hex instead of raw CBOR")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in, err := readInput(fs.Args(), io)
	if err != nil {
		return err
	}
	var wrapper struct {
		Kind    string            `json:"kind"`
		Message *content.JSONView `json:"message"`
	}
	// Accept both decode's full output and a bare message view.
	var view *content.JSONView
	if err := json.Unmarshal(in, &wrapper); err == nil && wrapper.Message != nil {
		view = wrapper.Message
		if wrapper.Kind != "" && wrapper.Kind != "message" {
			return fmt.Errorf("kind %q: only messages can be encoded", wrapper.Kind)
		}
	} else {
		view = new(content.JSONView)
		if err := json.Unmarshal(in, view); err != nil {
			return fmt.Errorf("JSON view: %w", err)
		}
	}
	m, err := content.FromJSONView(view)
	if err != nil {
		return err
	}
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if *asHex {
		_, err = fmt.Fprintln(io.out, hex.EncodeToString(b))
		return err
	}
	_, err = io.out.Write(b)
	return err
}

func runContentID(args []string, io stdio) error {
	c := contentSubcommands["id"]
	fs := newFlagSet(c, io)
	sender := fs.String("sender", "", "sender URI (required)")
	room := fs.String("room", "", "room URI (required)")
	rule := fs.String("rule", "08", "message ID rule: 08, or 07 for peers on draft -07")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sender == "" || *room == "" {
		return fmt.Errorf("%w: --sender and --room are required", errUsage)
	}
	r, err := idRule(*rule)
	if err != nil {
		return err
	}
	raw, err := readCBOR(fs.Args(), io)
	if err != nil {
		return err
	}
	if _, err := content.Decode(raw); err != nil {
		return err
	}
	id, err := content.ComputeIDRule(r, *sender, *room, raw)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(io.out, id)
	return err
}
