// Package golden compares test output with files kept under testdata and
// rewrites them when the tests run with -update.
//
// Every package of the module that keeps golden files (screens, rendered
// messages, help text, headless output, generated docs) uses this one helper,
// so one flag refreshes them all: go test ./... -update.
package golden
