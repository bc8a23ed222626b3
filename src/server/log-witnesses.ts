// The log's side of C2SP tlog-witness: send each new checkpoint with a consistency proof from the
// size the witness last cosigned, learn that size from a 409, keep the cosignatures that verify,
// and require k of n. Plus the one durable file write the sequencer needs outside the file log.
import { randomBytes } from 'node:crypto';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VerificationError } from '../core/index.ts';
import {
  TileHashReader,
  consistencyProof,
  formatAddCheckpointRequest,
  openNote,
  parseCosignatureVerifierKey,
  parseNote,
  signNote,
  type NoteSignature,
  type TileFetcher,
} from '../tlog/index.ts';

export interface WitnessClient {
  /** Base URL; requests go to `<url>/add-checkpoint`. */
  readonly url: string;
  /** The witness's verifier key text. */
  readonly key: string;
}

/** Last size each witness said it cosigned (learned from 200s and 409s). */
const knownSizes = new Map<string, number>();

async function askWitness(witness: WitnessClient, signedCheckpoint: string, size: number, fetcher: TileFetcher): Promise<NoteSignature | undefined> {
  const verifier = parseCosignatureVerifierKey(witness.key);
  for (let attempt = 0; attempt < 2; attempt++) {
    const oldSize = Math.min(knownSizes.get(witness.url) ?? 0, size);
    const proof = oldSize === 0 || oldSize === size ? [] : await consistencyProof(oldSize, size, new TileHashReader(size, fetcher));
    const response = await fetch(`${witness.url.replace(/\/$/, '')}/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: formatAddCheckpointRequest({ oldSize, proof, checkpoint: signedCheckpoint }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status === 409) {
      const learned = Number(text.trim());
      if (!Number.isSafeInteger(learned) || learned < 0) return undefined;
      knownSizes.set(witness.url, learned);
      continue;
    }
    if (response.status !== 200) return undefined;
    knownSizes.set(witness.url, size);
    // The response is signature lines; keep the one by this witness if it verifies.
    const note = `${parseNote(signedCheckpoint).text}\n${text}`;
    try {
      const opened = openNote(note, [verifier]);
      return opened.verified[0];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Sends the checkpoint to every witness and returns it with the cosignatures that verified.
 * Throws THRESHOLD_NOT_MET when fewer than `threshold` witnesses cosigned.
 */
export async function gatherCosignatures(
  signedCheckpoint: string,
  size: number,
  witnesses: readonly WitnessClient[],
  fetcher: TileFetcher,
  threshold: number,
): Promise<string> {
  const results = await Promise.all(witnesses.map((w) => askWitness(w, signedCheckpoint, size, fetcher).catch(() => undefined)));
  const cosignatures = results.filter((r): r is NoteSignature => r !== undefined);
  if (cosignatures.length < threshold) {
    throw new VerificationError('THRESHOLD_NOT_MET', `${cosignatures.length} of ${threshold} required witnesses cosigned checkpoint ${size}`);
  }
  if (cosignatures.length === 0) return signedCheckpoint;
  const parsed = parseNote(signedCheckpoint);
  return signNote(parsed.text, [], [...parsed.signatures, ...cosignatures]);
}

/** Writes a file atomically and durably: temp file, fsync, rename, fsync the directory. */
export async function writeFileDurably(path: string, data: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
