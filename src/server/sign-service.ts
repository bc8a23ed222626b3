// The signing service: who may use which key for which artifact, the policy check BEFORE every
// signature (the artifact's attestations in the store must satisfy the key's signing policy),
// signing a digest (Sigstore messageSignature) or a statement about it (DSSE) with the key
// backend, appending the signature to the transparency log, and sign-then-verify jobs whose
// failure revokes the signature. No HTTP here: plugins/sign.ts adapts it.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  IN_TOTO_PAYLOAD_TYPE,
  InputError,
  PolicyError,
  digestBytes,
  makeStatement,
  parseEnvelope,
  parseJson,
  signEnvelope,
  type PublicKey,
  type ResourceDescriptor,
} from '../core/index.ts';
import { buildDsseBundle, buildMessageSignatureBundle, type SigstoreBundleV03 } from '../formats/index.ts';
import { loadPublicKeyFile, type BackendSigner, type KeyBackend } from '../keys/index.ts';
import { evaluatePolicy, fnmatch, parsePolicyDocument, type AttestationInput, type KeylessVerifier, type PolicyInput, type PolicyTrust, type Verdict } from '../policy/index.ts';
import type { SigningJob, SigningState, Store } from '../store/index.ts';
import { dsseBody, hashedRekordBody, type RekorVerifier } from '../tlog/index.ts';
import type { TransparencyLog } from './log-service.ts';
import type { SignMode, SigningConfig, SigningKeyConfig } from './sign-config.ts';
import { REVOCATION_LIST_TYPE, type RevocationList } from './sign-revocations.ts';

/** The predicate of a DSSE statement the service signs: what was checked before signing. */
export const SIGNING_PREDICATE_TYPE = 'https://custody.dev/signature/v1';

export type SignContent = 'digest' | 'statement';

export interface SignRequest {
  /** sha256 of the artifact: 64 hex, optionally prefixed `sha256:`. */
  digest: string;
  keyRef: string;
  artifactName: string;
  namespace: string;
  subjects?: ResourceDescriptor[];
  attestationIds?: string[];
  mode: SignMode;
  content: SignContent;
}

export interface SignResult {
  bundle: SigstoreBundleV03;
  keyid: string;
  signatureDigest: string;
  logIndex?: number;
  jobId?: string;
  policy: { passed: boolean; attestations: number };
}

