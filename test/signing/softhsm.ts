// A SoftHSM2 token in a temporary directory for tests: SOFTHSM2_CONF points at a config whose
// token directory is private to this process (SoftHSM2 reads it at C_Initialize, once per process).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { haveComponents } from '../support/components.ts';

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '246810';
const SO_PIN = '13579111';

let configured: string | undefined;

/** Ensures softhsm2 exists (skips otherwise) and returns a fresh token's label. */
export function softToken(t: TestContext | undefined, label: string): string | undefined {
  if (t !== undefined && !haveComponents(t, 'softhsm2-util', SOFTHSM_LIBRARY)) return undefined;
  if (configured === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'custody-softhsm-'));
    writeFileSync(join(dir, 'softhsm2.conf'), `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
    process.env['SOFTHSM2_CONF'] = join(dir, 'softhsm2.conf');
    configured = dir;
  }
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', SO_PIN, '--pin', USER_PIN], {
    env: process.env,
    stdio: 'ignore',
  });
  return label;
}
