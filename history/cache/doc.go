// Package cache connects the history formats to the client's history cache
// (session.Store): a cached room as the source of an export, and the three
// imports into it (a file, a history offer, items in memory).
//
// It exists so package history stays pure format code (readers and writers
// over io.Reader, io.Writer and the History model, importing content but
// not session): the formats are tested and fuzzed without a database, and
// whatever else holds history (a server, a test) can use them. What only the
// cache needs lives here: converting entries to items and back (through
// session's kind and role tables), skipping what the cache already holds,
// numbering entries below a cached run, and the streaming import that
// parses a file on one goroutine while one transaction writes it on another.
//
// Imports flow one way: cache uses history, session, content and proto;
// the commands and the UI use cache.
package cache
