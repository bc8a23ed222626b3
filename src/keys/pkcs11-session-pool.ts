// A fixed pool of logged-in PKCS#11 sessions: one signing operation per session at a time
// (C_SignInit + C_Sign is stateful per session), callers queue for a free one.
import type { PKCS11 } from 'pkcs11js';

type Handle = Buffer;

export class SessionPool {
  readonly #free: Handle[] = [];
  readonly #all: Handle[] = [];
  readonly #waiters: ((session: Handle) => void)[] = [];
  readonly #p11: PKCS11;
  #closed = false;

  constructor(p11: PKCS11, slot: Handle, size: number, flags: number) {
    this.#p11 = p11;
    for (let i = 0; i < size; i++) {
      const s = p11.C_OpenSession(slot, flags);
      this.#all.push(s);
      this.#free.push(s);
    }
  }

  get size(): number {
    return this.#all.length;
  }

  /** Any session (for login and object management, which PKCS#11 allows on any session). */
  get first(): Handle {
    return this.#all[0]!;
  }

  async use<T>(fn: (session: Handle) => Promise<T> | T): Promise<T> {
    if (this.#closed) throw new Error('PKCS#11 session pool is closed');
    const session = this.#free.pop() ?? (await new Promise<Handle>((resolve) => this.#waiters.push(resolve)));
    try {
      return await fn(session);
    } finally {
      const next = this.#waiters.shift();
      if (next !== undefined) next(session);
      else this.#free.push(session);
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#all) {
      try {
        this.#p11.C_CloseSession(s);
      } catch {
        // Already closed by C_Finalize or the token went away: nothing to release.
      }
    }
    this.#all.length = 0;
    this.#free.length = 0;
  }
}
