// The `monitor:` section of the server configuration: the transparency log monitor that runs
// inside `custody serve` (log-monitor.ts). It follows this server's own log (when tlog is enabled)
// and any external C2SP tlog-tiles logs listed here.
import { InputError } from '../core/index.ts';
import { parseCosignatureVerifierKey, parseVerifierKey } from '../tlog/index.ts';
import { configFields, isRecord } from './config-fields.ts';

export interface MonitoredLogConfig {
  /** How the log is named in the API, alarms and metrics; default its origin. */
  name: string;
  /** The tlog-tiles prefix URL (`<url>/checkpoint`, `<url>/tile/…`). */
  url: string;
  /** The checkpoint origin line the log must use. */
  origin: string;
  /** The log's note verifier key `<name>+<id>+<base64>`. */
  key: string;
  /** Witness verifier keys whose cosignatures count. */
  witnesses: string[];
  /** Cosignatures each checkpoint must carry (missing-witness alarm otherwise). */
  witnessThreshold: number;
}

export interface MonitorConfig {
  enabled: boolean;
  /** Time between two checks of every log. */
  intervalMs: number;
  /** Also monitor this server's own transparency log (read from <dataDir>/log). */
  self: boolean;
  /** Witness keys and threshold required on the own log's checkpoints. */
  witnesses: string[];
  witnessThreshold: number;
  /**
   * A checkpoint short of cosignatures is read again after this long before the alarm: the log
   * publishes its checkpoint first and adds the witnesses' cosignatures right after.
   */
  witnessGraceMs: number;
  logs: MonitoredLogConfig[];
  /** Where alarms are POSTed; default the signing service's webhook (signing.webhook). */
  webhook: string | undefined;
}

export function defaultMonitorConfig(): MonitorConfig {
  return { enabled: true, intervalMs: 60_000, self: true, witnesses: [], witnessThreshold: 0, witnessGraceMs: 2_000, logs: [], webhook: undefined };
}

const f = configFields('monitor');
const fail: (where: string, message: string) => never = f.fail;

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') fail(where, 'must be true or false');
  return v;
}

function count(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(where, 'must be an integer ≥ 0');
  return v;
}

function httpUrl(v: unknown, where: string): string {
  const text = f.str(v, where);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(where, 'must be a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(where, 'must be an http(s) URL');
  return text;
}

function checkKey(text: string, where: string, parse: (t: string) => unknown): string {
  try {
    parse(text);
  } catch (e) {
    fail(where, `is not a note verifier key: ${(e as Error).message}`);
  }
  return text;
}

function witnessKeys(v: unknown, where: string): string[] {
  return f.strings(v, where).map((k, i) => checkKey(k, `${where}[${i}]`, parseCosignatureVerifierKey));
}

function parseLog(v: unknown, where: string): MonitoredLogConfig {
  if (!isRecord(v)) fail(where, 'must be a mapping with url, origin and key');
  f.only(v, where, ['name', 'url', 'origin', 'key', 'witnesses', 'witnessThreshold']);
  const origin = f.str(v['origin'], `${where}.origin`);
  const witnesses = v['witnesses'] === undefined ? [] : witnessKeys(v['witnesses'], `${where}.witnesses`);
  const witnessThreshold = v['witnessThreshold'] === undefined ? 0 : count(v['witnessThreshold'], `${where}.witnessThreshold`);
  if (witnessThreshold > witnesses.length) fail(`${where}.witnessThreshold`, 'is larger than the number of witnesses');
  return {
    name: v['name'] === undefined ? origin : f.str(v['name'], `${where}.name`),
    url: httpUrl(v['url'], `${where}.url`),
    origin,
    key: checkKey(f.str(v['key'], `${where}.key`), `${where}.key`, parseVerifierKey),
    witnesses,
    witnessThreshold,
  };
}

const KEYS = ['enabled', 'intervalMs', 'self', 'witnesses', 'witnessThreshold', 'witnessGraceMs', 'logs', 'webhook'];

/** Parses the `monitor` mapping (absent: the defaults, which monitor the own log every minute). */
export function parseMonitorConfig(v: unknown): MonitorConfig {
  const config = defaultMonitorConfig();
  if (v === undefined || v === null) return config;
  if (!isRecord(v)) fail('', 'must be a mapping');
  f.only(v, '', KEYS);
  if (v['enabled'] !== undefined) config.enabled = bool(v['enabled'], 'enabled');
  if (v['self'] !== undefined) config.self = bool(v['self'], 'self');
  if (v['intervalMs'] !== undefined) {
    config.intervalMs = f.posInt(v['intervalMs'], 'intervalMs');
    if (config.intervalMs < 100) fail('intervalMs', 'must be at least 100');
  }
  if (v['witnessGraceMs'] !== undefined) config.witnessGraceMs = count(v['witnessGraceMs'], 'witnessGraceMs');
  if (v['witnesses'] !== undefined) config.witnesses = witnessKeys(v['witnesses'], 'witnesses');
  if (v['witnessThreshold'] !== undefined) config.witnessThreshold = count(v['witnessThreshold'], 'witnessThreshold');
  if (config.witnessThreshold > config.witnesses.length) fail('witnessThreshold', 'is larger than the number of witnesses');
  if (v['webhook'] !== undefined) config.webhook = httpUrl(v['webhook'], 'webhook');
  if (v['logs'] !== undefined) {
    if (!Array.isArray(v['logs'])) fail('logs', 'must be a list');
    config.logs = v['logs'].map((l, i) => parseLog(l, `logs[${i}]`));
    const names = new Set<string>();
    for (const [i, l] of config.logs.entries()) {
      if (names.has(l.name)) throw new InputError('INPUT_INVALID', `server config: monitor.logs[${i}].name: '${l.name}' is used twice (give each log a distinct name)`);
      names.add(l.name);
    }
  }
  return config;
}
