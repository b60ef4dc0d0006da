package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"mimichat/content"
)

// The content tools let interop testers hold mimichat against other
// implementations byte for byte: decode, re-encode, and derive IDs.

// contentSubcommands is the table of `mimichat content …`.
var contentSubcommands = []*command{
	{name: "decode", usage: "[--as message|status|auto] [--sender URI --room URI] [--rule 08|07] [FILE]",
		summary: "Decode one MIMI CBOR document (raw or hex; FILE or stdin) and print its JSON view.\n" +
			"With --sender and --room it also prints the message ID.",
		flags: contentDecodeCommand},
	{name: "encode", usage: "[--hex] [FILE]",
		summary: "Encode a JSON view (as printed by decode; FILE or stdin) back to deterministic CBOR.",
		flags:   contentEncodeCommand},
	{name: "id", usage: "--sender URI --room URI [--rule 08|07] [FILE]",
		summary: "Print the message ID of a MIMI CBOR message (raw or hex; FILE or stdin), over the bytes as given.",
		flags:   contentIDCommand},
}

// readInput reads FILE, or stdin when no file (or "-") is named.
func readInput(fsArgs []string, c *call) ([]byte, error) {
	switch len(fsArgs) {
	case 0:
		return readAll(c.in, "stdin")
	case 1:
		if fsArgs[0] == "-" {
			return readAll(c.in, "stdin")
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
func readCBOR(fsArgs []string, c *call) ([]byte, error) {
	in, err := readInput(fsArgs, c)
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

func contentDecodeCommand(fs *flag.FlagSet) runFunc {
	as := fs.String("as", "auto", "what the input is: message, status (a message-status report), or auto")
	sender := fs.String("sender", "", "sender URI, to print the message ID")
	room := fs.String("room", "", "room URI, to print the message ID")
	rule := fs.String("rule", "08", "message ID rule: 08, or 07 for peers on draft -07")
	return func(c *call) error {
		if (*sender == "") != (*room == "") {
			return fmt.Errorf("%w: --sender and --room go together", errUsage)
		}
		r, err := idRule(*rule)
		if err != nil {
			return err
		}
		raw, err := readCBOR(c.args, c)
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
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return err
		}
		return c.out.writeJSON(b.Bytes())
	}
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

func contentEncodeCommand(fs *flag.FlagSet) runFunc {
	asHex := fs.Bool("hex", false, "print lowercase hex instead of raw CBOR")
	return func(c *call) error {
		in, err := readInput(c.args, c)
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
			_, err = fmt.Fprintln(c.out, hex.EncodeToString(b))
			return err
		}
		_, err = c.out.data().Write(b) // CBOR, as asked: binary, not text
		return err
	}
}

func contentIDCommand(fs *flag.FlagSet) runFunc {
	sender := fs.String("sender", "", "sender URI (required)")
	room := fs.String("room", "", "room URI (required)")
	rule := fs.String("rule", "08", "message ID rule: 08, or 07 for peers on draft -07")
	return func(c *call) error {
		if *sender == "" || *room == "" {
			return fmt.Errorf("%w: --sender and --room are required", errUsage)
		}
		r, err := idRule(*rule)
		if err != nil {
			return err
		}
		raw, err := readCBOR(c.args, c)
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
		_, err = fmt.Fprintln(c.out, id)
		return err
	}
}
