// The reference state log (gittuf-style RSL) kept in the repository under refs/custody/rsl: each
// entry is a commit (parent = previous entry) whose tree holds entry.intoto.json, a DSSE envelope of
// a Statement (predicate https://custody.dev/rsl/v1) saying "ref R pointed at commit C", numbered
// and chained to the previous entry by the SHA-256 of its envelope bytes. Verification replays the
// log: broken chains, unknown signers, non-fast-forward moves of protected refs (force-pushes) and
// ref values that no entry records (unrecorded updates) are all reported.
import { createHash } from 'node:crypto';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  isCustodyError,
  makeStatement,
  parseEnvelope,
  parseJson,
  parseStatement,
  signEnvelope,
  verifyEnvelope,
  type Signer,
} from '../core/index.ts';
import { RSL_PREDICATE_TYPE, parseRslEntryPredicate, type RslEntryPredicate } from '../formats/index.ts';
import { parseCommitObject } from './commit-object.ts';
import type { GitRepo } from './git-repo.ts';
import { CUSTODY_GIT_IDENT } from './reviews.ts';
import { allPublicKeys, identityForKeyId, refRuleFor, type SourcePolicy } from './source-policy.ts';
import type { Finding } from './findings.ts';

export const RSL_REF = 'refs/custody/rsl';
const ENTRY_FILE = 'entry.intoto.json';

export interface RslEntry {
  readonly logCommit: string;
  readonly predicate: RslEntryPredicate;
  /** "sha256:<hex>" of the stored envelope bytes. */
  readonly hash: string;
  readonly envelopeBytes: Uint8Array;
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Finds one entry's blob id in a binary tree object ("mode name\0<raw id>"...). */
function blobInTree(tree: Uint8Array, name: string, idBytes: number): string | undefined {
  let at = 0;
  const buf = Buffer.from(tree);
  while (at < buf.length) {
    const nul = buf.indexOf(0, at);
    if (nul < 0) return undefined;
    const header = buf.toString('utf8', at, nul);
    const id = buf.subarray(nul + 1, nul + 1 + idBytes).toString('hex');
    if (header.slice(header.indexOf(' ') + 1) === name) return id;
    at = nul + 1 + idBytes;
  }
  return undefined;
}

/** Reads the log oldest first, without judging it. Entries whose blob is unreadable are reported. */
export function readRsl(repo: GitRepo): { entries: { logCommit: string; bytes?: Uint8Array }[] } {
  const tip = repo.resolve(RSL_REF);
  if (tip === undefined) return { entries: [] };
  const logCommits = repo.revList(['--first-parent', '--reverse', RSL_REF]);
  const commits = repo.readObjects(logCommits);
  const idBytes = repo.objectFormat() === 'sha256' ? 32 : 20;
  const trees = new Map<string, string>();
  for (const c of logCommits) {
    const obj = commits.get(c);
    if (obj !== undefined) trees.set(c, parseCommitObject(obj.bytes, repo.objectFormat()).tree);
  }
  const treeObjs = repo.readObjects([...new Set(trees.values())]);
  const blobOf = new Map<string, string>();
  for (const [c, t] of trees) {
    const obj = treeObjs.get(t);
    const blob = obj === undefined ? undefined : blobInTree(obj.bytes, ENTRY_FILE, idBytes);
    if (blob !== undefined) blobOf.set(c, blob);
  }
  const blobs = repo.readObjects([...new Set(blobOf.values())]);
  return {
    entries: logCommits.map((c) => {
      const b = blobOf.get(c);
      const bytes = b === undefined ? undefined : blobs.get(b)?.bytes;
      return bytes === undefined ? { logCommit: c } : { logCommit: c, bytes };
    }),
  };
}

/** Appends an entry recording the ref's current value. Concurrent appends fail (compare-and-swap). */
export async function recordRef(repo: GitRepo, ref: string, signer: Signer, time = new Date()): Promise<RslEntry> {
  const fullRef = ref.startsWith('refs/') ? ref : repo.fullRefName(ref);
  if (fullRef === undefined || fullRef === '') throw new InputError('USAGE', `'${ref}' is not a ref`);
  const commit = repo.resolve(fullRef);
  if (commit === undefined) throw new InputError('INPUT_INVALID', `ref ${fullRef} does not point at a commit`);
  const previousTip = repo.resolve(RSL_REF);
  const { entries } = readRsl(repo);
  const last = entries[entries.length - 1];
  let number = 1;
  let previous: string | undefined;
  if (last !== undefined) {
    if (last.bytes === undefined) throw new InputError('INPUT_INVALID', `the reference state log entry ${last.logCommit} is unreadable; repair the log first`);
    previous = sha256(last.bytes);
    number = entries.length + 1;
  }
  const predicate: RslEntryPredicate = { number, ref: fullRef, commit, recordedAt: time.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(previous === undefined ? {} : { previous }) };
  const statement = makeStatement([{ name: fullRef, digest: { gitCommit: commit } }], RSL_PREDICATE_TYPE, predicate);
  const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [signer]);
  const bytes = Buffer.from(`${JSON.stringify(envelope)}\n`);
  const blob = repo.writeObject('blob', bytes);
  const tree = repo.writeTree([`100644 blob ${blob}\t${ENTRY_FILE}`]);
  const logCommit = repo
    .text(['commit-tree', tree, ...(previousTip === undefined ? [] : ['-p', previousTip]), '-m', `custody rsl ${number}: ${fullRef} ${commit}`], undefined, CUSTODY_GIT_IDENT)
    .trim();
  repo.updateRef(RSL_REF, logCommit, previousTip, `custody rsl: record ${fullRef}`);
  return { logCommit, predicate, hash: sha256(bytes), envelopeBytes: bytes };
}

