package history

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Unmapped JSON fields. encoding/json drops keys a struct has no field for
// without a word; the readers promise that every field of a document is
// either mapped into the model or named in the report. So each object the
// readers decode is also walked against the keys its Go type maps (derived
// from the json tags, matched case-insensitively as encoding/json does),
// and every other key is reported by its JSON path, array indices written
// as [] so a 100,000-message file adds one reason, not 100,000. A key that
// occurs twice in one object is reported too: only the last one is read.

// fieldSchema is what a reader maps of one JSON value: for an object the
// keys (lower case) and their values' schemas, for an array its elements'.
// A nil *fieldSchema is a value mapped whole (a string, a number, a
// json.RawMessage the reader interprets itself).
type fieldSchema struct {
	fields map[string]fieldEntry
	elem   *fieldSchema
}

// fieldEntry is one key of an object: its number (to find a key given
// twice without keeping the keys) and its value's schema.
type fieldEntry struct {
	n int
	s *fieldSchema
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[reflect.Type]*fieldSchema{}
)

var (
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// schemaFor returns the schema of the JSON values that decode into T.
func schemaFor[T any]() *fieldSchema {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	return schemaOf(reflect.TypeFor[T]())
}

func schemaOf(t reflect.Type) *fieldSchema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		if e := schemaOf(t.Elem()); e != nil {
			return &fieldSchema{elem: e}
		}
		return nil
	case reflect.Struct:
		if s, ok := schemaCache[t]; ok {
			return s // also breaks recursion (rMsg.Reference)
		}
		s := &fieldSchema{fields: map[string]fieldEntry{}}
		schemaCache[t] = s
		addFields(s, t)
		return s
	}
	return nil
}

func addFields(s *fieldSchema, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		key := strings.ToLower(name)
		n := len(s.fields)
		if old, ok := s.fields[key]; ok {
			n = old.n // a field shadowing an embedded one's (vDialogIn.PartiesRaw)
		}
		s.fields[key] = fieldEntry{n, schemaOf(f.Type)}
	}
}

// unmappedFields walks raw (valid JSON, already decoded by the caller)
// against s and reports every key s does not map, by path.
func unmappedFields(raw []byte, s *fieldSchema, path string, rep *Report) {
	if s == nil || rep == nil {
		return
	}
	walkFields(raw, s, path, rep, nil)
}

// walkFields is unmappedFields with a scratch buffer for the path, which it
// returns for the next call.
func walkFields(raw []byte, s *fieldSchema, path string, rep *Report, scratch []byte) []byte {
	if s == nil || rep == nil {
		return scratch
	}
	w := fieldWalker{b: raw, rep: rep, path: append(scratch[:0], path...)}
	w.value(s)
	return w.path
}

// fieldWalker holds the path of the value it is in as bytes, grown and cut
// as it descends, so a document without unmapped fields costs no
// allocation here.
type fieldWalker struct {
	b    []byte
	i    int
	rep  *Report
	path []byte
}

func (w *fieldWalker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\r', '\n':
			w.i++
		default:
			return
		}
	}
}

func (w *fieldWalker) value(s *fieldSchema) {
	w.ws()
	if w.i >= len(w.b) {
		return
	}
	switch {
	case w.b[w.i] == '{' && s != nil && s.fields != nil:
		w.object(s)
	case w.b[w.i] == '[' && s != nil && s.elem != nil:
		w.i++
		n := len(w.path)
		w.path = append(w.path, "[]"...)
		defer func() { w.path = w.path[:n] }()
		for {
			w.ws()
			if w.i >= len(w.b) || w.b[w.i] == ']' {
				w.i++
				return
			}
			if w.b[w.i] == ',' {
				w.i++
				continue
			}
			w.value(s.elem)
		}
	default:
		w.skip()
	}
}

func (w *fieldWalker) object(s *fieldSchema) {
	w.i++              // {
	var seen [2]uint64 // field numbers met so far
	for {
		w.ws()
		if w.i >= len(w.b) {
			return
		}
		switch w.b[w.i] {
		case '}':
			w.i++
			return
		case ',':
			w.i++
			continue
		}
		lit := w.strLit()
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == ':' {
			w.i++
		}
		f, mapped := s.fields[string(lit)] // no allocation for the lookup
		exact := mapped
		if !mapped {
			f, mapped = s.fields[strings.ToLower(jsonString(lit))]
		}
		if !mapped {
			w.drop(jsonString(lit), unmappedField)
			w.skip()
			continue
		}
		if f.n < 128 {
			word, bit := f.n/64, uint64(1)<<(f.n%64)
			if seen[word]&bit != 0 {
				w.drop(jsonString(lit), duplicateField)
			}
			seen[word] |= bit
		}
		if f.s == nil {
			w.skip()
			continue
		}
		n := len(w.path)
		w.path = append(w.path, '.')
		if exact {
			w.path = append(w.path, lit...)
		} else {
			w.path = append(w.path, strings.ToLower(jsonString(lit))...)
		}
		w.value(f.s)
		w.path = w.path[:n]
	}
}

func (w *fieldWalker) drop(key, reason string) {
	w.rep.Drop(string(w.path)+"."+key+": "+reason, 1)
}

const (
	unmappedField  = "fields mimichat does not know (not carried)"
	duplicateField = "keys given twice in one object (the last one is read)"
)

// strLit reads a JSON string literal at w.i and returns its contents
// (still escaped).
func (w *fieldWalker) strLit() []byte {
	start := w.i
	w.skip()
	if w.i-start < 2 {
		return nil
	}
	return w.b[start+1 : w.i-1]
}

// jsonString decodes the contents of a string literal.
func jsonString(lit []byte) string {
	if !containsByte(lit, '\\') {
		return string(lit)
	}
	var s string
	_ = json.Unmarshal(append(append([]byte{'"'}, lit...), '"'), &s)
	return s
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// skip moves past one JSON value.
func (w *fieldWalker) skip() {
	w.ws()
	depth := 0
	for w.i < len(w.b) {
		c := w.b[w.i]
		switch c {
		case '"':
			w.i++
			for w.i < len(w.b) && w.b[w.i] != '"' {
				if w.b[w.i] == '\\' {
					w.i++
				}
				w.i++
			}
			w.i++
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // the end of the enclosing value
			}
			depth--
			if depth == 0 {
				w.i++
				return
			}
		case ',', ':':
			if depth == 0 {
				return
			}
		}
		w.i++
	}
}
