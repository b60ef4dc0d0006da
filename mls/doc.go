// Package mls implements the Messaging Layer Security protocol (RFC 9420) on
// the Go standard library only, because every MIMI document travels inside MLS
// and no Go MLS library can be installed here.
//
// The API is bytes in, bytes out: messages, key packages and group state are
// TLS-presentation-language encoded byte strings, so a session can store them
// and a relay can forward them without knowing their structure.
//
// Supported cipher suites: 0x0001 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519),
// 0x0002 (P-256), 0x0005 (P-521) and 0x0007 (P-384). Others are rejected with
// ErrUnsupportedCipherSuite.
package mls
