// The TUF client side: tuf-js's Updater runs the whole client workflow (TUF spec §5: root
// rotation, timestamp, snapshot, targets, delegations, target download); this module only
// prepares its metadata directory, pins its reference time for air-gapped use, maps its errors to
// stable codes with a reason, and downloads a target's attestations through the same trust chain.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Updater, type Fetcher, type TargetFile } from 'tuf-js';
// tuf-js's loadRoot stops at a 404 only for its own DownloadHTTPError class, which its index does
// not export: a local-directory fetcher must throw that very class.
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js';
import { InputError, VerificationError, type CustodyError } from '../core/index.ts';

export interface TufClientOptions {
  /** http(s) URL of the repository (metadata/ and targets/ below it), or a local directory. */
  repo: string;
  /** Trusted root.json, used when the metadata directory has none yet. */
  root?: string;
  /** Where trusted metadata persists between runs (a warm cache); default: a temp directory. */
  metadataDir?: string;
  /** Verify freshness as of this time instead of the clock (air-gapped use). */
  referenceTime?: Date;
  /** Override tuf-js limits (tests use small ones). */
  config?: Partial<{ timestampMaxLength: number; snapshotMaxLength: number; targetsMaxLength: number; rootMaxLength: number; maxRootRotations: number }>;
}

/** Where a custody target's evidence lives: paths of other targets of the same repository. */
export interface CustodyTargetInfo {
  attestations: string[];
  bundle?: string;
}

export interface FetchedTarget {
  path: string;
  info: TargetFile;
  /** The target, downloaded and verified, in a temp directory until `commit`. */
  file: string;
  /** Directory holding the target's attestations (verified TUF targets themselves). */
  attestationDir: string;
  attestations: string[];
  /** Moves the file to its final place atomically. */
  commit(out: string): void;
  dispose(): void;
}

/** tuf-js error class → stable code and the attack it stops (tuf-js classes are not exported). */
const ERROR_CODES: Record<string, { code: 'EXPIRED' | 'ROLLBACK' | 'THRESHOLD_NOT_MET' | 'DIGEST_MISMATCH' | 'LENGTH_EXCEEDED' | 'METADATA_INVALID' | 'TARGET_MISSING'; what: string }> = {
  ExpiredMetadataError: { code: 'EXPIRED', what: 'metadata expired (freeze attack?)' },
  BadVersionError: { code: 'ROLLBACK', what: 'metadata version went backwards or does not match (rollback / mix-and-match?)' },
  EqualVersionError: { code: 'ROLLBACK', what: 'metadata changed without a new version' },
  UnsignedMetadataError: { code: 'THRESHOLD_NOT_MET', what: 'metadata lacks a threshold of valid signatures' },
  LengthOrHashMismatchError: { code: 'DIGEST_MISMATCH', what: 'downloaded bytes do not match the signed length/hashes (substitution?)' },
  DownloadLengthMismatchError: { code: 'LENGTH_EXCEEDED', what: 'download exceeded its allowed length (endless data?)' },
  DownloadHTTPError: { code: 'METADATA_INVALID', what: 'download failed' },
  DownloadError: { code: 'METADATA_INVALID', what: 'download failed' },
  RepositoryError: { code: 'METADATA_INVALID', what: 'repository metadata refused' },
  ValueError: { code: 'METADATA_INVALID', what: 'malformed metadata' },
  TypeError: { code: 'METADATA_INVALID', what: 'malformed metadata' },
  SyntaxError: { code: 'METADATA_INVALID', what: 'metadata is not JSON' },
};

/** Turns anything tuf-js throws into a VerificationError with a stable code and a reason. */
export function tufError(e: unknown, stage: string): CustodyError {
  if (e instanceof VerificationError || e instanceof InputError) return e;
  const name = e instanceof Error ? e.constructor.name : 'Error';
  const known = ERROR_CODES[name];
  const message = e instanceof Error ? e.message : String(e);
  const resolved = name === 'RuntimeError' ? (wrappedCause(message) ?? known) : known;
  if (resolved === undefined) return new VerificationError('VERIFICATION_FAILED', `${stage}: ${message}`, { cause: e });
  return new VerificationError(resolved.code, `${stage}: ${resolved.what}: ${message}`, { cause: e });
}

