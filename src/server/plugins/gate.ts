// The deploy gate: a Kubernetes validating admission webhook (AdmissionReview admission.k8s.io/v1)
// that admits a Pod or workload only when every container image, pinned by digest, has
// attestations passing every configured policy; plus POST /v1/gate/verify for other deployers.
// Where attestations come from is an adapter the composition root supplies: `custody gate serve`
// reads a directory, `custody serve` (gateServicePlugin, the `gate:` config section) its store.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isValidDigestValue, parseEnvelope, parseJson, type DigestSet } from '../../core/index.ts';
import { evaluatePolicy, type AttestationInput, type PolicyInput, type PolicyTrust, type Verdict } from '../../policy/index.ts';
import type { Store } from '../../store/index.ts';
import type { AppContext } from '../app.ts';
import type { Permission } from '../authz.ts';
import { loadPolicyFiles } from '../policy-files.ts';
import { errorResponses } from '../schemas.ts';
import type { GateServerConfig } from '../tuf-config.ts';

export interface GateConfig {
  policies: readonly { name: string; input: PolicyInput }[];
  trust: PolicyTrust;
  /** enforce: deny failures; warn: admit with warnings. */
  mode: 'enforce' | 'warn';
  /** Only these namespaces are checked (empty: all), minus the excluded ones. */
  namespaces: { include: readonly string[]; exclude: readonly string[] };
  attestationsFor(digest: DigestSet): Promise<readonly AttestationInput[]>;
  now(): Date;
  /** What POST /v1/gate/verify needs (default 'public'). The webhook itself is always public: the Kubernetes API server calls it. */
  verifyPermission?: Permission | 'public';
  /** Records each webhook decision (custody serve: one audit entry per image, action `gate.admission`). */
  record?: (request: FastifyRequest, review: { uid: string; namespace: string }, decision: GateDecision) => Promise<void>;
}

export interface ImageDecision {
  image: string;
  allowed: boolean;
  /** One line per failed rule: `policy: [step / rule] CODE: reason`. */
  reasons: string[];
}

export interface GateDecision {
  allowed: boolean;
  checked: boolean;
  images: ImageDecision[];
}

const DIGEST_REF = /@sha256:([0-9a-f]{64})$/;

/** Failed rules of a verdict, as lines naming the rule. */
function failures(policy: string, verdict: Verdict): string[] {
  return verdict.issues
    .filter((i) => i.severity === 'error')
    .map((i) => {
      const where = [i.step, i.rule].filter((x) => x !== undefined).join(' / ');
      return `${policy}: ${where === '' ? '' : `[${where}] `}${i.code}: ${i.reason}`;
    });
}

export async function decideImage(image: string, gate: GateConfig): Promise<ImageDecision> {
  const m = DIGEST_REF.exec(image);
  const hex = m?.[1];
  if (hex === undefined || !isValidDigestValue('sha256', hex)) return { image, allowed: false, reasons: ['IMAGE_NOT_PINNED: the image is not referenced by a sha256 digest (name@sha256:…)'] };
  const digest: DigestSet = { sha256: hex };
  const attestations = await gate.attestationsFor(digest);
  const reasons: string[] = [];
  for (const p of gate.policies) {
    const verdict = evaluatePolicy(p.input, attestations, gate.trust, { artifactDigest: digest, now: gate.now() });
    if (!verdict.passed) reasons.push(...failures(p.name, verdict));
  }
  return { image, allowed: reasons.length === 0, reasons };
}

export function namespaceChecked(namespace: string, gate: GateConfig): boolean {
  const { include, exclude } = gate.namespaces;
  return (include.length === 0 || include.includes(namespace)) && !exclude.includes(namespace);
}

export async function decideImages(images: readonly string[], namespace: string, gate: GateConfig): Promise<GateDecision> {
  if (!namespaceChecked(namespace, gate)) return { allowed: true, checked: false, images: [] };
  const decisions: ImageDecision[] = [];
  for (const image of new Set(images)) decisions.push(await decideImage(image, gate));
  return { allowed: decisions.every((d) => d.allowed), checked: true, images: decisions };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The pod spec inside a Pod or a workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob). */