/** Why a request was refused, for the audit entry and the response. */
export class SignRefusal extends Error {
  readonly status: 403 | 422;
  readonly code: 'ACCESS_DENIED' | 'POLICY_FAILED' | 'KEY_REVOKED' | 'MODE_NOT_ALLOWED';
  readonly details: Record<string, unknown>;
  constructor(status: 403 | 422, code: SignRefusal['code'], message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

interface Produced {
  body: Uint8Array;
  signature: Uint8Array;
  build: (entries: SigstoreBundleV03['verificationMaterial']['tlogEntries']) => SigstoreBundleV03;
}

interface LoadedPolicy {
  input: PolicyInput;
  trust: PolicyTrust;
  /** Passing verdicts by namespace, digest and attestation set, reused until `until` (ms). */
  passed: Map<string, { verdict: Verdict; count: number; until: number }>;
}

/**
 * How long a passing verdict is reused for the same key, namespace, digest and set of stored
 * attestations (attestations are immutable: their id is the digest of their bytes). Rules that
 * read `now`, and the policy's expiry, see a time at most this old.
 */
const VERDICT_REUSE_MS = 1000;
const VERDICT_CACHE_MAX = 10_000;

export interface SigningServiceOptions {
  config: SigningConfig;
  backend: KeyBackend;
  store: Store;
  log: TransparencyLog | undefined;
  state: SigningState;
  now: () => Date;
  /** Called with each revocation event (webhook + audit are wired by the plugin). */
  onRevoked?: (job: SigningJob, reason: string) => Promise<void>;
  /**
   * The verifier of keyless attestations (identity functionaries) over the trusted root:
   * `signing.trustedRoot`, else the server's own CA. Asked at each evaluation (the CA registers
   * after the signing service); undefined → keyless evidence does not count (fail closed).
   */
  keyless?: () => KeylessVerifier | undefined;
}

const HEX64 = /^[0-9a-f]{64}$/;

function loadPolicy(path: string, key: SigningKeyConfig): LoadedPolicy {
  const json = parseJson(readFileSync(path, 'utf8'), `signing policy ${path}`);
  const isEnvelope = typeof json === 'object' && json !== null && 'payloadType' in json;
  if (isEnvelope) {
    const owners: PublicKey[] = key.policyKeys.map((p) => loadPublicKeyFile(p));
    return { input: { envelope: parseEnvelope(json) }, trust: { owners: { keys: owners, threshold: key.policyThreshold } }, passed: new Map() };
  }
  if (!key.allowUnsignedPolicy) throw new InputError('POLICY_INVALID', `signing policy ${path} is not signed and key '${key.name}' does not allow unsigned policies`);
  return { input: { document: parsePolicyDocument(json) }, trust: { allowUnsignedPolicy: true }, passed: new Map() };
}

function keyDetails(signer: BackendSigner): string {
  const k = signer.publicKey;
  switch (k.type) {
    case 'ecdsa-p256':
      return 'PKIX_ECDSA_P256_SHA_256';
    case 'ecdsa-p384':
      return 'PKIX_ECDSA_P384_SHA_384';
    case 'ed25519':
      return 'PKIX_ED25519';
    case 'rsa':
      return `PKIX_RSA_PSS_${k.keyObject.asymmetricKeyDetails?.modulusLength ?? 3072}_SHA256`;
  }
}

/** Warnings that say why keyless evidence did not count (the errors alone say only "missing"). */
const KEYLESS_WARNINGS: ReadonlySet<string> = new Set(['KEYLESS_UNVERIFIED', 'KEYLESS_INVALID', 'CERTIFICATE_UNTRUSTED', 'CERTIFICATE_EXPIRED']);

/** `CODE: [step / rule] reason` for each failed rule, then why keyless attestations did not count. */
function verdictReasons(v: Verdict): string[] {
  const line = (i: Verdict['issues'][number], reason: string): string => {
    const where = [i.step, i.rule].filter((x) => x !== undefined).join(' / ');
    return `${i.code}: ${where === '' ? '' : `[${where}] `}${reason}`;
  };
  const errors = v.issues.filter((i) => i.severity === 'error').map((i) => line(i, i.reason));
  const keyless = v.issues
    .filter((i) => i.severity === 'warning' && KEYLESS_WARNINGS.has(i.code))
    .map((i) =>
      i.code === 'KEYLESS_UNVERIFIED'
        ? line(i, `${i.attestation ?? 'an attestation'} carries a keyless certificate, but the server has no trusted root to verify it (set signing.trustedRoot, or enable ca)`)
        : line(i, `${i.attestation === undefined ? '' : `${i.attestation}: `}${i.reason}`),
    );
  return [...errors, ...new Set(keyless)].slice(0, 20);
}

export class SigningService {
  readonly #o: SigningServiceOptions;
  readonly #policies = new Map<string, LoadedPolicy>();
  readonly #verifyPolicies = new Map<string, LoadedPolicy>();
  /** Log-entry verifier material per key id (the key's SPKI DER, exported once). */
  readonly #verifiers = new Map<string, RekorVerifier>();

  constructor(options: SigningServiceOptions) {
    this.#o = options;
    // Policies are read and checked at start-up: a broken policy stops the server, not a release.
    for (const key of options.config.keys) {
      this.#policies.set(key.name, loadPolicy(key.policy, key));
      if (key.verifyPolicy !== undefined) this.#verifyPolicies.set(key.name, loadPolicy(key.verifyPolicy, key));
    }
  }

  get backend(): KeyBackend {
    return this.#o.backend;
  }

  /** Which grant lets `actor` use `keyRef` for `artifactName`; refuses with the reason otherwise. */
  authorize(actor: string, keyRef: string, artifactName: string): void {
    const mine = this.#o.config.grants.filter((g) => g.principals.some((p) => fnmatch(actor, p)));
    if (!mine.some((g) => g.keys.includes(keyRef))) {
      throw new SignRefusal(403, 'ACCESS_DENIED', `${actor} may not use key '${keyRef}'`, { reason: 'key' });
    }
    if (!mine.some((g) => g.keys.includes(keyRef) && g.artifacts.some((a) => fnmatch(artifactName, a)))) {
      throw new SignRefusal(403, 'ACCESS_DENIED', `${actor} may not sign '${artifactName}' with key '${keyRef}'`, { reason: 'artifact' });
    }
  }

  /** The ids of the attestations to evaluate: those stored about the digest plus the requested ones. */
  async #attestationIds(namespace: string, sha256: string, ids: readonly string[]): Promise<string[]> {
    const summaries = await this.#o.store.attestationsBySubjects(namespace, [{ algorithm: 'sha256', value: sha256 }], this.#o.config.maxAttestations);
    const wanted = new Set(summaries.map((s) => s.id));
    for (const id of ids) wanted.add(id);
    return [...wanted];
  }

  async #attestations(namespace: string, ids: readonly string[]): Promise<AttestationInput[]> {
    const { store } = this.#o;
    const out: AttestationInput[] = [];
    for (const id of ids) {
      const stored = await store.getAttestation(namespace, id);
      if (stored === undefined) throw new SignRefusal(422, 'POLICY_FAILED', `attestation ${id} is not in namespace '${namespace}'`, { reason: 'attestation-missing' });
      const json = parseJson(stored.bytes, 'stored attestation') as Record<string, unknown>;
      const bundle = stored.mediaType === 'application/vnd.dev.sigstore.bundle.v0.3+json';
      const envelope = parseEnvelope(bundle ? json['dsseEnvelope'] : json);
      // A Sigstore bundle keeps its verification material (certificate, time-stamps, log entry):
      // evidence for the policy's keyless identity functionaries, checked against the trusted root.
      out.push({ envelope, source: `${namespace}/${id}`, digest: { sha256: id }, ...(bundle && 'verificationMaterial' in json ? { verificationMaterial: json } : {}) });
    }
    return out;
  }

