// The transparency log inside `custody serve`: an in-process interface other services call, and
// its implementation, a sequencer over the file log (tiles under <dataDir>/log, static files).
//
//   interface TransparencyLog {
//     origin: string; verifierKey: string;            // the log's note verifier key text
//     append(entries: Uint8Array[]): Promise<LogEntryResult[]>;   // resolves once integrated
//     place(entries: Uint8Array[]): Promise<LogPlacement>;        // the same, indexes + checkpoint, no proofs
//     find(leafHash: Uint8Array): Promise<LogEntryResult | undefined>;  // an entry already logged
//     checkpoint(): Promise<string | undefined>;      // the current signed checkpoint
//     trustedRoot(): Record<string, unknown>;         // Sigstore trusted_root.json naming the log
//     close(): Promise<void>;
//   }
//   LogEntryResult = { index, duplicate, tlogEntry /* Sigstore bundle v0.3 tlogEntries[] item */, checkpoint }
//
// Each entry is one leaf (≤ 65,535 bytes). For signatures, build the entry with hashedRekordBody()
// or dsseBody() from src/tlog, then put `result.tlogEntry` into the bundle's
// verificationMaterial.tlogEntries: the bundle then verifies offline with @sigstore/verify against
// trustedRoot(). Identical entries are deduplicated (the earlier index comes back, duplicate: true).
// An appended entry is acknowledged only after the checkpoint covering it is durably written.
//
// Sequencing (group commit): entries wait in memory until the sequencer is free (and at most
// batchIntervalMs), then one batch (≤ batchMaxEntries) of everything waiting is integrated: tiles
// written and fsynced, then the signed checkpoint (PosixLogAppender). Alone on the log (SQLite)
// the leaf index for deduplication is in memory (LeafIndex, rebuilt from the level-0 tiles at
// start); on PostgreSQL it is the tlog_leaves table: the server holding an advisory lock
// sequences and records the leaves, the others enqueue in tlog_queue and wait for the index.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, VerificationError, jcsBytes } from '../core/index.ts';
import { PostgresLogState, SqliteLogState, type LogState } from '../store/index.ts';
import {
  CHECKPOINT_PATH,
  FileTileFetcher,
  LeafIndex,
  MAX_ENTRY_SIZE,
  MemoHashReader,
  PosixLogAppender,
  TILE_WIDTH,
  TileHashReader,
  entryBundleWidth,
  entryKindVersion,
  generateNoteKey,
  inclusionProofs,
  indexLeaves,
  leafHash,
  logIdentity,
  lookupLeaves,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  readEntry,
  readEntryBundle,
  readPosixCheckpoint,
  sigstoreTlogEntry,
  sigstoreTrustedRoot,
  type LogIdentity,
  type NoteKeyPair,
  type SigstoreTlogEntry,
} from '../tlog/index.ts';
import type { ServerConfig } from './config.ts';
import { gatherCosignatures, writeFileDurably, type WitnessClient } from './log-witnesses.ts';

export interface LogEntryResult {
  /** The entry's index in the log (an earlier one when it was already there). */
  readonly index: number;
  readonly duplicate: boolean;
  /** Sigstore bundle v0.3 `verificationMaterial.tlogEntries[]` item with inclusion proof and checkpoint. */
  readonly tlogEntry: SigstoreTlogEntry;
  /** The signed checkpoint the proof is against. */
  readonly checkpoint: string;
}

/** Where appended entries landed, without proofs: their indexes and a checkpoint that covers them. */
export interface LogPlacement {
  readonly checkpoint: string;
  readonly placed: readonly { readonly index: number; readonly duplicate: boolean }[];
}

export interface TransparencyLog {
  readonly origin: string;
  readonly verifierKey: string;
  append(entries: readonly Uint8Array[]): Promise<LogEntryResult[]>;
  /** As append, resolving at the same moment (integrated, durable), but with indexes instead of proofs. */
  place(entries: readonly Uint8Array[]): Promise<LogPlacement>;
  /** The entry with this RFC 6962 leaf hash, with a proof against the current checkpoint. */
  find(leafHash: Uint8Array): Promise<LogEntryResult | undefined>;
  checkpoint(): Promise<string | undefined>;
  trustedRoot(): Record<string, unknown>;
  close(): Promise<void>;
}

/** Where the log lives under the data directory. */
export const LOG_DIR = 'log';
export const LOG_KEY_FILE = 'log-key';

