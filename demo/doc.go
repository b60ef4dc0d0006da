// Package demo runs `mimichat demo`: an in-process relay on loopback with a
// temporary data directory, three scripted peers in a few rooms, and an
// account for the user, so a newcomer sees a living room with one command.
//
// The peers are real sessions over real websockets; they do everything the
// client can show (Markdown, replies, reactions changed and removed, edits,
// deletes, a thread, a knock, an expiring message, an encrypted attachment
// served from a loopback HTTP server, a call link, receipts, typing, joins
// and leaves), and they answer the user.
package demo
