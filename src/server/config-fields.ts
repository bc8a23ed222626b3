// Reading one section of the server's YAML config (config.ts and the sections it delegates to).
// Every error is INPUT_INVALID and names the place: `server config: signing.keys[0].name: ...`.
import { InputError } from '../core/index.ts';

/** A key backend as the signing service, the CA and the TUF online roles configure it. */
export type KeyBackendConfig =
  | { kind: 'file'; dir: string; passphraseEnv: string }
  | { kind: 'pkcs11'; library: string; tokenLabel: string; pinEnv: string; sessions: number };

export interface KeyBackendDefaults {
  /** Directory of a file backend given without `dir` (already resolved). */
  dir: string;
  passphraseEnv: string;
  sessions: number;
}

export const SOFTHSM2_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ConfigFields {
  fail: (where: string, message: string) => never;
  /** Refuses keys other than `keys` (a typo is an error, not a silently ignored setting). */
  only: (obj: Record<string, unknown>, where: string, keys: readonly string[]) => void;
  str: (v: unknown, where: string) => string;
  /** A list of non-empty strings, possibly empty. */
  strings: (v: unknown, where: string) => string[];
  nonEmptyStrings: (v: unknown, where: string) => string[];
  posInt: (v: unknown, where: string) => number;
  /** `kind: file` (dir, passphraseEnv) or `kind: pkcs11` (library, tokenLabel, pinEnv, sessions). */
  keyBackend: (v: Record<string, unknown>, where: string, at: (p: string) => string, defaults: KeyBackendDefaults) => KeyBackendConfig;
}

/** Field readers for `section` ('' for the top level, else e.g. 'signing'). */
export function configFields(section = ''): ConfigFields {
  const place = (where: string) => (section === '' ? where : where === '' ? section : `${section}.${where}`);
  const fail = (where: string, message: string): never => {
    throw new InputError('INPUT_INVALID', `server config: ${place(where)}: ${message}`);
  };
  const str = (v: unknown, where: string): string => (typeof v === 'string' && v !== '' ? v : fail(where, 'must be a non-empty string'));
  const posInt = (v: unknown, where: string): number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : fail(where, 'must be a positive integer');
  const only = (obj: Record<string, unknown>, where: string, keys: readonly string[]): void => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) fail(where, `unknown key '${k}' (known: ${keys.join(', ')})`);
  };
  const strings = (v: unknown, where: string): string[] => (Array.isArray(v) ? v.map((s, i) => str(s, `${where}[${i}]`)) : fail(where, 'must be a list'));
  return {
    fail,
    only,
    str,
    posInt,
    strings,
    nonEmptyStrings: (v, where) => (Array.isArray(v) && v.length > 0 ? strings(v, where) : fail(where, 'must be a non-empty list')),
    keyBackend: (v, where, at, defaults) => {
      const field = (name: string) => (where === '' ? name : `${where}.${name}`);
      if (v['kind'] === 'pkcs11') {
        only(v, where, ['kind', 'library', 'tokenLabel', 'pinEnv', 'sessions']);
        return {
          kind: 'pkcs11',
          library: str(v['library'] ?? SOFTHSM2_LIBRARY, field('library')),
          tokenLabel: str(v['tokenLabel'], field('tokenLabel')),
          pinEnv: str(v['pinEnv'] ?? 'CUSTODY_PKCS11_PIN', field('pinEnv')),
          sessions: v['sessions'] === undefined ? defaults.sessions : posInt(v['sessions'], field('sessions')),
        };
      }
      if (v['kind'] !== undefined && v['kind'] !== 'file') fail(field('kind'), "must be 'file' or 'pkcs11'");
      only(v, where, ['kind', 'dir', 'passphraseEnv']);
      return {
        kind: 'file',
        dir: v['dir'] === undefined ? defaults.dir : at(str(v['dir'], field('dir'))),
        passphraseEnv: str(v['passphraseEnv'] ?? defaults.passphraseEnv, field('passphraseEnv')),
      };
    },
  };
}