/** Reads the log's signer key, generating it (mode 0600) on first use when it is the default file. */
export function loadOrCreateLogKey(config: ServerConfig): NoteKeyPair {
  const path = config.tlog.keyFile ?? join(config.dataDir, LOG_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || config.tlog.keyFile !== undefined) {
      throw new InputError('FILE_UNREADABLE', `cannot read the log key ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    // Servers starting together on one data directory: the first link wins, the others read it.
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, `${generateNoteKey(config.tlog.origin).signerKey}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, path);
    } catch (le) {
      if ((le as NodeJS.ErrnoException).code !== 'EEXIST') throw le;
    } finally {
      unlinkSync(temp);
    }
    text = readFileSync(path, 'utf8');
  }
  const key = parseSignerKey(text.trim());
  if (key.verifier.name !== config.tlog.origin) {
    throw new InputError('KEY_INVALID', `the log key ${path} is named ${key.verifier.name}, not the origin ${config.tlog.origin}`);
  }
  return key;
}

interface Pending {
  readonly entry: Uint8Array;
  readonly leaf: Uint8Array;
  readonly queueId?: number;
  resolve(result: { index: number; duplicate: boolean }): void;
  reject(error: unknown): void;
}

export interface SequencerOptions {
  readonly dir: string;
  readonly origin: string;
  readonly key: NoteKeyPair;
  readonly state: LogState;
  /** True when other servers share the state (PostgreSQL): use the lock and the queue. */
  readonly shared: boolean;
  readonly batchIntervalMs: number;
  readonly batchMaxEntries: number;
  readonly baseUrl: string;
  readonly witnesses?: readonly WitnessClient[];
  readonly witnessThreshold?: number;
  readonly onError?: (error: unknown) => void;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** The sequencer: batches appends, integrates them into the file log, answers with proofs. */
export class LogSequencer implements TransparencyLog {
  readonly origin: string;
  readonly verifierKey: string;
  readonly identity: LogIdentity;
  readonly #o: SequencerOptions;
  readonly #fetcher: FileTileFetcher;
  readonly #appender: PosixLogAppender;
  #pending: Pending[] = [];
  #running: Promise<void> | undefined;
  #timer: { readonly immediate: true; readonly handle: NodeJS.Immediate } | { readonly immediate: false; readonly handle: NodeJS.Timeout } | undefined;
  #poller: NodeJS.Timeout | undefined;
  #lastStart = 0;
  #leader = false;
  #current: string | undefined;
  #proofReader: { size: number; reader: MemoHashReader } | undefined;
  #leaderCheckedAt = 0;
  #recovered = false;
  #closed = false;
  /** Alone on the log (not shared): the leaf index in memory, and its catch-up to the checkpoint on disk. */
  readonly #leaves = new LeafIndex();
  #leafCatchUp: Promise<void> | undefined;

  constructor(options: SequencerOptions) {
    this.#o = options;
    this.origin = options.origin;
    this.verifierKey = options.key.verifierKey;
    this.identity = logIdentity(options.key.verifierKey);
    this.#fetcher = new FileTileFetcher(options.dir);
    // Alone on the log (SQLite), the sequencer holds the directory lock while it runs; servers
    // sharing a log (PostgreSQL) take it per batch.
    this.#appender = new PosixLogAppender({ dir: options.dir, origin: options.origin, key: options.key, exclusive: !options.shared });
    if (options.shared) {
      // Followers check for the lock, the leader for queued entries.
      this.#poller = setInterval(() => this.#schedule(true), 250);
      this.#poller.unref();
    }
  }

