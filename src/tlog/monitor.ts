// A log monitor: follows a log's checkpoints, checks each against the last one it verified
// (signature, never shrinking, same size ⇒ same root, consistency proof), re-derives every new
// tile from the entry bundles, and raises an alarm (VerificationError) on a split view or
// rewritten history. The last verified checkpoint is kept in a state file between runs.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { InputError, VerificationError } from '../core/index.ts';
import { decodeBase64Strict, encodeBase64 } from './base64.ts';
import { openCheckpoint, type OpenedCheckpoint } from './checkpoint.ts';
import { hashesEqual } from './merkle-hash.ts';
import type { NoteVerifier } from './note-keys.ts';
import { CHECKPOINT_PATH } from './posix-log.ts';
import { encodeHashTile } from './tile-codec.ts';
import { entryBundleWidth, partialTiles, TILE_WIDTH, tilePath } from './tile-path.ts';
import type { TileFetcher, TreeHead } from './tile-reader.ts';
import { proveConsistency, readEntryBundle } from './tile-reader.ts';
import { EMPTY_EDGE, edgeRoot, integrate, loadTreeEdge, type TreeEdge } from './tree-builder.ts';

export interface MonitorState {
  readonly origin: string;
  readonly size: number;
  /** base64 root hash */
  readonly rootHash: string;
  /** The last verified signed checkpoint. */
  readonly checkpoint: string;
}

export interface CheckpointReport {
  readonly size: number;
  readonly rootHash: string;
  readonly previousSize: number;
  readonly newEntries: number;
  readonly cosignatures: number;
}

export interface MonitorLogOptions {
  readonly fetcher: TileFetcher;
  readonly log: NoteVerifier;
  readonly origin?: string;
  readonly statePath?: string;
  readonly witnesses?: readonly NoteVerifier[];
  readonly witnessThreshold?: number;
  readonly once?: boolean;
  readonly intervalMs?: number;
  readonly onCheckpoint?: (report: CheckpointReport) => void;
  readonly signal?: AbortSignal;
  /**
   * When the log has not grown, re-derive the tiles of its current size again (its partial tiles
   * and entry bundle against the root): catches a tile rewritten in place after it was verified.
   */
  readonly recheckTiles?: boolean;
}

/**
 * What a monitor alarm is about (the server's monitor stores and counts alarms by kind):
 * bad-signature: the checkpoint is not validly signed by the log key (forged, replaced, re-keyed);
 * bad-checkpoint: the checkpoint is malformed or names another origin;
 * missing-witness: fewer witness cosignatures than required;
 * rollback: the log shrank below a verified checkpoint;
 * fork: a checkpoint inconsistent with a verified one (split view, rewritten history);
 * tile-mismatch: a tile or entry bundle does not re-derive to what the checkpoint commits to;
 * unavailable: the checkpoint or a tile it needs cannot be read.
 */
export type MonitorAlarmKind = 'bad-signature' | 'bad-checkpoint' | 'missing-witness' | 'rollback' | 'fork' | 'tile-mismatch' | 'unavailable';

export const MONITOR_ALARM_KINDS: readonly MonitorAlarmKind[] = ['bad-signature', 'bad-checkpoint', 'missing-witness', 'rollback', 'fork', 'tile-mismatch', 'unavailable'];

/** A split view or rewritten history: LOG_INCONSISTENT, with the precise kind. */
export class MonitorAlarm extends VerificationError {
  readonly kind: MonitorAlarmKind;
  constructor(kind: MonitorAlarmKind, message: string, options?: { cause?: unknown }) {
    super('LOG_INCONSISTENT', message, options);
    this.kind = kind;
  }
}

function alarm(kind: 'rollback' | 'fork', message: string, cause?: unknown): MonitorAlarm {
  return new MonitorAlarm(kind, `ALARM: ${message}`, cause === undefined ? undefined : { cause });
}

/** The alarm kind of an error checkLogOnce threw. */
export function monitorAlarmKind(error: unknown): MonitorAlarmKind {
  if (error instanceof MonitorAlarm) return error.kind;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'SIGNATURE_INVALID':
    case 'SIGNATURE_MISSING':
    case 'KEY_UNKNOWN':
      return 'bad-signature';
    case 'NOTE_INVALID':
    case 'CHECKPOINT_INVALID':
    case 'ORIGIN_MISMATCH':
      return 'bad-checkpoint';
    case 'THRESHOLD_NOT_MET':
      return 'missing-witness';
    case 'TILE_INVALID':
      return 'tile-mismatch';
    case 'LOG_INCONSISTENT':
    case 'PROOF_INVALID':
      return 'fork';
    default:
      return 'unavailable';
  }
}

export async function readMonitorState(path: string): Promise<MonitorState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError('FILE_UNREADABLE', `cannot read monitor state ${path}`, { cause: e });
  }
  const doc = JSON.parse(text) as Partial<MonitorState>;
  if (typeof doc.size !== 'number' || typeof doc.rootHash !== 'string' || typeof doc.checkpoint !== 'string' || typeof doc.origin !== 'string') {
    throw new InputError('INPUT_INVALID', `monitor state ${path} is malformed`);
  }
  return doc as MonitorState;
}