/**
 * tuf-js wraps failures while loading snapshot and delegated targets in a RuntimeError that keeps
 * only the inner error's text ("Unable to load targets error Error: …"); the class is lost, so the
 * inner text (from tuf-js's store and models) decides.
 */
const WRAPPED: [RegExp, string][] = [
  [/is less than current version|does not match snapshot version|doesn't match timestamp|is equal to current version/, 'BadVersionError'],
  [/was signed by \d+\/\d+ keys|no signature for key|failed to verify/, 'UnsignedMetadataError'],
  [/is expired/, 'ExpiredMetadataError'],
  [/length|hash/i, 'LengthOrHashMismatchError'],
];

function wrappedCause(message: string): (typeof ERROR_CODES)[string] | undefined {
  if (!message.startsWith('Unable to load')) return undefined;
  const hit = WRAPPED.find(([re]) => re.test(message));
  return hit === undefined ? undefined : ERROR_CODES[hit[1]];
}

/** A Fetcher over a local copy of the repository (air-gapped), with tuf-js's length limits. */
export class DirectoryFetcher implements Fetcher {
  private readonly base: string;
  constructor(base: string) {
    this.base = resolve(base);
  }

  private path(url: string): string {
    const rel = decodeURIComponent(url.replace(/^dir:\/\//, ''));
    const full = resolve(this.base, rel.replace(/^\/+/, ''));
    if (!full.startsWith(`${this.base}/`)) throw new InputError('PATH_OUTSIDE_BASE', `${rel} is outside the repository copy`);
    return full;
  }

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const file = this.path(url);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new DownloadHTTPError(`${url}: not found`, 404);
    }
    if (size > maxLength) throw new DownloadLengthMismatchError(`${url}: ${size} bytes, at most ${maxLength} allowed`);
    return readFile(file);
  }

  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    await this.downloadBytes(url, maxLength);
    return handler(this.path(url));
  }
}

function isUrl(repo: string): boolean {
  return /^https?:\/\//.test(repo);
}

/**
 * tuf-js fixes its reference time when the Updater is made (TUF spec §5.1 "record the time") and
 * offers no option for it. For air-gapped verification we set that recorded time, and refuse to
 * run if the field is not where this tuf-js version keeps it (a test pins this).
 */
function pinReferenceTime(updater: Updater, time: Date): void {
  const trusted = (updater as unknown as { trustedSet?: { referenceTime?: unknown } }).trustedSet;
  if (trusted === undefined || !(trusted.referenceTime instanceof Date)) {
    throw new InputError('USAGE', 'this tuf-js version does not expose its reference time; --reference-time is unavailable');
  }
  trusted.referenceTime = time;
}

/** TUF spec §5.3.10/§5.4.4/§5.5.6/§5.6.6 expiry checks repeated against `time` on the trusted files. */
export function checkExpiry(metadataDir: string, time: Date): void {
  const expires = (role: string): string | undefined => {
    const file = join(metadataDir, `${role}.json`);
    if (!existsSync(file)) return undefined;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { signed?: { expires?: unknown } };
    return typeof doc.signed?.expires === 'string' ? doc.signed.expires : undefined;
  };
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    const e = expires(role);
    if (e !== undefined && new Date(e).getTime() <= time.getTime()) {
      throw new VerificationError('EXPIRED', `${role}.json expired at ${e}, before the reference time ${time.toISOString()} (freeze attack?)`);
    }
  }
}

export class TufClient {
  private readonly options: TufClientOptions;
  private readonly metadataDir: string;
  private readonly tempDirs: string[] = [];
  private readonly updater: Updater;
  private refreshed = false;

