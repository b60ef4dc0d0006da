// A ts-mls client driven by mls/interop_tsmls_test.go: one JSON request per
// stdin line, one JSON reply per stdout line. Bytes travel as hex.
import readline from "node:readline"
import { createHash } from "node:crypto"
import {
  createApplicationMessage, createCommit, createGroup, createProposal, joinGroup, joinGroupExternal,
  processMessage, acceptAll, emptyPskIndex, getCiphersuiteImpl, getCiphersuiteFromName, defaultCapabilities,
  defaultLifetime, generateKeyPackage, encodeMlsMessage, decodeMlsMessage, mlsExporter,
  createGroupInfoWithExternalPubAndRatchetTree,
} from "ts-mls"

const hex = (b) => Buffer.from(b).toString("hex")
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"))
const enc = new TextEncoder()
const dec = new TextDecoder()

let impl, kp, state

function decode(h) {
  const r = decodeMlsMessage(unhex(h), 0)
  if (!r) throw new Error("ts-mls could not decode the MLSMessage")
  return r[0]
}

const wrap = (m) => hex(encodeMlsMessage({ version: "mls10", ...m }))

const ops = {
  // lastResort: mark the key package last resort (draft-ietf-mls-extensions:
  // app_data_dictionary extension 0x0006 holding component 0x0004, empty data).
  // proposals: extra proposal types to advertise in the capabilities.
  async init({ suite, name, lastResort, proposals }) {
    impl = await getCiphersuiteImpl(getCiphersuiteFromName(suite))
    const caps = defaultCapabilities()
    caps.proposals = [...caps.proposals, ...(proposals ?? [])]
    const extensions = lastResort ? [{ extensionType: 6, extensionData: unhex("03000400") }] : []
    kp = await generateKeyPackage({ credentialType: "basic", identity: enc.encode(name) }, caps, defaultLifetime, extensions, impl)
    return { keyPackage: wrap({ wireformat: "mls_key_package", keyPackage: kp.publicPackage }) }
  },
  async create({ groupId }) {
    state = await createGroup(unhex(groupId), kp.publicPackage, kp.privatePackage, [], impl)
    return {}
  },
  async join({ welcome }) {
    const m = decode(welcome)
    state = await joinGroup(m.welcome, kp.publicPackage, kp.privatePackage, emptyPskIndex, impl)
    return {}
  },
  async joinExternal({ groupInfo }) {
    const m = decode(groupInfo)
    const r = await joinGroupExternal(m.groupInfo, kp.publicPackage, kp.privatePackage, false, impl)
    state = r.newState
    return { commit: wrap({ wireformat: "mls_public_message", publicMessage: r.publicMessage }) }
  },
  async commit({ add, remove, public: pub }) {
    const extraProposals = []
    for (const k of add ?? []) extraProposals.push({ proposalType: "add", add: { keyPackage: decode(k).keyPackage } })
    for (const leaf of remove ?? []) extraProposals.push({ proposalType: "remove", remove: { removed: leaf } })
    const r = await createCommit({ state, cipherSuite: impl }, { extraProposals, ratchetTreeExtension: true, wireAsPublicMessage: !!pub })
    state = r.newState
    return {
      commit: hex(encodeMlsMessage(r.commit)),
      welcome: r.welcome ? wrap({ wireformat: "mls_welcome", welcome: r.welcome }) : "",
    }
  },
  async proposeRemove({ leaf, public: pub }) {
    const r = await createProposal(state, !!pub, { proposalType: "remove", remove: { removed: leaf } }, impl)
    state = r.newState
    return { proposal: hex(encodeMlsMessage(r.message)) }
  },
  async send({ text }) {
    const r = await createApplicationMessage(state, enc.encode(text), impl)
    state = r.newState
    return { message: wrap({ wireformat: "mls_private_message", privateMessage: r.privateMessage }) }
  },
  // sendMimi sends a MIMI content message (draft-ietf-mimi-content-08
  // mimiContent) built here from the draft's CDDL, not by mimichat's
  // encoder: one inline text part from sender in room.
  async sendMimi({ text, sender, room, contentType }) {
    const body = mimiText(text, sender, room, contentType || "text/markdown;variant=GFM-MIMI")
    const r = await createApplicationMessage(state, body, impl)
    state = r.newState
    return { message: wrap({ wireformat: "mls_private_message", privateMessage: r.privateMessage }), content: hex(body),
      id: hex(mimiID(sender, room, body)) }
  },
  async process({ message }) {
    const r = await processMessage(decode(message), state, emptyPskIndex, acceptAll, impl)
    state = r.newState
    if (r.kind === "applicationMessage") return { kind: "application", text: dec.decode(r.message) }
    return { kind: "handshake", action: r.actionTaken }
  },
  async groupInfo() {
    const gi = await createGroupInfoWithExternalPubAndRatchetTree(state, [], impl)
    return { groupInfo: wrap({ wireformat: "mls_group_info", groupInfo: gi }) }
  },
  async status({ label, context, length }) {
    const exported = await mlsExporter(state.keySchedule.exporterSecret, label, unhex(context), length, impl)
    return {
      epoch: Number(state.groupContext.epoch),
      epochAuthenticator: hex(state.keySchedule.epochAuthenticator),
      exported: hex(exported),
    }
  },
}

