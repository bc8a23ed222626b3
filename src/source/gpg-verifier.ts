// OpenPGP commit signatures, verified by gpg (when it is installed) against only the keys the
// policy lists: a throwaway GNUPGHOME is filled with them, so the user's keyring and trust
// database play no part. The primary key fingerprint of a good signature names the identity.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/index.ts';

export type GpgCheck = { ok: true; fingerprint: string } | { ok: false; reason: 'SIGNATURE_INVALID' | 'KEY_UNKNOWN'; detail: string };

export function gpgAvailable(): boolean {
  try {
    execFileSync('gpg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class GpgVerifier {
  private readonly home: string;
  private counter = 0;

  /** Imports armored public keys into a private keyring. */
  constructor(armoredKeys: readonly string[]) {
    this.home = mkdtempSync(join(tmpdir(), 'custody-gpg-'));
    if (armoredKeys.length > 0) {
      const r = spawnSync('gpg', ['--homedir', this.home, '--batch', '--quiet', '--import'], { input: armoredKeys.join('\n'), encoding: 'utf8' });
      if (r.error !== undefined || r.status !== 0) {
        this.close();
        throw new InputError('KEY_INVALID', `gpg could not import the policy's OpenPGP keys: ${(r.stderr || String(r.error)).split('\n')[0] ?? ''}`);
      }
    }
  }

  /** Primary key fingerprints (uppercase hex) of an armored public key, without importing it. */
  static fingerprints(armored: string): string[] {
    const r = spawnSync('gpg', ['--batch', '--with-colons', '--import-options', 'show-only', '--import'], { input: armored, encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) throw new InputError('KEY_INVALID', 'not an OpenPGP public key gpg can read');
    const out: string[] = [];
    let inPrimary = false;
    for (const line of r.stdout.split('\n')) {
      const f = line.split(':');
      if (f[0] === 'pub') inPrimary = true;
      else if (f[0] === 'fpr' && inPrimary) {
        out.push((f[9] ?? '').toUpperCase());
        inPrimary = false;
      } else if (f[0] === 'sub') inPrimary = false;
    }
    return out;
  }

  /** gpg --verify with status output (DETAILS: VALIDSIG ... <primary key fpr>). */
  verify(payload: Uint8Array, signature: string): GpgCheck {
    const sigFile = join(this.home, `sig-${++this.counter}.asc`);
    writeFileSync(sigFile, signature);
    const r = spawnSync('gpg', ['--homedir', this.home, '--batch', '--status-fd', '1', '--verify', sigFile, '-'], { input: payload, encoding: 'utf8' });
    rmSync(sigFile, { force: true });
    const status = r.stdout.split('\n');
    const valid = status.find((l) => l.startsWith('[GNUPG:] VALIDSIG '));
    if (valid !== undefined && status.some((l) => l.startsWith('[GNUPG:] GOODSIG '))) {
      const f = valid.split(' ');
      return { ok: true, fingerprint: (f[f.length - 1] ?? '').toUpperCase() };
    }
    if (status.some((l) => l.startsWith('[GNUPG:] NO_PUBKEY ') || l.startsWith('[GNUPG:] ERRSIG '))) {
      return { ok: false, reason: 'KEY_UNKNOWN', detail: 'signed by an OpenPGP key the policy does not list' };
    }
    return { ok: false, reason: 'SIGNATURE_INVALID', detail: 'the OpenPGP signature does not verify' };
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