function podSpec(kind: string, object: Record<string, unknown>): unknown {
  const spec = object['spec'];
  if (!isRecord(spec)) return undefined;
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') {
    const job = spec['jobTemplate'];
    const jobSpec = isRecord(job) ? job['spec'] : undefined;
    const template = isRecord(jobSpec) ? jobSpec['template'] : undefined;
    return isRecord(template) ? template['spec'] : undefined;
  }
  const template = spec['template'];
  return isRecord(template) ? template['spec'] : undefined;
}

const WORKLOADS = new Set(['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController']);

/** Every container image of the object; undefined when the object is not a workload we know. */
export function imagesOf(object: unknown): string[] | undefined {
  if (!isRecord(object) || typeof object['kind'] !== 'string' || !WORKLOADS.has(object['kind'])) return undefined;
  const spec = podSpec(object['kind'], object);
  if (!isRecord(spec)) return undefined;
  const images: string[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return undefined;
    for (const c of list) {
      if (!isRecord(c) || typeof c['image'] !== 'string') return undefined;
      images.push(c['image']);
    }
  }
  return images;
}

class MalformedReview extends Error {}

interface ReviewRequest {
  uid: string;
  namespace: string;
  object: unknown;
  operation: string;
}

function parseReview(body: unknown): ReviewRequest {
  if (!isRecord(body) || body['apiVersion'] !== 'admission.k8s.io/v1' || body['kind'] !== 'AdmissionReview') throw new MalformedReview('not an admission.k8s.io/v1 AdmissionReview');
  const req = body['request'];
  if (!isRecord(req) || typeof req['uid'] !== 'string' || req['uid'] === '') throw new MalformedReview('AdmissionReview has no request.uid');
  const namespace = typeof req['namespace'] === 'string' ? req['namespace'] : isRecord(req['object']) && isRecord(req['object']['metadata']) && typeof req['object']['metadata']['namespace'] === 'string' ? req['object']['metadata']['namespace'] : 'default';
  return { uid: req['uid'], namespace, object: req['object'], operation: typeof req['operation'] === 'string' ? req['operation'] : '' };
}

function denialMessage(decision: GateDecision): string {
  return decision.images
    .filter((d) => !d.allowed)
    .map((d) => `${d.image}: ${d.reasons.join('; ')}`)
    .join(' | ');
}

const reviewSchema = { type: 'object', additionalProperties: true } as const;

export function gatePlugin(app: FastifyInstance, { gate }: { gate: GateConfig }): Promise<void> {
  app.post(
    '/v1/gate/admission',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Kubernetes validating admission webhook (AdmissionReview admission.k8s.io/v1)',
        description:
          'Admits a Pod or workload only when every container image is pinned by sha256 digest and its attestations pass every gate policy. ' +
          'Answers an AdmissionReview whose response.allowed is false with status.code 403 and a message naming each image and failed rule ' +
          '(warn mode: allowed with warnings). A body that is not an AdmissionReview v1 with request.uid is 400 INPUT_INVALID. ' +
          'Under custody serve each decision in a checked namespace is recorded in the audit log (GET /v1/audit): action gate.admission, one entry per image.',
        body: reviewSchema,
      },
    },
    async (request, reply) => {
    let review: ReviewRequest;
    try {
      review = parseReview(request.body);
    } catch (e) {
      if (e instanceof MalformedReview) return reply.code(400).send({ code: 'INPUT_INVALID', message: e.message });
      throw e;
    }
    const respond = (allowed: boolean, extra: Record<string, unknown> = {}) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.uid, allowed, ...extra } });
    if (review.operation === 'DELETE') return respond(true);
    const images = imagesOf(review.object);
    if (images === undefined) {
      // Not a workload we understand: refuse in enforce mode rather than admit unchecked.
      return gate.mode === 'enforce' ? respond(false, { status: { code: 400, reason: 'BadRequest', message: 'custody gate: object is not a Pod or workload with containers' } }) : respond(true, { warnings: ['custody gate: object not understood; not checked'] });
    }
    const decision = await decideImages(images, review.namespace, gate);
    request.log.info({ uid: review.uid, namespace: review.namespace, allowed: decision.allowed, checked: decision.checked }, 'gate decision');
    if (gate.record !== undefined && decision.checked) {
      try {
        await gate.record(request, review, decision);
      } catch (e) {
        // The decision stands; a lost record is logged, never a 5xx to the API server.
        request.log.error({ err: e, uid: review.uid }, 'gate decision not recorded');
      }
    }
    if (decision.allowed) return respond(true);
    const message = `custody gate: ${denialMessage(decision)}`;
    if (gate.mode === 'warn') return respond(true, { warnings: decision.images.filter((d) => !d.allowed).flatMap((d) => d.reasons.map((r) => `${d.image}: ${r}`.slice(0, 1000))) });
    return respond(false, { status: { code: 403, reason: 'Forbidden', message } });
    },
  );

  app.post(
    '/v1/gate/verify',
    {
      config: { permission: gate.verifyPermission ?? 'public' },
      schema: {
        summary: 'Decide whether images may be deployed (for deployers other than Kubernetes)',
        description: 'The gate decision for images (name@sha256:…) in a Kubernetes namespace: {allowed, checked, images: [{image, allowed, reasons}], mode}. Decides only; never 403 for a failing image.',
        response: { ...errorResponses },
        body: { type: 'object', required: ['images'], properties: { images: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 4096 } }, namespace: { type: 'string', maxLength: 253 } } },
      },
    },
    async (request) => {
      const body = request.body as { images: string[]; namespace?: string };
      const decision = await decideImages(body.images, body.namespace ?? 'default', gate);
      return { ...decision, mode: gate.mode };
    },
  );
  return Promise.resolve();
}