// A minimal CBOR writer (RFC 8949 preferred serialization: shortest
// lengths, definite-length items), enough for mimiContent.
function cborHead(major, n) {
  if (n < 24) return [(major << 5) | n]
  if (n < 0x100) return [(major << 5) | 24, n]
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff]
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
}
function cbor(v) {
  if (v === null) return [0xf6]
  if (typeof v === "number") return cborHead(0, v)
  if (typeof v === "string") { const b = enc.encode(v); return [...cborHead(3, b.length), ...b] }
  if (v instanceof Uint8Array) return [...cborHead(2, v.length), ...v]
  if (Array.isArray(v)) return [...cborHead(4, v.length), ...v.flatMap(cbor)]
  if (v instanceof Map) return [...cborHead(5, v.size), ...[...v].flatMap(([k, x]) => [...cbor(k), ...cbor(x)])]
  throw new Error(`cbor: cannot encode ${typeof v}`)
}

// mimiText is mimiContent = [salt, replaces, topicId, expires, inReplyTo,
// mimiExtensions, nestedPart] with nestedPart = [disposition render (1),
// language "", cardinality single (1), contentType, content].
function mimiText(text, sender, room, contentType) {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const ext = new Map([[1, sender], [2, room]]) // senderUri, roomUri
  const part = [1, "", 1, contentType, enc.encode(text)]
  return new Uint8Array(cbor([salt, null, new Uint8Array(0), null, null, ext, part]))
}

// mimiID is the -08 message ID: 0x01 (SHA-256) || the first 31 octets of
// SHA-256(u16 len || senderUri || u16 len || roomUri || content || salt).
function mimiID(sender, room, body) {
  const u16 = (n) => new Uint8Array([n >> 8, n & 0xff])
  const s = enc.encode(sender), r = enc.encode(room)
  const salt = body.subarray(2, 18) // the content starts 0x87 0x50: an array of 7, a 16-byte bstr
  const h = createHash("sha256").update(u16(s.length)).update(s).update(u16(r.length)).update(r).update(body).update(salt).digest()
  return new Uint8Array([1, ...h.subarray(0, 31)])
}

const rl = readline.createInterface({ input: process.stdin })
for await (const line of rl) {
  let reply
  try {
    const req = JSON.parse(line)
    const op = ops[req.op]
    if (!op) throw new Error(`unknown op ${req.op}`)
    reply = { ok: true, ...(await op(req)) }
  } catch (e) {
    reply = { ok: false, error: String(e && e.stack ? e.stack : e) }
  }
  process.stdout.write(JSON.stringify(reply) + "\n")
}
