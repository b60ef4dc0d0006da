package history

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"regexp"
)

// Detect sniffs a history file's format from its first bytes: a JSON
// object with vCon keys is a vCon, other JSON (an object with "chat" or
// "sender", or an array) the first MIMI JSON format, and a MIME or CPIM
// header block CPIM.
func Detect(head []byte) (Format, error) {
	t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(t) == 0 {
		return "", &ImportError{Format: "detect", Line: 1, Rule: "empty file"}
	}
	switch t[0] {
	case '{':
		for _, k := range []string{`"dialog"`, `"parties"`, `"vcon"`, `"payload"`, `"ciphertext"`, `"uuid"`, `"room"`} {
			if bytes.Contains(t, []byte(k)) {
				return FormatVCon, nil
			}
		}
		return FormatMIMIJSON, nil
	case '[':
		return FormatMIMIJSON, nil
	}
	if headerLine.Match(t) {
		return FormatCPIM, nil
	}
	return "", &ImportError{Format: "detect", Line: 1, Rule: "not a vCon (JSON object), MIMI JSON or CPIM (header lines) file"}
}

var headerLine = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]*:`)

// Read detects the format and imports, handing items to sink in file order.
// A gzip'd file (vCon core's application/vcon+gzip, which receivers SHOULD
// accept) is decompressed as it is read, one level deep.
func Read(r io.Reader, sink func(*Item) error) (Format, *History, *Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", nil, nil, &ImportError{Format: "detect", Line: 1, Rule: "gzip header", Err: err}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
			return "", nil, nil, &ImportError{Format: "detect", Line: 1, Rule: "gzip inside gzip (one level is read)"}
		}
		f, h, rep, err := readDetected(br, sink)
		if err == nil {
			// The checksum is only checked at the end of the stream, which
			// a JSON reader stops short of.
			if _, err = io.Copy(io.Discard, br); err != nil {
				err = &ImportError{Format: f, Line: 1, Rule: "gzip stream", Err: err}
			}
		}
		return f, h, rep, err
	}
	return readDetected(br, sink)
}

var gzipMagic = []byte{0x1f, 0x8b}

func readDetected(br *bufio.Reader, sink func(*Item) error) (Format, *History, *Report, error) {
	head, _ := br.Peek(8 << 10)
	f, err := Detect(head)
	if err != nil {
		return "", nil, nil, err
	}
	var h *History
	var rep *Report
	switch f {
	case FormatVCon:
		h, rep, err = ReadVCon(br, sink)
	case FormatCPIM:
		h, rep, err = ReadCPIM(br, sink)
	case FormatMIMIJSON:
		h, rep, err = ReadMIMIJSON(br, sink)
	default:
		err = fmt.Errorf("history: unknown format %q", f)
	}
	return f, h, rep, err
}
