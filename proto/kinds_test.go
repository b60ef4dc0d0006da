package proto

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// Kinds lists exactly the Kind constants declared in frames.go (their
// values read from the source, so a new constant missing from Kinds fails
// here).
func TestKindsListsEveryKind(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "frames.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Kind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Kind" {
				continue
			}
			for i, n := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: want a string literal", n.Name)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Kind(s))
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no Kind constants found in frames.go")
	}
	for _, k := range declared {
		if !slices.Contains(Kinds[:], k) {
			t.Errorf("Kinds lacks %q", k)
		}
	}
	if len(Kinds) != len(declared) {
		t.Errorf("Kinds has %d entries, frames.go declares %d Kind constants", len(Kinds), len(declared))
	}
}
