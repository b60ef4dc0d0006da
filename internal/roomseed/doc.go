// Package roomseed fills a relay's data directory with a user in thousands
// of rooms, each with a history, in seconds: tests and benchmarks of the
// session and the UI with 1,000 or 10,000 rooms need a real relay holding
// them, and creating them one request at a time would take minutes. It
// writes through the relay's own store (relay.Store.BulkLoad), with real
// MIMI content, so everything downstream is the project's real code.
package roomseed