async function writeMonitorState(path: string, state: MonitorState): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

async function compareTile(fetcher: TileFetcher, path: string, data: Uint8Array): Promise<void> {
  const served = await fetcher.fetchTile(path);
  if (served === undefined) throw new VerificationError('TILE_MISSING', `ALARM: ${path} is missing`);
  if (!Buffer.from(served).equals(Buffer.from(data))) {
    throw new VerificationError('TILE_INVALID', `ALARM: ${path} differs from the tile re-derived from the entries`);
  }
}

/**
 * Re-derives the tiles from `from` (trusted, verified earlier) to `to`: reads the new entries,
 * integrates them onto the old edge, compares every new full tile and the partial tiles of `to`
 * with what the log serves, and checks the resulting root against `to`'s.
 */
async function rederive(fetcher: TileFetcher, from: TreeHead, to: TreeHead): Promise<void> {
  let edge: TreeEdge = from.size === 0 ? EMPTY_EDGE : await loadTreeEdge(fetcher, from.size, { entries: true, rootHash: from.rootHash });
  let size = from.size;
  while (size < to.size) {
    const bundle = Math.floor(size / TILE_WIDTH);
    const entries = await readEntryBundle(fetcher, { index: bundle, width: entryBundleWidth(to.size, bundle) });
    const fresh = entries.slice(size - bundle * TILE_WIDTH);
    const result = integrate(edge, fresh);
    for (const write of result.tiles) {
      if (write.full) await compareTile(fetcher, write.path, write.data);
    }
    edge = result.edge;
    size = edge.size;
  }
  for (const tile of partialTiles(to.size)) await compareTile(fetcher, tilePath(tile), encodeHashTile(edge.tiles[tile.level]!));
  if (!hashesEqual(edgeRoot(edge), to.rootHash)) {
    throw new VerificationError('TILE_INVALID', `ALARM: the entries give a different root hash than the checkpoint of size ${to.size}`);
  }
}

/** One monitoring step: the log's current checkpoint checked against `previous`. */
export async function checkLogOnce(
  options: Omit<MonitorLogOptions, 'statePath' | 'once' | 'intervalMs' | 'onCheckpoint' | 'signal'>,
  previous: MonitorState | undefined,
): Promise<{ state: MonitorState; report: CheckpointReport; opened: OpenedCheckpoint }> {
  const { fetcher, log } = options;
  const bytes = await fetcher.fetchTile(CHECKPOINT_PATH);
  if (bytes === undefined) throw new VerificationError('TILE_MISSING', 'the log serves no checkpoint');
  const opened = openCheckpoint(bytes, {
    log,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    witnesses: options.witnesses ?? [],
    witnessThreshold: options.witnessThreshold ?? 0,
  });
  const head: TreeHead = opened.checkpoint;
  const prev: TreeHead = previous === undefined ? { size: 0, rootHash: new Uint8Array(32) } : { size: previous.size, rootHash: decodeBase64Strict(previous.rootHash) ?? new Uint8Array(0) };
  if (head.size < prev.size) throw alarm('rollback', `rewritten history: the log shrank from ${prev.size} to ${head.size} entries`);
  if (head.size === prev.size && prev.size > 0 && !hashesEqual(head.rootHash, prev.rootHash)) {
    throw alarm('fork', `split view: two different signed checkpoints of size ${head.size}`);
  }
  if (prev.size > 0 && head.size > prev.size) {
    try {
      await proveConsistency(fetcher, prev, head);
    } catch (e) {
      throw alarm('fork', `checkpoint ${head.size} is not consistent with the verified checkpoint ${prev.size} (history rewritten or split view)`, e);
    }
  }
  if (head.size > prev.size) await rederive(fetcher, prev, head);
  else if (options.recheckTiles === true && head.size > 0) await loadTreeEdge(fetcher, head.size, { entries: true, rootHash: head.rootHash });
  const state: MonitorState = { origin: opened.checkpoint.origin, size: head.size, rootHash: encodeBase64(head.rootHash), checkpoint: Buffer.from(bytes).toString('utf8') };
  return {
    state,
    opened,
    report: { size: head.size, rootHash: state.rootHash, previousSize: prev.size, newEntries: head.size - prev.size, cosignatures: opened.cosignatures.length },
  };
}

/** Follows the log until an alarm (thrown), `once`, or the signal aborts. */
export async function monitorLog(options: MonitorLogOptions): Promise<MonitorState | undefined> {
  let state = options.statePath === undefined ? undefined : await readMonitorState(options.statePath);
  for (;;) {
    if (options.signal?.aborted === true) return state;
    const step = await checkLogOnce(options, state);
    state = step.state;
    if (options.statePath !== undefined) await writeMonitorState(options.statePath, state);
    options.onCheckpoint?.(step.report);
    if (options.once === true) return state;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10_000));
  }
}
