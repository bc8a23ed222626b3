// Group commit as a decorator over any Store (tessera-style `(add) => add`): writes that arrive
// while another is being committed are gathered and committed together in one transaction, so
// one fsync acknowledges many uploads. Each caller still gets its own results, and only once the
// transaction holding its units has committed.
import type { Store, WriteResult, WriteUnit } from './types.ts';

interface Pending {
  units: WriteUnit[];
  resolve: (results: WriteResult[]) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** Upper bound on units per transaction. */
  maxUnits?: number;
  /**
   * Transactions in flight at once (default 1). PostgreSQL gains from 2: the second batch's
   * statement is already waiting in the database on the audit head's row lock when the first
   * commits, instead of leaving only once the first's answer reached this process; the audit
   * chain still extends one transaction after the other under that lock (postgres.ts
   * #writeChained). More than 2 measured worse: smaller batches, more CPU per upload.
   */
  maxInFlight?: number;
}

export function withGroupCommit<S extends Store>(store: S, options: GroupCommitOptions = {}): S {
  const maxUnits = options.maxUnits ?? 512;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  const queue: Pending[] = [];
  let inFlight = 0;
  let scheduled = false;

  /** Takes whole callers until the batch is full (a caller's units stay together). */
  function take(): Pending[] {
    const batch: Pending[] = [];
    let size = 0;
    while (queue.length > 0 && (batch.length === 0 || size + queue[0]!.units.length <= maxUnits)) {
      const next = queue.shift()!;
      batch.push(next);
      size += next.units.length;
    }
    return batch;
  }

  async function commit(batch: Pending[]): Promise<void> {
    try {
      const results = await store.write(batch.flatMap((p) => p.units));
      let offset = 0;
      for (const p of batch) {
        p.resolve(results.slice(offset, offset + p.units.length));
        offset += p.units.length;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  /** One committer: commits batches until the queue is empty. */
  async function drain(): Promise<void> {
    inFlight += 1;
    try {
      while (queue.length > 0) await commit(take());
    } finally {
      inFlight -= 1;
    }
  }

  function write(units: WriteUnit[]): Promise<WriteResult[]> {
    if (units.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      queue.push({ units, resolve, reject });
      // Wait one turn of the event loop so requests parsed together commit together.
      if (!scheduled && inFlight < maxInFlight) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          if (queue.length > 0 && inFlight < maxInFlight) void drain();
        });
      }
    });
  }

  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'write') return write;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
