// Package history moves a room's history in and out of mimichat: vCon with
// the MIMI messages extension (draft-ietf-vcon-mimi-messages-00 on vCon core
// 0.4.0), CPIM with the IMMI profile (RFC 3862, draft-mahy-dispatch-immi-
// content-00 / draft-mahy-mimi-content-01) and, import only, the first MIMI
// JSON format (draft-rosenberg-mimi-msg-format-00).
//
// It exists so a user can carry history to a new device, an admin can catch
// up a new member, and people can move history between services. Every
// format is converted through one model (History: room, members, items in
// hub order); what a format cannot carry is counted in a Report, never
// silently lost. Readers stream (one dialog entry or CPIM message at a time)
// so a 100,000-message room never sits in memory as a JSON tree.
//
// This package is pure format code: readers and writers over io.Reader and
// io.Writer, the export plan, and history offers as message content. Of
// mimichat's packages it imports only content (TestFormatCodeImportsOnlyContent),
// so the formats are tested and fuzzed without a database and serve any
// source of items. The client's cache is reached through the adapter in
// history/cache (cache.Source to export a cached room, cache.ImportFile and
// cache.ImportOffer to merge into it).
package history
