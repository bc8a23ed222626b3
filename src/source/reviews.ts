// Review attestations: a reviewer signs an in-toto Statement (predicate https://custody.dev/review/v1)
// naming a commit and its tree. Stored as DSSE envelopes in git notes (refs/notes/custody-reviews,
// one envelope per line) and/or as files in a directory. Loading verifies each signature against
// the policy's identities; judging whether approvals suffice happens in review-rule.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  VerificationError,
  isCustodyError,
  makeStatement,
  parseEnvelope,
  parseJson,
  parseStatement,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type Signer,
} from '../core/index.ts';
import { REVIEW_PREDICATE_TYPE, parseReviewPredicate, type ReviewPredicate } from '../formats/index.ts';
import { parseCommitObject } from './commit-object.ts';
import type { GitRepo } from './git-repo.ts';
import { allPublicKeys, identityForKeyId, type SourcePolicy } from './source-policy.ts';

export const REVIEW_NOTES_REF = 'refs/notes/custody-reviews';

/** Identity git needs to write notes and log commits when the user has none configured. */
export const CUSTODY_GIT_IDENT: Record<string, string> = {
  GIT_AUTHOR_NAME: 'custody',
  GIT_AUTHOR_EMAIL: 'custody@localhost',
  GIT_COMMITTER_NAME: 'custody',
  GIT_COMMITTER_EMAIL: 'custody@localhost',
};

export interface Approval {
  /** Policy identity whose key signed. */
  readonly approver: string;
  readonly predicate: ReviewPredicate;
  /** Where it came from (notes or a file path). */
  readonly source: string;
}

export interface RejectedApproval {
  readonly source: string;
  readonly code: 'APPROVAL_SIGNATURE_INVALID' | 'APPROVAL_MALFORMED' | 'APPROVAL_TREE_MISMATCH';
  readonly message: string;
}

export interface ApprovalSet {
  readonly approvals: readonly Approval[];
  readonly rejected: readonly RejectedApproval[];
}

function commitAndTree(repo: GitRepo, rev: string): { commit: string; tree: string } {
  const commit = repo.resolve(rev);
  if (commit === undefined) throw new InputError('INPUT_INVALID', `'${rev}' is not a commit in ${repo.dir}`);
  const obj = repo.readObject(commit);
  if (obj === undefined) throw new InputError('INPUT_INVALID', `commit ${commit} cannot be read`);
  return { commit, tree: parseCommitObject(obj.bytes, repo.objectFormat()).tree };
}

export interface ApproveOptions {
  comment?: string;
  ref?: string;
  result?: 'approved' | 'rejected';
  time?: Date;
}

/** Signs a review of a commit: the statement names the commit and tree digests. */
export async function signReview(repo: GitRepo, rev: string, signer: Signer, options: ApproveOptions = {}): Promise<Envelope> {
  const { commit, tree } = commitAndTree(repo, rev);
  const digestName = repo.objectFormat() === 'sha256' ? 'sha256' : 'sha1';
  const predicate: ReviewPredicate = {
    commit,
    tree,
    result: options.result ?? 'approved',
    timeReviewed: (options.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    ...(options.comment === undefined ? {} : { comment: options.comment }),
  };
  const statement = makeStatement(
    [
      { name: 'commit', digest: { gitCommit: commit, [digestName]: commit } },
      { name: 'tree', digest: { gitTree: tree } },
    ],
    REVIEW_PREDICATE_TYPE,
    predicate,
  );
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [signer]);
}

/** Appends an envelope to the commit's note in refs/notes/custody-reviews (one JSON line each). */
export function storeReviewInNotes(repo: GitRepo, commit: string, envelope: Envelope): void {
  repo.run(['notes', `--ref=${REVIEW_NOTES_REF}`, 'append', '-m', JSON.stringify(envelope), commit], undefined, CUSTODY_GIT_IDENT);
}

function envelopesFromText(text: string, source: string): { envelope?: unknown; source: string; error?: string }[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  // A single pretty-printed envelope, or JSON Lines.
  const chunks = trimmed.startsWith('{') && !trimmed.includes('\n{') ? [trimmed] : trimmed.split('\n').filter((l) => l.trim() !== '');
  return chunks.map((c, i) => {
    const where = chunks.length > 1 ? `${source}#${i + 1}` : source;
    try {
      return { envelope: parseJson(c, where), source: where };
    } catch (e) {
      return { source: where, error: (e as Error).message };
    }
  });
}

