package render

import "flag"

// update rewrites generated and golden files: go test ./render -update.
// It is shared by every test file of the package.
var update = flag.Bool("update", false, "rewrite generated files and golden files")
