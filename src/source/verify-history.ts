// custody source verify: every commit in a range signed (SSHSIG, in-process) by a key the policy
// authorizes for the ref and for the paths the commit touches; each change on the ref approved by
// enough reviewers independent of its authors; protected refs checked against the reference state
// log. Everything that fails is returned as findings, per commit, with a stable code.
import { dearmorSshsig, isArmoredSshsig, parseSshsig, verifySshsig } from './sshsig.ts';
import { allowedSignerApplies } from './allowed-signers.ts';
import { parseCommitObject, parseTagObject, type CommitObject } from './commit-object.ts';
import type { Finding } from './findings.ts';
import type { GitRepo } from './git-repo.ts';
import { collectReviewEnvelopes, verifyReviews, type Approval, type RejectedApproval } from './reviews.ts';
import { verifyRsl } from './rsl.ts';
import { identitiesForEmail, identityForSshKey, ownersOf, refRuleFor, type Identity, type RefRule, type SourcePolicy } from './source-policy.ts';
import { InputError, isCustodyError } from '../core/index.ts';
import { GpgVerifier, gpgAvailable } from './gpg-verifier.ts';

export interface VerifySourceOptions {
  /** "A..B": the commits reachable from B and not from A. */
  range?: string;
  /** A ref: every commit reachable from it. */
  ref?: string;
  /** The ref name the policy is applied for when the range's end is not a ref. */
  asRef?: string;
  /** Directory of review envelopes, besides git notes. */
  approvalsDir?: string;
}

export interface CommitResult {
  readonly commit: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly authorEmail: string;
  /** Policy identity whose key made a valid signature. */
  readonly signer?: string;
  /** SHA256 fingerprint of the signing key, when the signature could be parsed. */
  readonly keyFingerprint?: string;
  readonly paths?: readonly string[];
  readonly passed: boolean;
  readonly findings: readonly Finding[];
}

export interface ReviewCheck {
  readonly commit: string;
  readonly tree: string;
  readonly required: number;
  /** Independent approvers that counted. */
  readonly approvers: readonly string[];
  readonly authors: readonly string[];
  readonly passed: boolean;
  readonly findings: readonly Finding[];
}

export interface SourceVerification {
  readonly ref: string;
  readonly rule?: string;
  readonly tip: string;
  readonly range: string;
  readonly commits: readonly CommitResult[];
  readonly reviews: readonly ReviewCheck[];
  readonly history: readonly Finding[];
  readonly rejectedApprovals: readonly RejectedApproval[];
  readonly passed: boolean;
  /** SLSA source track levels and custody controls met (empty when verification failed). */
  readonly levels: readonly string[];
}

/** OpenPGP verification through gpg, set up only when the range holds OpenPGP signatures. */
interface PgpContext {
  verifier?: GpgVerifier;
  byFingerprint: Map<string, Identity>;
  unavailable?: string;
}

function pgpContext(policy: SourcePolicy, objects: Map<string, CommitObject>): PgpContext | undefined {
  if (![...objects.values()].some((c) => c.signature?.includes('BEGIN PGP SIGNATURE') === true)) return undefined;
  const ids = [...policy.identities.values()].filter((i) => i.pgpKeys.length > 0);
  if (ids.length === 0) return { byFingerprint: new Map(), unavailable: 'the policy lists no OpenPGP keys' };
  if (!gpgAvailable()) return { byFingerprint: new Map(), unavailable: 'gpg is not installed' };
  const byFingerprint = new Map<string, Identity>();
  for (const id of ids) for (const key of id.pgpKeys) for (const fpr of GpgVerifier.fingerprints(key)) byFingerprint.set(fpr, id);
  return { verifier: new GpgVerifier(ids.flatMap((i) => i.pgpKeys)), byFingerprint };
}

function checkPgp(pgp: PgpContext | undefined, signature: string, payload: Uint8Array, commit: string): SignatureCheck {
  if (pgp?.verifier === undefined) {
    return { findings: [{ code: 'SIGNATURE_UNSUPPORTED', message: `OpenPGP signature not verified: ${pgp?.unavailable ?? 'no OpenPGP keys'}`, commit }] };
  }
  const r = pgp.verifier.verify(payload, signature);
  if (!r.ok) return { findings: [{ code: r.reason, message: r.detail, commit }] };
  const identity = pgp.byFingerprint.get(r.fingerprint);
  if (identity === undefined) return { fingerprint: r.fingerprint, findings: [{ code: 'KEY_UNKNOWN', message: `OpenPGP key ${r.fingerprint} belongs to no identity`, commit }] };
  return { fingerprint: r.fingerprint, identity, findings: [] };
}

interface SignatureCheck {
  findings: Finding[];
  identity?: Identity;
  fingerprint?: string;
}