  constructor(options: TufClientOptions) {
    this.options = options;
    this.metadataDir = options.metadataDir ?? this.temp('custody-tuf-md-');
    mkdirSync(this.metadataDir, { recursive: true });
    const trusted = join(this.metadataDir, 'root.json');
    if (!existsSync(trusted)) {
      if (options.root === undefined) throw new InputError('USAGE', `no trusted root: give --root (nothing in ${this.metadataDir})`);
      copyFileSync(options.root, trusted);
    }
    const base = isUrl(options.repo) ? options.repo.replace(/\/+$/, '') : 'dir://';
    try {
      this.updater = new Updater({
        metadataDir: this.metadataDir,
        metadataBaseUrl: `${base}/metadata`,
        targetBaseUrl: `${base}/targets`,
        ...(isUrl(options.repo) ? {} : { fetcher: new DirectoryFetcher(options.repo) }),
        config: { fetchRetries: 0, fetchTimeout: 10_000, ...options.config },
      });
    } catch (e) {
      throw tufError(e, 'loading the trusted root');
    }
    if (options.referenceTime !== undefined) pinReferenceTime(this.updater, options.referenceTime);
  }

  private temp(prefix: string, parent?: string): string {
    const dir = mkdtempSync(join(parent ?? process.env['TMPDIR'] ?? '/tmp', prefix));
    this.tempDirs.push(dir);
    return dir;
  }

  /** TUF spec §5.1–§5.6: root, timestamp, snapshot, targets, through tuf-js. */
  async refresh(): Promise<void> {
    try {
      await this.updater.refresh();
    } catch (e) {
      throw tufError(e, 'refreshing metadata');
    }
    if (this.options.referenceTime !== undefined) checkExpiry(this.metadataDir, this.options.referenceTime);
    this.refreshed = true;
  }

  /** TUF spec §5.6.7: the target's info from the delegation walk; TARGET_MISSING when no trusted role lists it. */
  async targetInfo(path: string): Promise<TargetFile> {
    if (!this.refreshed) await this.refresh();
    let info: TargetFile | undefined;
    try {
      info = await this.updater.getTargetInfo(path);
    } catch (e) {
      throw tufError(e, `looking up ${path}`);
    }
    if (info === undefined) throw new VerificationError('TARGET_MISSING', `${path}: no trusted role lists this target (not published, or only by a role not delegated its path)`);
    return info;
  }

  private async download(info: TargetFile, dest: string): Promise<void> {
    try {
      await this.updater.downloadTarget(info, dest);
    } catch (e) {
      throw tufError(e, `downloading ${info.path}`);
    }
  }

  /**
   * Downloads a target and every attestation its custom metadata names, each verified by tuf-js
   * against its signed length and hashes. Nothing reaches `out` until `commit`.
   */
  async fetch(path: string, outDir: string): Promise<FetchedTarget> {
    const info = await this.targetInfo(path);
    const work = this.temp('.custody-fetch-', outDir);
    const file = join(work, basename(path));
    await this.download(info, file);
    const custody = custodyInfo(info);
    const attestationDir = join(work, 'attestations');
    mkdirSync(attestationDir);
    const names: string[] = [];
    for (const [i, att] of [...custody.attestations, ...(custody.bundle === undefined ? [] : [custody.bundle])].entries()) {
      const attInfo = await this.targetInfo(att);
      // Keep a JSON-ish extension so attestation loaders recognise the file.
      const name = `${String(i).padStart(3, '0')}-${basename(att)}`;
      await this.download(attInfo, join(attestationDir, name));
      names.push(att);
    }
    return {
      path,
      info,
      file,
      attestationDir,
      attestations: names,
      commit: (out: string) => {
        mkdirSync(dirname(resolve(out)), { recursive: true });
        renameSync(file, out);
      },
      dispose: () => rmSync(work, { recursive: true, force: true }),
    };
  }

  close(): void {
    for (const d of this.tempDirs) rmSync(d, { recursive: true, force: true });
  }
}

/** The custom field custody writes into target metadata: `custom.custody.{attestations,bundle}`. */
export function custodyInfo(info: TargetFile): CustodyTargetInfo {
  const c = info.custom['custody'];
  if (typeof c !== 'object' || c === null) return { attestations: [] };
  const rec = c as Record<string, unknown>;
  const atts = Array.isArray(rec['attestations']) ? rec['attestations'].filter((a): a is string => typeof a === 'string') : [];
  return { attestations: atts, ...(typeof rec['bundle'] === 'string' ? { bundle: rec['bundle'] } : {}) };
}
