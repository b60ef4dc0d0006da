// Package content implements the MIMI message content format
// (draft-ietf-mimi-content-08): the CBOR wire form, message IDs, receipts
// (draft-mahy-mimi-message-status-01), builders for every feature a client
// sends, and the room timeline that applies messages in hub order.
//
// It imports nothing else from mimichat, so the relay, the session, the UI and
// the history importers can all share one exact model of a message.
package content
