// Access to the in-toto reference implementation (Debian in-toto 1.3.1 under /usr/bin/python3)
// for differential and interop tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { haveComponents, requireComponents } from '../support/components.ts';

export const PYTHON = '/usr/bin/python3';
const ORACLE = fileURLToPath(new URL('./intoto_oracle.py', import.meta.url));

/** True when /usr/bin/python3 can import in_toto; otherwise skips (or fails in CI). */
export function haveReference(t: TestContext): boolean {
  if (!haveComponents(t, PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import in_toto.verifylib'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const message = `${PYTHON} cannot import in_toto (install the Debian package in-toto)`;
  if (requireComponents) throw new Error(message);
  t.skip(message);
  return false;
}

/** Runs a batch of cases through the reference (see intoto_oracle.py) and returns its answers. */
export function oracle<T>(kind: 'fnmatch' | 'rules' | 'format' | 'unpack', cases: unknown[]): T[] {
  const out = execFileSync(PYTHON, [ORACLE], {
    input: JSON.stringify({ kind, cases }),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  return JSON.parse(out) as T[];
}

/** A fast-check seed: CUSTODY_FC_SEED to reproduce, random otherwise (printed on failure). */
export function seed(): number {
  const fromEnv = process.env['CUSTODY_FC_SEED'];
  return fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}