/** Verifies one commit's (or tag's) signature and finds the identity behind its key. */
function checkSignature(policy: SourcePolicy, signature: string | undefined, payload: Uint8Array, time: number, commit: string, pgp?: PgpContext): SignatureCheck {
  if (signature === undefined) return { findings: [{ code: 'UNSIGNED', message: 'the commit has no signature', commit }] };
  if (signature.startsWith('-----BEGIN PGP SIGNATURE-----')) return checkPgp(pgp, signature, payload, commit);
  if (!isArmoredSshsig(signature)) {
    const kind = signature.includes('BEGIN SIGNED MESSAGE') ? 'X.509 (gitsign/smimesign)' : 'unrecognised';
    return { findings: [{ code: 'SIGNATURE_UNSUPPORTED', message: `${kind} signatures are not supported (SSH, and OpenPGP through gpg)`, commit }] };
  }
  let sig;
  try {
    sig = parseSshsig(dearmorSshsig(signature));
  } catch (e) {
    if (!isCustodyError(e)) throw e;
    return { findings: [{ code: 'SIGNATURE_MALFORMED', message: e.message, commit }] };
  }
  const fingerprint = sig.publicKey.fingerprint;
  const check = verifySshsig(sig, payload, policy.namespace);
  if (!check.ok) {
    const code = check.reason === 'NAMESPACE_MISMATCH' ? 'SIGNATURE_NAMESPACE_MISMATCH' : 'SIGNATURE_INVALID';
    return { fingerprint, findings: [{ code, message: check.reason === 'NAMESPACE_MISMATCH' ? `signed for namespace '${sig.namespace}', not '${policy.namespace}'` : `the signature by ${fingerprint} does not verify`, commit }] };
  }
  const found = identityForSshKey(policy, sig.publicKey);
  if (found === undefined) return { fingerprint, findings: [{ code: 'KEY_UNKNOWN', message: `signed by ${sig.publicKey.type} key ${fingerprint}, which belongs to no identity in the policy`, commit }] };
  // git verifies with -Overify-time=<committer date>: allowed_signers windows apply at that time.
  const at = new Date(time * 1000);
  if (found.entries.length > 0 && !found.entries.some((e) => allowedSignerApplies(e, policy.namespace, at))) {
    return { fingerprint, identity: found.identity, findings: [{ code: 'KEY_NOT_VALID_AT_COMMIT_TIME', message: `key ${fingerprint} of ${found.identity.name} is not valid for namespace '${policy.namespace}' at ${at.toISOString()}`, commit, identity: found.identity.name }] };
  }
  return { fingerprint, identity: found.identity, findings: [] };
}

function checkMergetags(policy: SourcePolicy, c: CommitObject, commit: string): Finding[] {
  const out: Finding[] = [];
  for (const raw of c.mergetags) {
    const tag = parseTagObject(raw);
    if (tag.signature === undefined || !isArmoredSshsig(tag.signature)) continue;
    const check = checkSignature(policy, tag.signature, tag.payload, tag.tagger?.time ?? c.committer.time, commit);
    for (const f of check.findings) out.push({ code: 'MERGETAG_SIGNATURE_INVALID', message: `merged tag ${tag.tag}: ${f.message}`, commit });
  }
  return out;
}

function checkPaths(policy: SourcePolicy, identity: Identity | undefined, paths: readonly string[], commit: string): Finding[] {
  const out: Finding[] = [];
  if (identity === undefined) return out;
  for (const path of paths) {
    const rule = ownersOf(policy, path);
    if (rule !== undefined && rule.owners.size > 0 && !rule.owners.has(identity.name)) {
      out.push({ code: 'PATH_OWNED_BY_OTHERS', message: `${identity.name} changed ${path}, owned by ${[...rule.owners].join(', ')} (rule '${rule.pattern}')`, commit, path, identity: identity.name });
    }
  }
  return out;
}

function resolveTarget(repo: GitRepo, options: VerifySourceOptions): { refName: string; revs: string[]; tipRev: string; range: string } {
  if (options.range !== undefined) {
    const m = /^(.*?)\.\.(.+)$/.exec(options.range);
    if (m === null || m[1] === undefined || m[2] === undefined) throw new InputError('USAGE', `--range must be A..B (got '${options.range}')`);
    const right = m[2];
    const refName = options.asRef ?? repo.fullRefName(right) ?? '';
    if (refName === '') throw new InputError('USAGE', `the end of --range (${right}) is not a ref: name the ref the policy applies to with --as-ref`);
    return { refName, revs: m[1] === '' ? [right] : [options.range], tipRev: right, range: options.range };
  }
  if (options.ref === undefined) throw new InputError('USAGE', 'give --range A..B or --ref R');
  const refName = options.asRef ?? (options.ref.startsWith('refs/') ? options.ref : repo.fullRefName(options.ref) ?? '');
  if (refName === '') throw new InputError('USAGE', `'${options.ref}' is not a ref`);
  return { refName, revs: [options.ref], tipRev: options.ref, range: options.ref };
}