/** Raw envelopes from git notes and from a directory of *.json / *.jsonl files. */
export function collectReviewEnvelopes(repo: GitRepo, dir?: string): { envelope?: unknown; source: string; error?: string }[] {
  const out: { envelope?: unknown; source: string; error?: string }[] = [];
  if (repo.resolve(REVIEW_NOTES_REF) !== undefined) {
    const list = repo.text(['notes', `--ref=${REVIEW_NOTES_REF}`, 'list']).split('\n').filter((l) => l !== '');
    const pairs = list.map((l) => l.split(' ') as [string, string]);
    const blobs = repo.readObjects(pairs.map((p) => p[0]));
    for (const [blob, commit] of pairs) {
      const obj = blobs.get(blob);
      if (obj !== undefined) out.push(...envelopesFromText(Buffer.from(obj.bytes).toString('utf8'), `notes:${commit}`));
    }
  }
  if (dir !== undefined) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      throw new InputError('FILE_UNREADABLE', `cannot read approvals directory ${dir}`, { cause: e });
    }
    for (const name of names) {
      const path = join(dir, name);
      if (!/\.(json|jsonl|dsse)$/.test(name) || !statSync(path).isFile()) continue;
      out.push(...envelopesFromText(readFileSync(path, 'utf8'), path));
    }
  }
  return out;
}

/**
 * Verifies review envelopes: signature by a key of a policy identity, a review statement, and — when
 * the named commit is in the repository — that its tree is the one the review names.
 */
export function verifyReviews(repo: GitRepo, policy: SourcePolicy, raw: ReturnType<typeof collectReviewEnvelopes>): ApprovalSet {
  const approvals: Approval[] = [];
  const rejected: RejectedApproval[] = [];
  const keys = allPublicKeys(policy);
  const pending: { predicate: ReviewPredicate; approver: string; source: string }[] = [];
  for (const item of raw) {
    if (item.error !== undefined) {
      rejected.push({ source: item.source, code: 'APPROVAL_MALFORMED', message: item.error });
      continue;
    }
    try {
      const envelope = parseEnvelope(item.envelope);
      const verified = verifyEnvelope(envelope, keys, { payloadType: IN_TOTO_PAYLOAD_TYPE });
      const statement = parseStatement(parseJson(Buffer.from(verified.payload).toString('utf8'), 'review statement'));
      if (statement.predicateType !== REVIEW_PREDICATE_TYPE) throw new InputError('STATEMENT_INVALID', `predicateType is ${statement.predicateType}`);
      const predicate = parseReviewPredicate(statement.predicate);
      const digests = statement.subject.map((s) => s.digest ?? {});
      if (!digests.some((d) => d['gitCommit'] === predicate.commit) || !digests.some((d) => d['gitTree'] === predicate.tree)) {
        throw new InputError('STATEMENT_INVALID', 'subject does not name the commit and tree of the predicate');
      }
      // One signer per review: the first verified key's identity.
      const approver = identityForKeyId(policy, verified.keyids[0] ?? '');
      if (approver === undefined) throw new VerificationError('KEY_UNKNOWN', 'signed by a key of no identity');
      pending.push({ predicate, approver: approver.name, source: item.source });
    } catch (e) {
      if (!isCustodyError(e)) throw e;
      const code = e instanceof VerificationError ? 'APPROVAL_SIGNATURE_INVALID' : 'APPROVAL_MALFORMED';
      rejected.push({ source: item.source, code, message: e.message });
    }
  }
  const commits = repo.readObjects([...new Set(pending.map((p) => p.predicate.commit))]);
  for (const p of pending) {
    const obj = commits.get(p.predicate.commit);
    if (obj !== undefined && obj.type === 'commit' && parseCommitObject(obj.bytes, repo.objectFormat()).tree !== p.predicate.tree) {
      rejected.push({ source: p.source, code: 'APPROVAL_TREE_MISMATCH', message: `names tree ${p.predicate.tree} but commit ${p.predicate.commit} has another tree` });
      continue;
    }
    approvals.push(p);
  }
  return { approvals, rejected };
}