  async #evaluate(policy: LoadedPolicy, namespace: string, sha256: string, ids: readonly string[]): Promise<{ verdict: Verdict; count: number }> {
    const wanted = await this.#attestationIds(namespace, sha256, ids);
    // The same question asked again within VERDICT_REUSE_MS (a burst of requests signing one
    // artifact) gets the same passing answer without re-verifying every attestation.
    const cacheKey = `${namespace}\n${sha256}\n${[...wanted].sort().join(',')}`;
    const nowMs = this.#o.now().getTime();
    const hit = policy.passed.get(cacheKey);
    if (hit !== undefined && nowMs < hit.until && nowMs >= hit.until - VERDICT_REUSE_MS) return hit;
    const attestations = await this.#attestations(namespace, wanted);
    const keyless = this.#o.keyless?.();
    const trust: PolicyTrust = keyless === undefined ? policy.trust : { ...policy.trust, keyless };
    const verdict = evaluatePolicy(policy.input, attestations, trust, { artifactDigest: { sha256 }, now: new Date(nowMs) });
    const result = { verdict, count: attestations.length };
    if (verdict.passed) {
      if (policy.passed.size >= VERDICT_CACHE_MAX) policy.passed.clear();
      policy.passed.set(cacheKey, { ...result, until: nowMs + VERDICT_REUSE_MS });
    }
    return result;
  }

  /** The signature (over the digest, or a DSSE statement about it), its log entry body and bundle builder. */
  async #produce(signer: BackendSigner, req: SignRequest, sha256: string, subjects: ResourceDescriptor[], policy: Record<string, unknown>): Promise<Produced> {
    let verifier = this.#verifiers.get(signer.keyid);
    if (verifier === undefined) {
      verifier = { publicKeyDer: signer.publicKey.keyObject.export({ type: 'spki', format: 'der' }), keyDetails: keyDetails(signer) };
      this.#verifiers.set(signer.keyid, verifier);
    }
    const digest = Buffer.from(sha256, 'hex');
    if (req.content === 'digest') {
      const signature = await signer.signDigest(digest, 'sha256');
      return {
        signature,
        body: hashedRekordBody({ digest, signature, verifier }),
        build: (tlogEntries) => buildMessageSignatureBundle({ digest, hash: 'sha256', signature, hint: signer.keyid, tlogEntries }),
      };
    }
    const statement = makeStatement(subjects, SIGNING_PREDICATE_TYPE, {
      artifactName: req.artifactName,
      keyRef: req.keyRef,
      mode: req.mode,
      signedAt: this.#o.now().toISOString(),
      policy: { passed: true, ...policy },
    });
    const payload = new TextEncoder().encode(JSON.stringify(statement));
    const envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, [signer]);
    const signature = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    return {
      signature,
      body: dsseBody({ payload, signatures: [{ signature, verifier }] }),
      build: (tlogEntries) => buildDsseBundle({ envelope, hint: signer.keyid, tlogEntries }),
    };
  }

  /** Checks, signs, logs. Throws SignRefusal (nothing signed or logged) or InputError. */
  async sign(actor: string, req: SignRequest): Promise<SignResult> {
    const sha256 = req.digest.startsWith('sha256:') ? req.digest.slice(7) : req.digest;
    if (!HEX64.test(sha256)) throw new InputError('INPUT_INVALID', 'digest must be a sha256: 64 lowercase hex digits');
    const key = this.#o.config.keys.find((k) => k.name === req.keyRef);
    this.authorize(actor, req.keyRef, req.artifactName);
    if (key === undefined) throw new SignRefusal(403, 'ACCESS_DENIED', `key '${req.keyRef}' is not a signing key of this server`, { reason: 'key' });
    if (!key.modes.includes(req.mode)) throw new SignRefusal(403, 'MODE_NOT_ALLOWED', `key '${key.name}' does not sign in mode ${req.mode}`);
    const subjects = req.subjects ?? [{ name: req.artifactName, digest: { sha256 } }];
    if (req.content === 'statement' && !subjects.some((s) => s.digest?.['sha256'] === sha256)) {
      throw new InputError('INPUT_INVALID', 'the subjects must include the signed digest');
    }

    // The policy check comes BEFORE the key is touched (seed 000: check each build's compliance).
    const { verdict, count } = await this.#evaluate(this.#policies.get(key.name)!, req.namespace, sha256, req.attestationIds ?? []);
    if (!verdict.passed) {
      throw new SignRefusal(422, 'POLICY_FAILED', `the attestations of ${req.artifactName} do not satisfy the signing policy of key '${key.name}'`, {
        reasons: verdictReasons(verdict),
      });
    }

    let signer: BackendSigner;
    try {
      signer = await this.#o.backend.signer(key.name);
    } catch (e) {
      if (e instanceof PolicyError && e.code === 'KEY_REVOKED') throw new SignRefusal(422, 'KEY_REVOKED', e.message);
      throw e;
    }
    const { body, signature, build } = await this.#produce(signer, req, sha256, subjects, { digest: verdict.policy.digest ?? null, attestations: count });
    const signatureDigest = digestBytes(signature);

    const logged = this.#o.log === undefined ? undefined : (await this.#o.log.append([body]))[0];
    const bundle = build(logged === undefined ? [] : [logged.tlogEntry]);

    let jobId: string | undefined;
    if (req.mode === 'sign-then-verify') {
      const now = this.#o.now();
      jobId = randomUUID();
      await this.#o.state.addJob({
        id: jobId,
        keyRef: key.name,
        keyid: signer.keyid,
        namespace: req.namespace,
        artifactName: req.artifactName,
        artifactDigest: sha256,
        signatureDigest,
        ...(logged === undefined ? {} : { logIndex: logged.index }),
        createdAt: now.toISOString(),
        deadline: new Date(now.getTime() + this.#o.config.verifyTimeoutMs).toISOString(),
        status: 'pending',
      });
    }
    return {
      bundle,
      keyid: signer.keyid,
      signatureDigest,
      ...(logged === undefined ? {} : { logIndex: logged.index }),
      ...(jobId === undefined ? {} : { jobId }),
      policy: { passed: true, attestations: count },
    };
  }

  /**
   * Runs the pending sign-then-verify jobs once: the key's verifyPolicy over the attestations now
   * in the store. Passed → done. A failed rule (evidence that contradicts, e.g. a FAILED rebuild
   * VSA) or the deadline passing → the signature is revoked.
   */
  async runJobs(limit = 100): Promise<{ passed: number; failed: number }> {
    const decided = await this.#o.state.processPending(limit, async (job) => {
      const policy = this.#verifyPolicies.get(job.keyRef);
      const now = this.#o.now();
      let reason: string | undefined;
      if (policy === undefined) {
        reason = `key '${job.keyRef}' has no verifyPolicy any more`;
      } else {
        const { verdict } = await this.#evaluate(policy, job.namespace, job.artifactDigest, []);
        if (verdict.passed) return { status: 'passed', at: now.toISOString(), reason: 'verification policy passed' };
        // A failed rule is evidence that contradicts (e.g. a FAILED rebuild VSA): decide now.
        // Missing evidence waits until the deadline.
        if (verdict.issues.some((i) => i.code === 'RULE_FAILED')) reason = `verification failed: ${verdictReasons(verdict).join('; ')}`;
        else if (now.getTime() >= Date.parse(job.deadline)) reason = `verification not satisfied by the deadline ${job.deadline}: ${verdictReasons(verdict).join('; ')}`;
      }
      if (reason === undefined) return undefined;
      return {
        status: 'failed',
        revocation: {
          signatureDigest: job.signatureDigest,
          keyid: job.keyid,
          artifactDigest: job.artifactDigest,
          artifactName: job.artifactName,
          ...(job.logIndex === undefined ? {} : { logIndex: job.logIndex }),
          revokedAt: now.toISOString(),
          reason,
        },
      };
    });
    for (const job of decided) if (job.status === 'failed') await this.#o.onRevoked?.(job, job.reason ?? '');
    return { passed: decided.filter((j) => j.status === 'passed').length, failed: decided.filter((j) => j.status === 'failed').length };
  }

  /** The published revocation list: revoked keys of the backend and revoked signatures. */
  async revocations(): Promise<RevocationList> {
    const keys = (await this.#o.backend.list()).flatMap((k) => (k.revokedAt === undefined ? [] : [{ name: k.name, keyid: k.keyid, revokedAt: k.revokedAt }]));
    return { _type: REVOCATION_LIST_TYPE, generatedAt: this.#o.now().toISOString(), keys, signatures: await this.#o.state.revokedSignatures() };
  }
}