  trustedRoot(): Record<string, unknown> {
    return sigstoreTrustedRoot(this.identity, { baseUrl: this.#o.baseUrl });
  }

  async checkpoint(): Promise<string | undefined> {
    // Alone on the log (SQLite), this process wrote the checkpoint last: no need to read it back.
    if (!this.#o.shared && this.#current !== undefined) return this.#current;
    const bytes = await this.#fetcher.fetchTile(CHECKPOINT_PATH);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  }

  async find(leaf: Uint8Array): Promise<LogEntryResult | undefined> {
    const checkpoint = await this.checkpoint();
    if (checkpoint === undefined) return undefined;
    const size = parseCheckpoint(parseNote(checkpoint).text).size;
    let index: number | undefined;
    if (this.#o.shared) {
      index = (await this.#o.state.lookup([leaf])).get(hex(leaf));
    } else {
      if (!this.#recovered) await this.#catchUpLeaves();
      index = (await lookupLeaves(this.#leaves, this.#appender.fetcher, Math.min(size, this.#leaves.size), [leaf])).get(hex(leaf));
    }
    if (index === undefined) return undefined;
    if (index >= size) return undefined;
    const entry = await readEntry(this.#fetcher, size, index);
    return (await this.#results([entry], [{ index, duplicate: true }]))[0];
  }

  async append(entries: readonly Uint8Array[]): Promise<LogEntryResult[]> {
    return this.#results(entries, await this.#place(entries));
  }

  async place(entries: readonly Uint8Array[]): Promise<LogPlacement> {
    const placed = await this.#place(entries);
    const checkpoint = await this.checkpoint();
    if (checkpoint === undefined) throw new VerificationError('TILE_MISSING', 'the log has no checkpoint');
    return { checkpoint, placed };
  }

  async #place(entries: readonly Uint8Array[]): Promise<{ index: number; duplicate: boolean }[]> {
    if (this.#closed) throw new InputError('INPUT_INVALID', 'the transparency log is closed');
    entries.forEach((e, i) => {
      if (e.length === 0 || e.length > MAX_ENTRY_SIZE) throw new InputError('INPUT_INVALID', `entry ${i} must be 1 to ${MAX_ENTRY_SIZE} bytes`);
    });
    let placed: { index: number; duplicate: boolean }[];
    if (this.#o.shared && !(await this.#isLeader())) {
      placed = await this.#appendAsFollower(entries);
    } else {
      const waits = entries.map(
        (entry) =>
          new Promise<{ index: number; duplicate: boolean }>((resolve, reject) => {
            this.#pending.push({ entry, leaf: leafHash(entry), resolve, reject });
          }),
      );
      this.#schedule(false);
      placed = await Promise.all(waits);
    }
    return placed;
  }

  /** Whether this server sequences; asks the database at most every 250 ms (a new connection each time when not). */
  async #isLeader(): Promise<boolean> {
    if (this.#leader || Date.now() - this.#leaderCheckedAt >= 250) {
      this.#leaderCheckedAt = Date.now();
      this.#leader = await this.#o.state.acquireSequencer();
    }
    return this.#leader;
  }

  /** Shared mode, not the sequencer: queue in the database, wait until the leaf index has them. */
  async #appendAsFollower(entries: readonly Uint8Array[]): Promise<{ index: number; duplicate: boolean }[]> {
    const leaves = entries.map(leafHash);
    const known = await this.#o.state.lookup(leaves);
    const missing = entries.filter((_, i) => !known.has(hex(leaves[i]!)));
    if (missing.length > 0) await this.#o.state.enqueue(missing);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = await this.#o.state.lookup(leaves);
      if (leaves.every((l) => found.has(hex(l)))) {
        return leaves.map((l) => ({ index: found.get(hex(l))!, duplicate: known.has(hex(l)) }));
      }
      if (Date.now() > deadline || this.#closed) throw new VerificationError('VERIFICATION_FAILED', 'the log sequencer did not integrate the entries in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #results(entries: readonly Uint8Array[], placed: readonly { index: number; duplicate: boolean }[]): Promise<LogEntryResult[]> {
    const checkpoint = await this.checkpoint();
    if (checkpoint === undefined) throw new VerificationError('TILE_MISSING', 'the log has no checkpoint');
    const parsed = parseCheckpoint(parseNote(checkpoint).text);
    // One reader per tree size, shared by every request a batch answers: their proofs share nodes.
    if (this.#proofReader?.size !== parsed.size) {
      this.#proofReader = { size: parsed.size, reader: new MemoHashReader(new TileHashReader(parsed.size, this.#appender.fetcher)) };
    }
    // All proofs of the batch at once: each node read once, shared ranges folded once.
    const proofs = await inclusionProofs(
      placed.map((p) => p.index),
      parsed.size,
      this.#proofReader.reader,
    );
    // The proofs share their node hashes (the same objects): each is base64-encoded once.
    const encoded = new Map<Uint8Array, string>();
    const b64 = (h: Uint8Array): string => {
      let text = encoded.get(h);
      if (text === undefined) {
        text = Buffer.from(h.buffer, h.byteOffset, h.length).toString('base64');
        encoded.set(h, text);
      }
      return text;
    };
    return placed.map(({ index, duplicate }, i) => {
      const body = entries[i]!;
      const proof = proofs[i]!;
      return {
        index,
        duplicate,
        checkpoint,
        tlogEntry: sigstoreTlogEntry({
          index,
          body,
          kindVersion: entryKindVersion(body),
          proof,
          proofBase64: proof.map(b64),
          treeSize: parsed.size,
          rootHash: parsed.rootHash,
          checkpoint,
          identity: this.identity,
        }),
      };
    });
  }

  #schedule(poll: boolean): void {
    if (this.#closed || this.#running !== undefined) return;
    if (!poll && this.#pending.length === 0) return;
    const wait = this.#pending.length >= this.#o.batchMaxEntries ? 0 : Math.max(0, this.#lastStart + this.#o.batchIntervalMs - Date.now());
    if (this.#timer !== undefined) {
      if (wait > 0 || this.#timer.immediate) return;
      this.#cancelTimer();
    }
    const start = (): void => {
      this.#timer = undefined;
      this.#running = this.#run()
        .catch((e: unknown) => this.#o.onError?.(e))
        .finally(() => {
          this.#running = undefined;
          this.#schedule(false);
        });
    };
    // Group commit: while a batch is written, entries gather for the next one. When the sequencer
    // is idle and no interval holds it back, the batch starts at the end of this turn of the event
    // loop (setImmediate: the requests whose I/O is already ready join it), not ≥ 1 ms later.
    this.#timer = wait === 0 ? { immediate: true, handle: setImmediate(start) } : { immediate: false, handle: setTimeout(start, wait) };
  }

  #cancelTimer(): void {
    const t = this.#timer;
    if (t === undefined) return;
    if (t.immediate) clearImmediate(t.handle);
    else clearTimeout(t.handle);
    this.#timer = undefined;
  }

  /** Alone on the log: extends the in-memory leaf index to the checkpoint on disk (all of it at start). */
  #catchUpLeaves(): Promise<void> {
    this.#leafCatchUp ??= (async () => {
      const current = await readPosixCheckpoint(this.#o.dir, { log: this.#o.key.verifier, origin: this.origin });
      await indexLeaves(this.#leaves, this.#appender.fetcher, current?.checkpoint.size ?? 0);
    })().finally(() => {
      this.#leafCatchUp = undefined;
    });
    return this.#leafCatchUp;
  }

  /** Indexes entries a crash left integrated but not yet in the leaf index. */
  async #recover(): Promise<void> {
    if (!this.#o.shared) {
      await this.#leafCatchUp?.catch(() => undefined); // one started by find(): let it finish (a failure is retried here)
      await this.#catchUpLeaves();
      this.#recovered = true;
      return;
    }
    const current = await readPosixCheckpoint(this.#o.dir, { log: this.#o.key.verifier, origin: this.origin });
    const size = current?.checkpoint.size ?? 0;
    let from = await this.#o.state.indexedSize();
    // Up to 64 bundles (16,384 leaves) per transaction: a log grown offline may have millions.
    while (from < size) {
      const leaves: { leafHash: Uint8Array; index: number }[] = [];
      let next = from;
      for (let n = 0; n < 64 && next < size; n++) {
        const bundle = Math.floor(next / TILE_WIDTH);
        const entries = await readEntryBundle(this.#fetcher, { index: bundle, width: entryBundleWidth(size, bundle) });
        const start = next;
        entries.forEach((e, i) => {
          if (bundle * TILE_WIDTH + i >= start) leaves.push({ leafHash: leafHash(e), index: bundle * TILE_WIDTH + i });
        });
        next = bundle * TILE_WIDTH + entries.length;
      }
      await this.#o.state.record(leaves, next);
      from = next;
    }
    this.#recovered = true;
  }

  async #run(): Promise<void> {
    if (this.#o.shared) {
      const wasLeader = this.#leader;
      if (!(await this.#isLeader())) return;
      if (!wasLeader) this.#recovered = false; // took over: another server may have written since
      if (this.#pending.length < this.#o.batchMaxEntries) {
        const queued = await this.#o.state.peekQueue(this.#o.batchMaxEntries - this.#pending.length);
        for (const q of queued) this.#pending.push({ entry: q.entry, leaf: leafHash(q.entry), queueId: q.id, resolve: () => undefined, reject: () => undefined });
      }
    }
    if (this.#pending.length === 0) return;
    this.#lastStart = Date.now();
    const batch = this.#pending.splice(0, this.#o.batchMaxEntries);
    try {
      if (!this.#recovered) await this.#recover();
      const batchLeaves = batch.map((p) => p.leaf);
      const known = this.#o.shared
        ? await this.#o.state.lookup(batchLeaves)
        : await lookupLeaves(this.#leaves, this.#appender.fetcher, this.#leaves.size, batchLeaves);
      const fresh: Uint8Array[] = [];
      const freshLeaves: Uint8Array[] = [];
      const firstInBatch = new Map<string, number>(); // hex leaf → position in `fresh`
      const placement = batch.map((p) => {
        const key = hex(p.leaf);
        const existing = known.get(key);
        if (existing !== undefined) return { kind: 'known' as const, index: existing };
        let at = firstInBatch.get(key);
        const duplicate = at !== undefined;
        if (at === undefined) {
          at = fresh.push(p.entry) - 1;
          freshLeaves.push(p.leaf);
          firstInBatch.set(key, at);
        }
        return { kind: 'fresh' as const, at, duplicate };
      });
      let base = 0;
      if (fresh.length > 0) {
        const result = await this.#appender.append(fresh);
        base = result.indexes[0]!;
        this.#current = undefined;
        if (!this.#o.shared) {
          // Another writer (an offline `custody log append`) may have appended before this sequencer took the lock.
          if (this.#leaves.size < base) await indexLeaves(this.#leaves, this.#appender.fetcher, base);
          // (A catch-up started by find() may have indexed some of them already.)
          freshLeaves.forEach((leaf, i) => {
            if (base + i >= this.#leaves.size) this.#leaves.add(leaf, base + i);
          });
          this.#leaves.size = Math.max(this.#leaves.size, result.checkpoint.size);
        }
        this.#current = await this.#cosign(result.signedCheckpoint, result.checkpoint.size);
        if (this.#o.shared) {
          await this.#o.state.record(
            freshLeaves.map((leaf, i) => ({ leafHash: leaf, index: base + i })),
            result.checkpoint.size,
            batch.flatMap((p) => (p.queueId === undefined ? [] : [p.queueId])),
          );
        }
      } else if (this.#o.shared) {
        await this.#o.state.record([], 0, batch.flatMap((p) => (p.queueId === undefined ? [] : [p.queueId])));
      }
      batch.forEach((p, i) => {
        const place = placement[i]!;
        if (place.kind === 'known') p.resolve({ index: place.index, duplicate: true });
        else p.resolve({ index: base + place.at, duplicate: place.duplicate });
      });
    } catch (e) {
      this.#recovered = false;
      for (const p of batch) p.reject(e);
      throw e;
    }
  }

  /** Asks the witnesses to cosign and republishes the checkpoint with their cosignatures. */
  async #cosign(signedCheckpoint: string, size: number): Promise<string> {
    const witnesses = this.#o.witnesses ?? [];
    if (witnesses.length === 0) return signedCheckpoint;
    const cosigned = await gatherCosignatures(signedCheckpoint, size, witnesses, this.#fetcher, this.#o.witnessThreshold ?? 0);
    if (cosigned !== signedCheckpoint) await writeFileDurably(join(this.#o.dir, CHECKPOINT_PATH), Buffer.from(cosigned, 'utf8'));
    return cosigned;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#cancelTimer();
    await this.#running;
    // Entries waiting for a batch that will not run now: never acknowledged.
    for (const p of this.#pending.splice(0)) p.reject(new InputError('INPUT_INVALID', 'the transparency log closed'));
    await this.#appender.close();
    await this.#o.state.close();
  }
}

/** Opens the configured log: key, state store (SQLite file or PostgreSQL), witnesses. */
export function openTransparencyLog(config: ServerConfig, onError?: (e: unknown) => void): LogSequencer {
  const key = loadOrCreateLogKey(config);
  const state: LogState =
    config.store.driver === 'postgres' ? new PostgresLogState(config.store.url) : new SqliteLogState(join(config.dataDir, 'custody.db'));
  const witnesses: WitnessClient[] = config.tlog.witnesses.map((w) => ({ url: w.url, key: w.key }));
  return new LogSequencer({
    dir: join(config.dataDir, LOG_DIR),
    origin: config.tlog.origin,
    key,
    state,
    shared: config.store.driver === 'postgres',
    batchIntervalMs: config.tlog.batchIntervalMs,
    batchMaxEntries: config.tlog.batchMaxEntries,
    baseUrl: config.tlog.baseUrl ?? `https://${config.tlog.origin}`,
    witnesses,
    witnessThreshold: config.tlog.witnessThreshold,
    ...(onError === undefined ? {} : { onError }),
  });
}

/**
 * The log entry for an accepted attestation: which bytes (sha256 of the stored document), in which
 * namespace, of which predicate type. JCS JSON with Rekor's kind/apiVersion fields.
 */
export function attestationLogEntry(namespace: string, id: string, predicateType: string): Uint8Array {
  return jcsBytes({ apiVersion: '0.0.1', kind: 'custody-attestation', spec: { namespace, digest: { sha256: id }, predicateType } });
}