interface ReviewContext {
  repo: GitRepo;
  policy: SourcePolicy;
  rule: RefRule;
  objects: Map<string, CommitObject>;
  results: Map<string, CommitResult>;
  approvals: readonly Approval[];
  approvalCommits: Map<string, CommitObject>;
}

function authorsOf(ctx: ReviewContext, change: readonly string[]): Set<string> {
  const authors = new Set<string>();
  for (const id of change) {
    const c = ctx.objects.get(id);
    const signer = ctx.results.get(id)?.signer;
    if (signer !== undefined) authors.add(signer);
    if (c === undefined) continue;
    for (const i of identitiesForEmail(ctx.policy, c.author.email)) authors.add(i.name);
    for (const i of identitiesForEmail(ctx.policy, c.committer.email)) authors.add(i.name);
  }
  return authors;
}

/**
 * Two-person review of one change landing on the ref (a first-parent commit). The change's
 * commits are X for a plain commit and X^1..X for a merge; their authors, committers and signers
 * are its authors. An approval counts when it names X's tree (an approval of any other tree has
 * lapsed), comes from an identity that is not an author, and distinct approvers reach the number
 * required; at least one of them must have write access (be a signer for the ref).
 */
function checkReview(ctx: ReviewContext, commit: string): ReviewCheck {
  const c = ctx.objects.get(commit) as CommitObject;
  const change = c.parents.length > 1 ? ctx.repo.revList([`${commit}^1..${commit}`]) : [commit];
  const authors = authorsOf(ctx, change);
  const forTree = ctx.approvals.filter((a) => a.predicate.tree === c.tree);
  const approvers = new Set<string>();
  const self = new Set<string>();
  const findings: Finding[] = [];
  for (const a of forTree) {
    if (a.predicate.result === 'rejected') {
      if (!authors.has(a.approver)) findings.push({ code: 'REVIEW_REJECTED', message: `${a.approver} rejected this tree`, commit, identity: a.approver });
      continue;
    }
    if (authors.has(a.approver)) self.add(a.approver);
    else approvers.add(a.approver);
  }
  const required = ctx.rule.reviews;
  if (approvers.size < required) {
    const base = `${approvers.size} independent approval(s) of tree ${c.tree}, ${required} required`;
    if (self.size > 0) findings.push({ code: 'REVIEW_SELF_APPROVAL', message: `${base}; approval by author(s) ${[...self].join(', ')} does not count`, commit, identity: [...self].join(',') });
    const stale = ctx.approvals.filter((a) => {
      if (a.predicate.tree === c.tree || a.predicate.result !== 'approved' || authors.has(a.approver)) return false;
      if (change.includes(a.predicate.commit)) return true;
      // An earlier version of the same change (amended or rebased onto the same base).
      const old = ctx.approvalCommits.get(a.predicate.commit);
      return old !== undefined && old.parents[0] !== undefined && old.parents[0] === c.parents[0];
    });
    if (stale.length > 0) {
      findings.push({ code: 'REVIEW_STALE', message: `${base}; approval(s) by ${[...new Set(stale.map((a) => a.approver))].join(', ')} are for an older tree (${stale.map((a) => a.predicate.tree.slice(0, 12)).join(', ')})`, commit });
    }
    if (self.size === 0 && stale.length === 0) findings.push({ code: 'REVIEW_MISSING', message: base, commit });
  } else if (required > 0 && ![...approvers].some((a) => ctx.rule.signers.has(a))) {
    findings.push({ code: 'REVIEW_NO_WRITER', message: `none of the approvers (${[...approvers].join(', ')}) has write access to ${ctx.rule.pattern}`, commit });
  }
  return { commit, tree: c.tree, required, approvers: [...approvers].sort(), authors: [...authors].sort(), passed: findings.length === 0, findings };
}

function verifyCommits(repo: GitRepo, policy: SourcePolicy, rule: RefRule | undefined, commits: string[], objects: Map<string, CommitObject>): CommitResult[] {
  const pgp = pgpContext(policy, objects);
  try {
    return verifyEach(repo, policy, rule, commits, objects, pgp);
  } finally {
    pgp?.verifier?.close();
  }
}

