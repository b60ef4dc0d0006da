// Package sqlite is the relay's SQLite store backend: store.Store over one
// embedded database file in WAL mode, with one connection for the relay's
// group-commit writer and a small pool for readers beside it. It is the
// only place in the relay that speaks SQL.
package sqlite
