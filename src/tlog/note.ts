// C2SP signed-note: parse strictly, verify against known keys (unknown signers kept, at least one
// known valid signature required), and sign. Text in, text out; pure except for signer calls.
import { InputError, VerificationError } from '../core/index.ts';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import type { NoteSigner, NoteVerifier } from './note-keys.ts';
import { formatKeyId, isValidKeyName } from './note-keys.ts';

/** signed-note: verifiers SHOULD limit the number of signatures (MUST accept 16). Go uses 100. */
export const MAX_NOTE_SIGNATURES = 100;
/** Largest note accepted, in bytes (checkpoints are a few hundred). */
export const MAX_NOTE_SIZE = 1 << 20;

/** One signature line: key name, key ID and the signature bytes after the key ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  /** The note text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedNote {
  readonly text: string;
  /** Signatures by known keys, each verified; one per key. */
  readonly verified: readonly NoteSignature[];
  /** Signatures by keys not given to openNote, unverified, identical lines once. */
  readonly unverified: readonly NoteSignature[];
}

const SIGNATURE_PREFIX = '\u2014 '; // em dash, space
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalid(message: string): InputError {
  return new InputError('NOTE_INVALID', message);
}

/** signed-note: valid UTF-8, and no ASCII control characters other than newline. */
function checkCharacters(text: string): void {
  if (!text.isWellFormed()) throw invalid('note is not valid UTF-8');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw invalid('note contains a control character');
}

function toText(message: Uint8Array | string): string {
  if (typeof message === 'string') {
    if (Buffer.byteLength(message, 'utf8') > MAX_NOTE_SIZE) throw invalid('note is too large');
    return message;
  }
  if (message.length > MAX_NOTE_SIZE) throw invalid('note is too large');
  try {
    return decoder.decode(message);
  } catch (e) {
    throw new InputError('NOTE_INVALID', 'note is not valid UTF-8', { cause: e });
  }
}

function parseSignatureLine(line: string): NoteSignature {
  // signed-note: em dash, space, key name, space, base64(key ID ‖ signature).
  if (!line.startsWith(SIGNATURE_PREFIX)) throw invalid('malformed signature line');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? '' : rest.slice(space + 1);
  const raw = b64 === '' ? undefined : decodeBase64Strict(b64);
  if (!isValidKeyName(name) || raw === undefined || raw.length < 5) throw invalid('malformed signature line');
  const keyId = Buffer.from(raw.buffer, raw.byteOffset, 4).readUInt32BE(0);
  return { name, keyId, signature: raw.slice(4) };
}

/** Parses a signed note without verifying anything. Throws NOTE_INVALID on any malformation. */
export function parseNote(message: Uint8Array | string): ParsedNote {
  const note = toText(message);
  checkCharacters(note);
  // signed-note: the text is separated from the signatures by the last empty line.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw invalid('note has no signature block');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw invalid('note signature block must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw invalid(`note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

function verifierIndex(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const byKey = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const key = `${v.name}+${formatKeyId(v.keyId)}`;
    if (byKey.has(key)) throw new InputError('KEY_INVALID', `two verifier keys share name and key ID ${key}`);
    byKey.set(key, v);
  }
  return byKey;
}

/**
 * Parses and verifies a signed note. signed-note §Signatures: signatures from unknown keys are
 * kept unverified; a known key's signature must verify (else SIGNATURE_INVALID, the whole note
 * is rejected); at least one known key must have signed (else SIGNATURE_MISSING).
 */
export function openNote(message: Uint8Array | string, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = verifierIndex(verifiers);
  const { text, signatures } = parseNote(message);
  const textBytes = Buffer.from(text, 'utf8');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of signatures) {
    const key = `${sig.name}+${formatKeyId(sig.keyId)}`;
    const verifier = known.get(key);
    const line = `${key}+${encodeBase64(sig.signature)}`;
    if (verifier === undefined) {
      if (!seen.has(line)) unverified.push(sig);
      seen.add(line);
      continue;
    }
    // A known key's signature MUST verify, every time it appears.
    if (!verifier.verify(textBytes, sig.signature)) {
      throw new VerificationError('SIGNATURE_INVALID', `invalid signature by note key ${key}`);
    }
    if (!seen.has(key)) verified.push(sig);
    seen.add(key);
  }
  if (verified.length === 0) throw new VerificationError('SIGNATURE_MISSING', 'note has no signature by a known key');
  return { text, verified, unverified };
}

/** The signature line for a signature: `— <name> base64(key ID ‖ signature)\n`. */
export function formatSignatureLine(sig: NoteSignature): string {
  const raw = new Uint8Array(4 + sig.signature.length);
  Buffer.from(raw.buffer).writeUInt32BE(sig.keyId >>> 0, 0);
  raw.set(sig.signature, 4);
  return `${SIGNATURE_PREFIX}${sig.name} ${encodeBase64(raw)}\n`;
}

/** Checks that `text` can be the text of a note: ends in a newline, no control characters. */
export function checkNoteText(text: string): void {
  if (!text.endsWith('\n')) throw invalid('note text must end with a newline');
  checkCharacters(text);
}

/**
 * Signs `text` with each signer. As Go's note.Sign: the text, a blank line, then `existing`
 * signatures (except those by a key that signs now), then the new ones in signer order.
 */
export async function signNote(text: string, signers: readonly NoteSigner[], existing: readonly NoteSignature[] = []): Promise<string> {
  checkNoteText(text);
  const textBytes = Buffer.from(text, 'utf8');
  const fresh: NoteSignature[] = [];
  for (const signer of signers) {
    if (!isValidKeyName(signer.name)) throw new InputError('KEY_INVALID', `invalid note key name ${JSON.stringify(signer.name)}`);
    fresh.push({ name: signer.name, keyId: signer.keyId, signature: await signer.sign(textBytes) });
  }
  const replaced = new Set(fresh.map((s) => `${s.name}+${s.keyId}`));
  const kept = existing.filter((s) => !replaced.has(`${s.name}+${s.keyId}`));
  for (const s of kept) {
    if (!isValidKeyName(s.name)) throw invalid('existing signature has an invalid key name');
  }
  const all = [...kept, ...fresh];
  if (all.length === 0) throw invalid('a note needs at least one signature');
  return `${text}\n${all.map(formatSignatureLine).join('')}`;
}