export interface RslVerification {
  readonly entries: readonly RslEntry[];
  readonly findings: readonly Finding[];
  /** Latest recorded value per ref. */
  readonly latest: ReadonlyMap<string, string>;
}

function checkEntry(policy: SourcePolicy, raw: { logCommit: string; bytes?: Uint8Array }, index: number, prevHash: string | undefined): RslEntry | Finding {
  const at = { entry: index + 1, logCommit: raw.logCommit };
  if (raw.bytes === undefined) return { code: 'RSL_ENTRY_INVALID', message: `log commit ${raw.logCommit} has no ${ENTRY_FILE}`, ...at };
  try {
    const envelope = parseEnvelope(parseJson(Buffer.from(raw.bytes).toString('utf8'), 'rsl entry'));
    const verified = verifyEnvelope(envelope, allPublicKeys(policy), { payloadType: IN_TOTO_PAYLOAD_TYPE });
    const recorder = identityForKeyId(policy, verified.keyids[0] ?? '');
    if (recorder === undefined || !policy.recorders.has(recorder.name)) {
      return { code: 'RSL_SIGNER_NOT_ALLOWED', message: `entry ${index + 1} is signed by ${recorder?.name ?? 'an unknown key'}, not a recorder`, ...at };
    }
    const statement = parseStatement(parseJson(Buffer.from(verified.payload).toString('utf8'), 'rsl statement'));
    if (statement.predicateType !== RSL_PREDICATE_TYPE) throw new InputError('STATEMENT_INVALID', `predicateType ${statement.predicateType}`);
    const predicate = parseRslEntryPredicate(statement.predicate);
    if (!statement.subject.some((s) => s.digest?.['gitCommit'] === predicate.commit)) throw new InputError('STATEMENT_INVALID', 'subject does not name the recorded commit');
    // The chain: numbers count up from 1 and each entry names the hash of the one before.
    if (predicate.number !== index + 1 || predicate.previous !== prevHash) {
      return { code: 'RSL_CHAIN_BROKEN', message: `entry ${index + 1} says number ${predicate.number}, previous ${predicate.previous ?? 'none'}; expected ${index + 1}, ${prevHash ?? 'none'}`, ...at };
    }
    return { logCommit: raw.logCommit, predicate, hash: sha256(raw.bytes), envelopeBytes: raw.bytes };
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    const code = e.code === 'SIGNATURE_INVALID' || e.code === 'KEY_UNKNOWN' ? 'RSL_SIGNATURE_INVALID' : 'RSL_ENTRY_INVALID';
    return { code, message: `entry ${index + 1}: ${e.message}`, ...at };
  }
}

/**
 * Replays the log. For every protected ref (policy refs[].protected): each recorded value must
 * descend from the one before (else RSL_FORCE_PUSH), and the ref's current value must be the last
 * recorded one (else RSL_UNRECORDED_UPDATE when it moved forward, RSL_REF_REWRITTEN when not).
 */
export function verifyRsl(repo: GitRepo, policy: SourcePolicy, refsToCheck?: readonly string[]): RslVerification {
  const { entries: raw } = readRsl(repo);
  const findings: Finding[] = [];
  const entries: RslEntry[] = [];
  let prevHash: string | undefined;
  for (const [i, r] of raw.entries()) {
    const result = checkEntry(policy, r, i, prevHash);
    if ('code' in result) {
      findings.push(result);
      // A broken entry breaks everything after it: stop trusting the log here.
      break;
    }
    entries.push(result);
    prevHash = result.hash;
  }
  const latest = new Map<string, string>();
  for (const e of entries) {
    const { ref, commit, number } = e.predicate;
    const before = latest.get(ref);
    if (before !== undefined && before !== commit && refRuleFor(policy, ref)?.protected === true && !repo.isAncestor(before, commit)) {
      findings.push({ code: 'RSL_FORCE_PUSH', message: `entry ${number}: protected ${ref} moved from ${before} to ${commit}, which does not descend from it`, ref, entry: number, commit });
    }
    latest.set(ref, commit);
  }
  const current = repo.refs('refs/');
  const refs = refsToCheck ?? [...current.keys()].filter((r) => refRuleFor(policy, r)?.protected === true);
  for (const ref of refs) {
    if (refRuleFor(policy, ref)?.protected !== true) continue;
    const value = current.get(ref);
    const recorded = latest.get(ref);
    if (value === undefined) continue;
    if (recorded === undefined) findings.push({ code: 'RSL_NOT_RECORDED', message: `protected ${ref} has no entry in ${RSL_REF}`, ref, commit: value });
    else if (recorded !== value) {
      const forward = repo.isAncestor(recorded, value);
      findings.push({
        code: forward ? 'RSL_UNRECORDED_UPDATE' : 'RSL_REF_REWRITTEN',
        message: forward
          ? `protected ${ref} is at ${value} but the log last recorded ${recorded}: an update was not recorded`
          : `protected ${ref} is at ${value}, which does not descend from the recorded ${recorded}: history was rewritten`,
        ref,
        commit: value,
      });
    }
  }
  return { entries, findings, latest };
}