/** Attestations about a digest from the server's store (DSSE envelopes and Sigstore bundles holding one). */
export function storeAttestations(store: Store, namespace: string, max: number): (digest: DigestSet) => Promise<readonly AttestationInput[]> {
  return async (digest) => {
    const sha256 = digest['sha256'];
    if (sha256 === undefined) return [];
    const summaries = await store.attestationsBySubjects(namespace, [{ algorithm: 'sha256', value: sha256 }], max);
    const out: AttestationInput[] = [];
    for (const s of summaries) {
      const stored = await store.getAttestation(namespace, s.id);
      if (stored === undefined) continue;
      try {
        const json = parseJson(stored.bytes, 'stored attestation') as Record<string, unknown>;
        const bundle = stored.mediaType === 'application/vnd.dev.sigstore.bundle.v0.3+json';
        // A bundle keeps its verification material: keyless identity functionaries (trustedRoot).
        out.push({ envelope: parseEnvelope(bundle ? json['dsseEnvelope'] : json), source: `${namespace}/${s.id}`, digest: { sha256: s.id }, ...(bundle && 'verificationMaterial' in json ? { verificationMaterial: json } : {}) });
      } catch {
        // not a DSSE envelope (e.g. a bare in-toto link): policies see only envelopes
      }
    }
    return out;
  };
}

/** Registers the gate routes from `ctx.config.gate` (nothing when the section is absent). */
export async function gateServicePlugin(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const config: GateServerConfig | undefined = ctx.config.gate;
  if (config === undefined) return;
  const { policies, trust } = loadPolicyFiles(config, 'gate');
  await app.register(gatePlugin, {
    gate: {
      policies,
      trust,
      mode: config.mode,
      namespaces: { include: config.namespaces, exclude: config.excludeNamespaces },
      attestationsFor: storeAttestations(ctx.store, config.attestationsNamespace, config.maxAttestations),
      now: ctx.now,
      verifyPermission: 'gate.verify',
      // Admission decisions go to the audit chain (GET /v1/audit): the deployments the dashboard
      // shows. Target `sha256:HEX` (the image digest), namespace the one the evidence is read from.
      record: (request, review, decision) =>
        ctx.store
          .write(
            decision.images.map((d) => ({
              audit: ctx.draft(request, {
                action: 'gate.admission',
                namespace: config.attestationsNamespace,
                target: DIGEST_REF.exec(d.image)?.[1] === undefined ? null : `sha256:${DIGEST_REF.exec(d.image)![1]!}`,
                outcome: d.allowed ? 'allowed' : 'denied',
                status: 200,
                detail: { image: d.image.slice(0, 1024), uid: review.uid.slice(0, 256), kubernetesNamespace: review.namespace, mode: config.mode, reasons: d.reasons.slice(0, 20).map((r) => r.slice(0, 500)) },
              }),
            })),
          )
          .then(() => undefined),
    },
  });
}
