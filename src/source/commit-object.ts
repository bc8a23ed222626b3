// Git commit and tag objects: headers parsed, and the signed payload recovered exactly as git does
// (commit.c parse_buffer_signed_by_header for commits; gpg-interface.c parse_signature for tags).
import { InputError } from '../core/index.ts';

export interface GitIdent {
  readonly name: string;
  readonly email: string;
  /** Seconds since the epoch. */
  readonly time: number;
}

export interface CommitObject {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitIdent;
  readonly committer: GitIdent;
  /** The signature header's value (continuation lines joined, leading space removed), if any. */
  readonly signature?: string;
  /** The bytes that were signed: the object without the signature header. */
  readonly payload: Uint8Array;
  /** Tags embedded by merges of signed tags (mergetag headers), each as raw tag object text. */
  readonly mergetags: readonly Uint8Array[];
  readonly message: string;
}

const NL = 0x0a;
const SPACE = 0x20;
// gpg-interface.c gpg_sig_headers: the header for each object format. In a SHA-1 repository
// "gpgsig" holds the signature and "gpgsig-sha256" is another signature that is also left out.
const SIG_HEADER = { sha1: 'gpgsig', sha256: 'gpgsig-sha256' } as const;

function startsWith(buf: Uint8Array, at: number, prefix: string): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * git commit.c parse_buffer_signed_by_header: walks header lines; a line "gpgsig <v>" and the
 * continuation lines (starting with a space) after it form the signature; any other "gpgsig*"
 * header and its continuations are dropped; everything else — including mergetag headers and their
 * continuation lines, and the whole body after the blank line — is the payload.
 */
export function splitSignedCommit(raw: Uint8Array, objectFormat: 'sha1' | 'sha256' = 'sha1'): { payload: Uint8Array; signature?: string } {
  const header = `${SIG_HEADER[objectFormat]} `;
  const payload: Uint8Array[] = [];
  const signature: Uint8Array[] = [];
  let inSignature = false;
  let otherSignature = false;
  let sawSignature = false;
  let line = 0;
  while (line < raw.length) {
    let next = raw.indexOf(NL, line);
    next = next < 0 ? raw.length : next + 1;
    let sigStart = -1;
    if (inSignature && raw[line] === SPACE) sigStart = line + 1;
    else if (startsWith(raw, line, header)) {
      sigStart = line + header.length;
      otherSignature = false;
    } else if (startsWith(raw, line, 'gpgsig')) otherSignature = true;
    else if (otherSignature && raw[line] !== SPACE) otherSignature = false;
    if (sigStart >= 0) {
      signature.push(raw.subarray(sigStart, next));
      sawSignature = true;
      inSignature = true;
    } else {
      // The blank line ends the header: the whole remainder is payload.
      if (raw[line] === NL) next = raw.length;
      if (!otherSignature) payload.push(raw.subarray(line, next));
      inSignature = false;
    }
    line = next;
  }
  const out = Buffer.concat(payload);
  return sawSignature ? { payload: out, signature: Buffer.concat(signature).toString('utf8') } : { payload: out };
}

function parseIdent(value: string, what: string): GitIdent {
  // "Name <email> 1700000000 +0000"
  const m = /^(.*?) ?<([^>]*)> (\d+) [+-]\d{4}$/.exec(value);
  if (m === null) throw new InputError('INPUT_INVALID', `commit: malformed ${what} line`);
  return { name: m[1] ?? '', email: m[2] ?? '', time: Number(m[3]) };
}

interface HeaderField {
  name: string;
  value: Uint8Array;
}

/** Header fields with continuation lines joined ("\n" between lines, leading space removed). */
function headerFields(raw: Uint8Array): { fields: HeaderField[]; bodyStart: number } {
  const fields: HeaderField[] = [];
  let line = 0;
  while (line < raw.length) {
    let next = raw.indexOf(NL, line);
    next = next < 0 ? raw.length : next + 1;
    if (raw[line] === NL) return { fields, bodyStart: next };
    const end = raw[next - 1] === NL ? next - 1 : next;
    const last = fields[fields.length - 1];
    if (raw[line] === SPACE && last !== undefined) {
      last.value = Buffer.concat([last.value, Buffer.from('\n'), raw.subarray(line + 1, end)]);
    } else {
      const sp = raw.indexOf(SPACE, line);
      const nameEnd = sp < 0 || sp > end ? end : sp;
      fields.push({ name: Buffer.from(raw.subarray(line, nameEnd)).toString('latin1'), value: raw.subarray(Math.min(nameEnd + 1, end), end) });
    }
    line = next;
  }
  return { fields, bodyStart: raw.length };
}

