// Package mls implements the Messaging Layer Security protocol (RFC 9420) on
// the Go standard library only, because every MIMI document travels inside MLS
// and no Go MLS library can be installed here.
//
// The API is bytes in, bytes out: key packages, commits, Welcomes, GroupInfos
// and application messages are serialized MLSMessages, and a member's state
// is saved and loaded with Group.Save and LoadGroup, so a session can persist
// it and a relay can forward messages without knowing their structure.
//
// Entry points: NewIdentity, NewKeyPackage, NewGroup, JoinFromWelcome,
// JoinExternal, and on a Group: Commit, Process, Encrypt, Propose*, Export.
// A Group is not safe for concurrent use.
//
// For MIMI it adds draft-ietf-mls-extensions' SelfRemove proposal and
// last-resort key packages, MIMI device credentials, and HubGroup: the view
// of a group a hub (the relay) keeps without being a member, to verify and
// apply public handshake messages and enforce the room's policy.
//
// Supported cipher suites: 0x0001 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519),
// 0x0002 (P-256), 0x0005 (P-521) and 0x0007 (P-384). Others are rejected with
// ErrUnsupportedCipherSuite. See docs/mls.md.
package mls
