// Package keys names every action the terminal client can take from the
// keyboard and maps key presses to those actions per focus context. The UI
// asks "which action is this key here?" and never compares key strings
// itself, so every binding can be changed in the config file, a vim-style
// preset can replace the default, and the help line and docs/keys.md are
// generated from the same table the UI uses.
package keys
