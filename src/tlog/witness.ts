// C2SP tlog-witness: the add-checkpoint request body, and the witness's decision for one request
// (verify the log's signature, check the old size against the last checkpoint it cosigned for
// that origin, verify the consistency proof). Pure: state and signing belong to the caller.
import { InputError } from '../core/index.ts';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import { openCheckpoint, type OpenedCheckpoint } from './checkpoint.ts';
import { hashesEqual } from './merkle-hash.ts';
import { verifyConsistency } from './merkle-proof.ts';
import { parseNote } from './note.ts';
import type { NoteVerifier } from './note-keys.ts';
import type { TreeHead } from './tile-reader.ts';

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note. */
  readonly checkpoint: string;
}

/** tlog-witness §add-checkpoint: `old <size>\n`, one base64 proof hash per line, a blank line, the checkpoint. */
export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  return `old ${request.oldSize}\n${request.proof.map((h) => `${encodeBase64(h)}\n`).join('')}\n${request.checkpoint}`;
}

export function parseAddCheckpointRequest(body: string): AddCheckpointRequest {
  const bad = (m: string): InputError => new InputError('INPUT_INVALID', `add-checkpoint request: ${m}`);
  const blank = body.indexOf('\n\n');
  if (blank < 0) throw bad('no blank line before the checkpoint');
  const head = body.slice(0, blank).split('\n');
  const first = head.shift() ?? '';
  const m = /^old (0|[1-9][0-9]*)$/.exec(first);
  if (m === null || !Number.isSafeInteger(Number(m[1]))) throw bad('the first line must be "old <size>"');
  if (head.length > 63) throw bad('too many proof lines');
  const proof = head.map((line) => {
    const h = decodeBase64Strict(line);
    if (h?.length !== 32) throw bad('a proof line is not base64 of 32 bytes');
    return h;
  });
  const checkpoint = body.slice(blank + 2);
  if (checkpoint === '') throw bad('no checkpoint');
  return { oldSize: Number(m[1]), proof, checkpoint };
}

export type AddCheckpointDecision =
  | { readonly status: 200; readonly opened: OpenedCheckpoint }
  /** tlog-witness: 409 Conflict, body = the size the witness knows (text/x.tlog.size). */
  | { readonly status: 409; readonly size: number }
  | { readonly status: 400 | 403 | 404 | 422; readonly code: string; readonly message: string };

/**
 * Decides an add-checkpoint request. `logs` are the log keys the witness follows (origin = key
 * name); `latest` is the last tree head cosigned for an origin. On 200 the caller stores the new
 * head and cosigns `opened.text`.
 */
export function decideAddCheckpoint(
  request: AddCheckpointRequest,
  logs: readonly NoteVerifier[],
  latest: (origin: string) => TreeHead | undefined,
): AddCheckpointDecision {
  let origin: string;
  try {
    origin = parseNote(request.checkpoint).text.split('\n', 1)[0]!;
  } catch (e) {
    return { status: 400, code: 'NOTE_INVALID', message: (e as Error).message };
  }
  const log = logs.find((l) => l.name === origin);
  // tlog-witness: an unknown origin is 404.
  if (log === undefined) return { status: 404, code: 'LOG_UNKNOWN', message: `unknown log ${origin}` };
  let opened: OpenedCheckpoint;
  try {
    opened = openCheckpoint(request.checkpoint, { log, origin });
  } catch (e) {
    // tlog-witness: a checkpoint not signed by the log's key is 403.
    return { status: 403, code: 'SIGNATURE_INVALID', message: (e as Error).message };
  }
  const { size, rootHash } = opened.checkpoint;
  if (request.oldSize > size) return { status: 400, code: 'INPUT_INVALID', message: 'old size is larger than the checkpoint size' };
  const known = latest(origin);
  // tlog-witness: the old size must be the size of the latest checkpoint cosigned, else 409.
  if ((known?.size ?? 0) !== request.oldSize) return { status: 409, size: known?.size ?? 0 };
  if (known === undefined || known.size === 0) {
    if (request.proof.length !== 0) return { status: 422, code: 'PROOF_INVALID', message: 'a consistency proof from size 0 must be empty' };
    return { status: 200, opened };
  }
  if (size === known.size) {
    if (request.proof.length !== 0 || !hashesEqual(rootHash, known.rootHash)) {
      return { status: 409, size: known.size }; // same size, different root: a split view
    }
    return { status: 200, opened };
  }
  try {
    verifyConsistency(known.size, size, request.proof, known.rootHash, rootHash);
  } catch (e) {
    // tlog-witness: a consistency proof that does not verify is 422.
    return { status: 422, code: 'LOG_INCONSISTENT', message: (e as Error).message };
  }
  return { status: 200, opened };
}
