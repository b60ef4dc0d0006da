package render

import "flag"

var update = flag.Bool("update", false, "rewrite generated files and golden files")
