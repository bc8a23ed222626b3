// C2SP tlog-checkpoint: the note body (origin, tree size, root hash, extension lines), strict
// parsing, and signing/opening through signed-note with the log key and witness cosigners.
import { InputError, VerificationError } from '../core/index.ts';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import { parseCosignature } from './cosignature.ts';
import { HASH_SIZE } from './merkle-hash.ts';
import type { OpenedNote } from './note.ts';
import { checkNoteText, openNote, signNote } from './note.ts';
import type { NoteSigner, NoteVerifier } from './note-keys.ts';
import { formatKeyId } from './note-keys.ts';

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Opaque extension lines (NOT RECOMMENDED by the spec), without newlines. */
  readonly extensions: readonly string[];
}

function invalid(message: string): InputError {
  return new InputError('CHECKPOINT_INVALID', message);
}

/** The checkpoint note text: origin, size, base64 root hash, extension lines, each ending in `\n`. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions } = checkpoint;
  if (origin === '' || origin.includes('\n')) throw invalid('the origin must be a non-empty single line');
  if (!Number.isSafeInteger(size) || size < 0) throw invalid('the tree size must be a non-negative safe integer');
  if (rootHash.length !== HASH_SIZE) throw invalid('the root hash must be 32 bytes');
  for (const line of extensions) {
    if (line === '' || line.includes('\n')) throw invalid('extension lines must be non-empty single lines');
  }
  const text = [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
  try {
    checkNoteText(text);
  } catch (e) {
    throw new InputError('CHECKPOINT_INVALID', 'checkpoint contains characters a note may not hold', { cause: e });
  }
  return text;
}

/**
 * Parses checkpoint note text strictly (tlog-checkpoint §Note text): at least three non-empty
 * lines; a decimal size without leading zeros; a base64 root of 32 bytes; non-empty extensions.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('checkpoint needs origin, size and root hash lines');
  if (lines.some((l) => l === '')) throw invalid('checkpoint lines must be non-empty');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw invalid('checkpoint tree size is not a decimal without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw invalid('checkpoint tree size exceeds 2^53 - 1, which custody does not support');
  const rootHash = decodeBase64Strict(rootText);
  if (rootHash?.length !== HASH_SIZE) throw invalid('checkpoint root hash is not base64 of 32 bytes');
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint with the log's key (and any others): the signed note text. */
export async function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): Promise<string> {
  return signNote(formatCheckpoint(checkpoint), signers);
}

export interface OpenCheckpointOptions {
  /** The log's key. Its signature is required. */
  readonly log: NoteVerifier;
  /** Expected origin line; defaults to the log key's name (tlog-checkpoint: they SHOULD match). */
  readonly origin?: string;
  /** Witness cosigner keys (tlog-cosignature/v1 or plain Ed25519 note keys). */
  readonly witnesses?: readonly NoteVerifier[];
  /** How many distinct witnesses must have cosigned (default 0). */
  readonly witnessThreshold?: number;
}

export interface Cosignature {
  readonly name: string;
  readonly keyId: number;
  /** tlog-cosignature/v1 timestamp (seconds since the epoch); undefined for plain Ed25519 witnesses. */
  readonly timestamp: bigint | undefined;
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The checkpoint note text that was signed. */
  readonly text: string;
  readonly note: OpenedNote;
  /** Verified witness cosignatures, one per witness key. */
  readonly cosignatures: readonly Cosignature[];
}

function sameKey(a: { name: string; keyId: number }, b: { name: string; keyId: number }): boolean {
  return a.name === b.name && a.keyId === b.keyId;
}

/**
 * Verifies a signed checkpoint: the log's signature (required), witness cosignatures (counted
 * against `witnessThreshold`), strict body parsing and the origin line.
 */
export function openCheckpoint(message: Uint8Array | string, options: OpenCheckpointOptions): OpenedCheckpoint {
  const witnesses = options.witnesses ?? [];
  const note = openNote(message, [options.log, ...witnesses]);
  if (!note.verified.some((s) => sameKey(s, options.log))) {
    throw new VerificationError('SIGNATURE_MISSING', `checkpoint is not signed by the log key ${options.log.name}+${formatKeyId(options.log.keyId)}`);
  }
  const checkpoint = parseCheckpoint(note.text);
  const origin = options.origin ?? options.log.name;
  if (checkpoint.origin !== origin) {
    throw new VerificationError('ORIGIN_MISMATCH', `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`);
  }
  const cosignatures: Cosignature[] = [];
  for (const sig of note.verified) {
    const witness = witnesses.find((w) => sameKey(w, sig));
    if (witness === undefined) continue;
    const timestamp = witness.algorithm === 'cosignature/v1' ? parseCosignature(sig.signature)?.timestamp : undefined;
    cosignatures.push({ name: sig.name, keyId: sig.keyId, timestamp });
  }
  const threshold = options.witnessThreshold ?? 0;
  if (cosignatures.length < threshold) {
    throw new VerificationError('THRESHOLD_NOT_MET', `checkpoint has ${cosignatures.length} of ${threshold} required witness cosignatures`);
  }
  return { checkpoint, text: note.text, note, cosignatures };
}