export function parseCommitObject(raw: Uint8Array, objectFormat: 'sha1' | 'sha256' = 'sha1'): CommitObject {
  const { fields, bodyStart } = headerFields(raw);
  let tree: string | undefined;
  const parents: string[] = [];
  let author: GitIdent | undefined;
  let committer: GitIdent | undefined;
  const mergetags: Uint8Array[] = [];
  for (const f of fields) {
    const text = (): string => Buffer.from(f.value).toString('utf8');
    if (f.name === 'tree') tree = text();
    else if (f.name === 'parent') parents.push(text());
    else if (f.name === 'author') author = parseIdent(text(), 'author');
    else if (f.name === 'committer') committer = parseIdent(text(), 'committer');
    else if (f.name === 'mergetag') mergetags.push(Buffer.concat([f.value, Buffer.from('\n')]));
  }
  if (tree === undefined || author === undefined || committer === undefined) throw new InputError('INPUT_INVALID', 'commit: missing tree, author or committer');
  const split = splitSignedCommit(raw, objectFormat);
  const message = Buffer.from(raw.subarray(bodyStart)).toString('utf8');
  const base = { tree, parents, author, committer, payload: split.payload, mergetags, message };
  return split.signature === undefined ? base : { ...base, signature: split.signature };
}

export interface TagObject {
  readonly object: string;
  readonly type: string;
  readonly tag: string;
  readonly tagger?: GitIdent;
  readonly payload: Uint8Array;
  readonly signature?: string;
}

const TAG_SIG_MARKERS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN PGP MESSAGE-----', '-----BEGIN SSH SIGNATURE-----', '-----BEGIN SIGNED MESSAGE-----'];

/** gpg-interface.c parse_signature: the signature is the last line-start marker to the end. */
export function parseTagObject(raw: Uint8Array): TagObject {
  const text = Buffer.from(raw).toString('latin1');
  let sigAt = -1;
  for (let at = 0; at < text.length; ) {
    if (TAG_SIG_MARKERS.some((m) => text.startsWith(m, at))) {
      sigAt = at;
    }
    const nl = text.indexOf('\n', at);
    if (nl < 0) break;
    at = nl + 1;
  }
  const { fields } = headerFields(raw);
  const get = (n: string): string | undefined => {
    const f = fields.find((x) => x.name === n);
    return f === undefined ? undefined : Buffer.from(f.value).toString('utf8');
  };
  const object = get('object');
  const type = get('type');
  const tag = get('tag');
  if (object === undefined || type === undefined || tag === undefined) throw new InputError('INPUT_INVALID', 'tag: missing object, type or tag header');
  const tagger = get('tagger');
  const base = { object, type, tag, ...(tagger === undefined ? {} : { tagger: parseIdent(tagger, 'tagger') }) };
  if (sigAt < 0) return { ...base, payload: raw };
  return { ...base, payload: raw.subarray(0, sigAt), signature: Buffer.from(raw.subarray(sigAt)).toString('utf8') };
}

/**
 * Inserts a signature into an unsigned commit object as git does (commit.c add_header_signature):
 * a "gpgsig" header at the end of the header block, each further line of the signature prefixed
 * by one space.
 */
export function embedCommitSignature(payload: Uint8Array, armored: string, objectFormat: 'sha1' | 'sha256' = 'sha1'): Uint8Array {
  const raw = Buffer.from(payload);
  const end = raw.indexOf('\n\n');
  if (end < 0) throw new InputError('INPUT_INVALID', 'commit: no blank line after the header');
  const header = `${SIG_HEADER[objectFormat]} ${armored.replace(/\n$/, '').split('\n').join('\n ')}\n`;
  return Buffer.concat([raw.subarray(0, end + 1), Buffer.from(header), raw.subarray(end + 1)]);
}