function verifyEach(repo: GitRepo, policy: SourcePolicy, rule: RefRule | undefined, commits: string[], objects: Map<string, CommitObject>, pgp: PgpContext | undefined): CommitResult[] {
  // Path owners are enforced on protected refs (as code-owner review is a branch protection).
  const paths = policy.owners.length > 0 && rule?.protected === true ? repo.changedPaths(commits) : new Map<string, string[]>();
  return commits.map((id) => {
    const c = objects.get(id) as CommitObject;
    const sig = checkSignature(policy, c.signature, c.payload, c.committer.time, id, pgp);
    const findings = [...sig.findings];
    if (sig.identity !== undefined && rule !== undefined && !rule.signers.has(sig.identity.name)) {
      findings.push({ code: 'SIGNER_NOT_AUTHORIZED_FOR_REF', message: `${sig.identity.name} may not sign for refs matching ${rule.pattern}`, commit: id, identity: sig.identity.name });
    }
    const touched = paths.get(id);
    if (touched !== undefined) findings.push(...checkPaths(policy, sig.identity, touched, id));
    findings.push(...checkMergetags(policy, c, id));
    return {
      commit: id,
      tree: c.tree,
      parents: c.parents,
      authorEmail: c.author.email,
      ...(sig.identity === undefined ? {} : { signer: sig.identity.name }),
      ...(sig.fingerprint === undefined ? {} : { keyFingerprint: sig.fingerprint }),
      ...(touched === undefined ? {} : { paths: touched }),
      passed: findings.length === 0,
      findings,
    };
  });
}

function readCommits(repo: GitRepo, ids: readonly string[]): Map<string, CommitObject> {
  const out = new Map<string, CommitObject>();
  const format = repo.objectFormat();
  for (const [id, obj] of repo.readObjects(ids)) if (obj.type === 'commit') out.set(id, parseCommitObject(obj.bytes, format));
  return out;
}

/** SLSA source track levels (v1.2) met, cumulatively, plus the custody controls that held. */
function levelsMet(rule: RefRule | undefined, passed: boolean, commits: readonly CommitResult[], reviewsChecked: boolean): string[] {
  if (!passed || rule === undefined) return [];
  const levels = ['SLSA_SOURCE_LEVEL_1'];
  const controls = ['CUSTODY_SOURCE_SIGNED_COMMITS'];
  if (commits.some((c) => c.paths !== undefined)) controls.push('CUSTODY_SOURCE_PATH_OWNERS');
  if (reviewsChecked) controls.push('CUSTODY_SOURCE_TWO_PARTY_REVIEW');
  // L2 (history and continuity): the ref's history is recorded and cannot be rewritten unnoticed.
  if (rule.protected) {
    controls.push('CUSTODY_SOURCE_REFERENCE_STATE_LOG');
    levels.push('SLSA_SOURCE_LEVEL_2');
    // L3 (continuous technical controls): every change authenticated and authorized by policy.
    levels.push('SLSA_SOURCE_LEVEL_3');
    // L4: two-party review of every change.
    if (reviewsChecked) levels.push('SLSA_SOURCE_LEVEL_4');
  }
  return [...levels, ...controls];
}

export function verifySource(repo: GitRepo, policy: SourcePolicy, options: VerifySourceOptions): SourceVerification {
  const target = resolveTarget(repo, options);
  const tip = repo.resolve(target.tipRev);
  if (tip === undefined) throw new InputError('INPUT_INVALID', `'${target.tipRev}' is not a commit`);
  const rule = refRuleFor(policy, target.refName);
  const ids = repo.revList(target.revs);
  const objects = readCommits(repo, ids);
  const commits = verifyCommits(repo, policy, rule, ids, objects);
  const history: Finding[] = [];
  if (rule === undefined) history.push({ code: 'REF_NOT_COVERED', message: `no refs rule of the policy matches ${target.refName}`, ref: target.refName });
  let reviews: ReviewCheck[] = [];
  let rejected: readonly RejectedApproval[] = [];
  if (rule !== undefined && rule.reviews > 0) {
    const set = verifyReviews(repo, policy, collectReviewEnvelopes(repo, options.approvalsDir));
    rejected = set.rejected;
    const results = new Map(commits.map((c) => [c.commit, c]));
    const firstParent = repo.revList(['--first-parent', ...target.revs]);
    const ctx: ReviewContext = { repo, policy, rule, objects, results, approvals: set.approvals, approvalCommits: readCommits(repo, [...new Set(set.approvals.map((a) => a.predicate.commit))]) };
    reviews = firstParent.map((id) => checkReview(ctx, id));
  }
  if (rule?.protected === true) history.push(...verifyRsl(repo, policy, [target.refName]).findings);
  const passed = commits.every((c) => c.passed) && reviews.every((r) => r.passed) && history.length === 0;
  return {
    ref: target.refName,
    ...(rule === undefined ? {} : { rule: rule.pattern }),
    tip,
    range: target.range,
    commits,
    reviews,
    history,
    rejectedApprovals: rejected,
    passed,
    levels: levelsMet(rule, passed, commits, reviews.length > 0),
  };
}
