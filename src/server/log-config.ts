// The `tlog:` section of the server configuration: the transparency log's origin, note key,
// batching, public base URL and witnesses. Parsed strictly like the rest of config.ts.
import { InputError } from '../core/index.ts';

export interface TlogWitnessConfig {
  /** The witness's base URL (tlog-witness: POST <url>/add-checkpoint). */
  url: string;
  /** Its verifier key `<name>+<id>+<base64>`. */
  key: string;
}

export interface TlogConfig {
  enabled: boolean;
  /** Checkpoint origin line and note key name; also the default base URL's host part. */
  origin: string;
  /** PRIVATE+KEY+… file; default <dataDir>/log-key (generated at first start). */
  keyFile: string | undefined;
  /** Longest an entry waits for the next checkpoint (0: integrate as soon as the sequencer is free). */
  batchIntervalMs: number;
  /** Most entries integrated under one checkpoint. */
  batchMaxEntries: number;
  /** Where Sigstore clients find the log (trusted root baseUrl); must contain the origin. */
  baseUrl: string | undefined;
  witnesses: TlogWitnessConfig[];
  /** Cosignatures the log waits for before publishing a checkpoint (0: publish without). */
  witnessThreshold: number;
}

export function defaultTlogConfig(): TlogConfig {
  return {
    enabled: true,
    origin: 'custody.local/log',
    keyFile: undefined,
    batchIntervalMs: 0,
    batchMaxEntries: 4096,
    baseUrl: undefined,
    witnesses: [],
    witnessThreshold: 0,
  };
}

function fail(where: string, message: string): never {
  throw new InputError('INPUT_INVALID', `server config: ${where}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') fail(where, 'must be a non-empty string');
  return v;
}

function int(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(where, `must be an integer ≥ ${min}`);
  return v;
}

const KEYS = ['enabled', 'origin', 'keyFile', 'batchIntervalMs', 'batchMaxEntries', 'baseUrl', 'witnesses', 'witnessThreshold'];

/** Parses the `tlog` mapping; `at` resolves relative paths. */
export function parseTlogConfig(v: unknown, at: (p: string) => string): TlogConfig {
  const config = defaultTlogConfig();
  if (v === undefined || v === null) return config;
  if (!isRecord(v)) fail('tlog', 'must be a mapping');
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) fail('tlog', `unknown key '${k}' (known: ${KEYS.join(', ')})`);
  if (v['enabled'] !== undefined) {
    if (typeof v['enabled'] !== 'boolean') fail('tlog.enabled', 'must be true or false');
    config.enabled = v['enabled'];
  }
  if (v['origin'] !== undefined) {
    config.origin = str(v['origin'], 'tlog.origin');
    if (/[\s+]/u.test(config.origin)) fail('tlog.origin', 'must not contain spaces or +');
  }
  if (v['keyFile'] !== undefined) config.keyFile = at(str(v['keyFile'], 'tlog.keyFile'));
  if (v['batchIntervalMs'] !== undefined) config.batchIntervalMs = int(v['batchIntervalMs'], 'tlog.batchIntervalMs', 0);
  if (v['batchMaxEntries'] !== undefined) config.batchMaxEntries = int(v['batchMaxEntries'], 'tlog.batchMaxEntries', 1);
  if (v['baseUrl'] !== undefined) config.baseUrl = str(v['baseUrl'], 'tlog.baseUrl');
  if (v['witnesses'] !== undefined) {
    if (!Array.isArray(v['witnesses'])) fail('tlog.witnesses', 'must be a list');
    config.witnesses = v['witnesses'].map((w, i) => {
      if (!isRecord(w)) fail(`tlog.witnesses[${i}]`, 'must be a mapping with url and key');
      return { url: str(w['url'], `tlog.witnesses[${i}].url`), key: str(w['key'], `tlog.witnesses[${i}].key`) };
    });
  }
  if (v['witnessThreshold'] !== undefined) config.witnessThreshold = int(v['witnessThreshold'], 'tlog.witnessThreshold', 0);
  if (config.witnessThreshold > config.witnesses.length) fail('tlog.witnessThreshold', 'is larger than the number of witnesses');
  return config;
}
