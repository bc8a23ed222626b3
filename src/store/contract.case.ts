// The Store contract: one suite every driver must pass (STYLE.md §6, hono's common.case pattern).
// sqlite.test.ts and postgres.test.ts call runStoreContract with a factory for fresh stores.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { InputError, digestBytes, generateKeyPair } from '../core/index.ts';
import { makeEnvelope, makeLink, sha256Of } from '../../test/support/attestations.ts';
import { verifyAuditEntries } from './audit-chain.ts';
import { provenanceGraph } from './graph.ts';
import { withGroupCommit } from './group-commit.ts';
import { prepareAttestation } from './ingest.ts';
import type { AuditDraft, NewAttestation, Store, TokenRecord } from './types.ts';

export interface ContractOptions {
  /** A fresh, empty, not yet migrated store. */
  open: () => Promise<Store>;
  /** The driver's migration versions, in order (its *_MIGRATIONS list). */
  migrationVersions: readonly number[];
  /** Whether the driver's database can run here (checked once, in hooks). */
  available?: () => boolean;
  /** Per test: true to run, false after skipping (or failing, in CI) for a missing component. */
  require?: (t: TestContext) => boolean;
}

const key = generateKeyPair('ed25519');
const trustedKeys = [key.publicKey];

function draft(action: string, extra: Partial<AuditDraft> = {}): AuditDraft {
  return { at: new Date().toISOString(), actor: 'test', action, namespace: 'a', target: null, outcome: 'allowed', status: 200, detail: {}, ...extra };
}

async function attestation(subjects: string[], predicateType = 'https://example.com/p/v1', signed = true): Promise<NewAttestation> {
  const bytes = await makeEnvelope({ subjects, predicateType, ...(signed ? { keys: [key] } : {}) });
  return prepareAttestation(bytes, { trustedKeys });
}

async function put(store: Store, namespace: string, records: NewAttestation[]) {
  const [result] = await store.write([{ attestations: { namespace, records }, audit: draft('attestations.write', { namespace }) }]);
  return result!;
}

function token(id: string, extra: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id,
    secretHash: sha256Of(`secret-${id}`),
    role: 'attester',
    namespaces: ['a'],
    description: `token ${id}`,
    createdAt: new Date().toISOString(),
    createdBy: 'test',
    expiresAt: null,
    revokedAt: null,
    ...extra,
  };
}

export function runStoreContract(name: string, options: ContractOptions): void {
  describe(`Store contract (${name})`, () => {
    let store: Store;
    const opened: Store[] = [];
    const fresh = async (): Promise<Store> => {
      const s = await options.open();
      opened.push(s);
      await s.migrate();
      return s;
    };
    before(async () => {
      if (options.available?.() === false) return;
      store = await fresh();
    });
    after(async () => {
      for (const s of opened) await s.close();
    });
    const test = (title: string, fn: () => Promise<void>): void => {
      it(title, async (t) => {
        if (options.require?.(t) === false) return;
        await fn();
      });
    };

    describe('when migrating', () => {
      test('applies every version once, then nothing', async () => {
        const s = await options.open();
        opened.push(s);
        const first = await s.migrate();
        const latest = options.migrationVersions[options.migrationVersions.length - 1];
        assert.deepEqual(first.applied, [...options.migrationVersions]);
        assert.equal(first.version, latest);
        const second = await s.migrate();
        assert.deepEqual(second.applied, []);
        assert.equal(second.version, latest);
      });
    });

    describe('when storing attestations', () => {
      test('keeps the exact bytes under their sha256 and stores each upload once', async () => {
        const record = await attestation(['store-bytes']);
        const first = await put(store, 'a', [record]);
        assert.equal(first.attestations[0]?.created, true);
        assert.equal(first.attestations[0]?.id, digestBytes(record.bytes));
        const again = await put(store, 'a', [record]);
        assert.equal(again.attestations[0]?.created, false);
        assert.equal(again.attestations[0]?.seq, first.attestations[0]?.seq);
        const got = await store.getAttestation('a', record.id);
        assert.ok(got !== undefined);
        assert.deepEqual(Buffer.from(got.bytes), Buffer.from(record.bytes));
        assert.equal(got.size, record.bytes.byteLength);
        assert.equal(got.verification.status, 'verified');
        assert.deepEqual(got.verification.keyids, [key.publicKey.keyid]);
        assert.deepEqual(got.subjects, record.subjects);
      });

      test('counts the same bytes twice in one batch as created once', async () => {
        const record = await attestation(['twice-in-batch']);
        const result = await put(store, 'a', [record, record]);
        assert.deepEqual(result.attestations.map((r) => r.created), [true, false]);
        assert.equal(result.attestations[0]?.seq, result.attestations[1]?.seq);
      });

      test('keeps namespaces apart: the same bytes may live in two, and neither sees the other', async () => {
        const record = await attestation(['ns-isolation']);
        await put(store, 'iso-1', [record]);
        assert.equal(await store.getAttestation('iso-2', record.id), undefined);
        const page = await store.listAttestations({ namespace: 'iso-2', subject: { algorithm: 'sha256', value: sha256Of('ns-isolation') }, limit: 10 });
        assert.equal(page.items.length, 0);
        const second = await put(store, 'iso-2', [record]);
        assert.equal(second.attestations[0]?.created, true);
      });

      test('returns undefined for an unknown id', async () => {
        assert.equal(await store.getAttestation('a', '0'.repeat(64)), undefined);
      });

      test('lets concurrent writers of the same bytes store them once', async () => {
        const record = await attestation(['concurrent-same']);
        const results = await Promise.all(Array.from({ length: 8 }, () => put(store, 'a', [record])));
        assert.equal(results.filter((r) => r.attestations[0]?.created === true).length, 1);
        assert.equal(new Set(results.map((r) => r.attestations[0]?.seq)).size, 1);
      });
    });

    describe('when listing', () => {
      let s: Store;
      const ids: Record<string, string> = {};
      before(async () => {
        if (options.available?.() === false) return;
        s = await fresh();
        const plain = await attestation(['list-x', 'list-y'], 'https://example.com/a/v1');
        const unsigned = await attestation(['list-x'], 'https://example.com/b/v1', false);
        const link = prepareAttestation(await makeLink('compile', ['src'], ['list-x'], [key]), { trustedKeys });
        await put(s, 'l', [plain]);
        await put(s, 'l', [unsigned]);
        await put(s, 'l', [link]);
        await put(s, 'other', [await attestation(['list-x'])]);
        Object.assign(ids, { plain: plain.id, unsigned: unsigned.id, link: link.id });
      });
      const x = { algorithm: 'sha256', value: sha256Of('list-x') };

      test('finds by subject digest, newest first, in the namespace only', async () => {
        const page = await s.listAttestations({ namespace: 'l', subject: x, limit: 10 });
        assert.deepEqual(page.items.map((i) => i.id), [ids['link'], ids['unsigned'], ids['plain']]);
        assert.equal(page.nextCursor, undefined);
        assert.ok(page.items.every((i) => i.namespace === 'l'));
      });

      test('filters by predicate type, verified signer and step', async () => {
        const byType = await s.listAttestations({ namespace: 'l', predicateType: 'https://example.com/b/v1', limit: 10 });
        assert.deepEqual(byType.items.map((i) => i.id), [ids['unsigned']]);
        const bySigner = await s.listAttestations({ namespace: 'l', signer: key.publicKey.keyid, limit: 10 });
        assert.deepEqual(bySigner.items.map((i) => i.id), [ids['link'], ids['plain']]);
        const byStep = await s.listAttestations({ namespace: 'l', step: 'compile', limit: 10 });
        assert.deepEqual(byStep.items.map((i) => i.id), [ids['link']]);
        assert.equal(byStep.items[0]?.step, 'compile');
        const combined = await s.listAttestations({ namespace: 'l', subject: x, signer: key.publicKey.keyid, predicateType: 'https://example.com/a/v1', limit: 10 });
        assert.deepEqual(combined.items.map((i) => i.id), [ids['plain']]);
      });

      test('filters by time stored', async () => {
        const future = await s.listAttestations({ namespace: 'l', since: new Date(Date.now() + 60_000), limit: 10 });
        assert.equal(future.items.length, 0);
        const past = await s.listAttestations({ namespace: 'l', since: new Date(Date.now() - 60_000), limit: 10 });
        assert.equal(past.items.length, 3);
      });

      test('pages with a cursor without repeating or skipping', async () => {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await s.listAttestations({ namespace: 'l', limit: 2, ...(cursor === undefined ? {} : { cursor }) });
          seen.push(...page.items.map((i) => i.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== undefined);
        assert.equal(pages, 2);
        assert.deepEqual(seen, [ids['link'], ids['unsigned'], ids['plain']]);
      });

      test('rejects a cursor it did not issue', async () => {
        await assert.rejects(s.listAttestations({ namespace: 'l', cursor: 'c1.bm9wZQ', limit: 2 }), (e) => e instanceof InputError && e.code === 'INPUT_INVALID');
        await assert.rejects(s.listAttestations({ namespace: 'l', cursor: "1' OR 1=1", limit: 2 }), (e) => e instanceof InputError && e.code === 'INPUT_INVALID');
      });
    });

    describe('when walking the provenance graph', () => {
      test('follows materials to the attestations that produced them, to the depth asked', async () => {
        const s = await fresh();
        // source → (compile) → binary → (package) → image
        const compile = prepareAttestation(await makeLink('compile', ['source'], ['binary'], [key]), { trustedKeys });
        const pack = prepareAttestation(await makeLink('package', ['binary'], ['image'], [key]), { trustedKeys });
        const fetchSrc = prepareAttestation(await makeLink('fetch', ['upstream'], ['source'], [key]), { trustedKeys });
        await put(s, 'g', [compile, pack, fetchSrc]);
        const root = { algorithm: 'sha256', value: sha256Of('image') };
        const deep = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 100 });
        assert.deepEqual(new Set(deep.attestations.map((a) => a.step)), new Set(['package', 'compile', 'fetch']));
        assert.deepEqual(
          deep.artifacts.map((a) => [a.digest.value, a.depth]),
          [[sha256Of('image'), 0], [sha256Of('binary'), 1], [sha256Of('source'), 2], [sha256Of('upstream'), 3]],
        );
        assert.equal(deep.truncated, false);
        const shallow = await provenanceGraph(s, { namespace: 'g', root, depth: 1, maxAttestations: 100 });
        assert.deepEqual(shallow.attestations.map((a) => a.step).sort(), ['compile', 'package']);
        const capped = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 2 });
        assert.equal(capped.attestations.length, 2);
        assert.equal(capped.truncated, true);
        const elsewhere = await provenanceGraph(s, { namespace: 'other', root, depth: 5, maxAttestations: 100 });
        assert.equal(elsewhere.attestations.length, 0);
      });

      test('finds attestations by material digest, newest first, optionally only those that consumed nothing else', async () => {
        const s = await fresh();
        const link = async (step: string, materials: string[], products: string[]) => prepareAttestation(await makeLink(step, materials, products, [key]), { trustedKeys });
        const compile = await link('compile', ['source'], ['binary']);
        const lint = await link('lint', ['source', 'config'], ['lint-report']);
        const scan = await link('scan', ['source', 'scanner-rules'], ['scan-report']);
        // One write each: a batch's store order is the driver's (PostgreSQL sorts it by id).
        const [pc, pl, ps] = [(await put(s, 'm', [compile])).attestations[0], (await put(s, 'm', [lint])).attestations[0], (await put(s, 'm', [scan])).attestations[0]];
        const d = (text: string) => ({ algorithm: 'sha256', value: sha256Of(text) });
        const ids = async (digests: string[], limit = 10, within?: string[]) =>
          (await s.attestationsByMaterials('m', digests.map(d), limit, within === undefined ? {} : { within: within.map(d) })).items.map((a) => a.id);
        assert.deepEqual(await ids(['source']), [ps!.id, pl!.id, pc!.id]);
        assert.deepEqual(await ids(['config', 'source']), [ps!.id, pl!.id, pc!.id], 'each attestation once');
        assert.deepEqual(await ids(['source'], 2), [ps!.id, pl!.id]);
        assert.deepEqual(await ids(['source'], 10, ['source', 'config']), [pl!.id, pc!.id], 'scan also consumed scanner-rules');
        assert.deepEqual(await ids(['source'], 10, []), []);
        assert.deepEqual(await ids(['binary']), [], 'a product is not a material');
        assert.deepEqual(await ids([]), []);
        assert.deepEqual(await s.attestationsByMaterials('other', [d('source')], 10), { items: [], skipped: [] });
        const found = await s.attestationsByMaterials('m', [d('config')], 10);
        assert.equal(found.items[0]?.step, 'lint');
        // maxPerDigest: source (3 consumers) leads everywhere at 2 and is left out, config (1) is not.
        const capped = await s.attestationsByMaterials('m', [d('source'), d('config')], 10, { maxPerDigest: 2 });
        assert.deepEqual([capped.items.map((a) => a.id), capped.skipped], [[pl!.id], [d('source')]]);
        const roomy = await s.attestationsByMaterials('m', [d('source'), d('config')], 10, { maxPerDigest: 3 });
        assert.deepEqual([roomy.items.length, roomy.skipped], [3, []]);
      });

      test('adds the steps that consumed only its materials (a lint), not competing runs or other inputs, within the limit', async () => {
        const s = await fresh();
        const link = async (step: string, materials: string[], products: string[]) => prepareAttestation(await makeLink(step, materials, products, [key]), { trustedKeys });
        // checkout → source, config; compile(source, config) → binary; package(binary) → image.
        // lint(source, config) → report: produces nothing on the image's path, reached only by its materials.
        const checkout = await link('checkout', [], ['source', 'config']);
        const compile = await link('compile', ['source', 'config'], ['binary']);
        const pack = await link('package', ['binary'], ['image']);
        const lint = await link('lint', ['source', 'config'], ['lint-report']);
        // Another compile of the same inputs made another binary: that binary's evidence.
        const rival = await link('compile', ['source', 'config'], ['binary-2']);
        // A scan that also read something outside this graph.
        const scan = await link('scan', ['source', 'elsewhere'], ['scan-report']);
        // Another commit's checkout: the same source, another config under the same name.
        const otherCheckout = prepareAttestation(
          await makeEnvelope({ subjects: ['source', { name: 'config', digest: { sha256: sha256Of('config v2') } }], predicateType: 'https://in-toto.io/attestation/link/v0.3', predicate: { name: 'checkout', materials: [] }, keys: [key] }),
          { trustedKeys },
        );
        await put(s, 'g', [checkout, compile, pack, lint, rival, scan, otherCheckout]);
        const root = { algorithm: 'sha256', value: sha256Of('image') };
        const graph = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 100 });
        assert.deepEqual(graph.attestations.map((a) => a.step).sort(), ['checkout', 'compile', 'lint', 'package']);
        assert.ok(graph.attestations.some((a) => a.id === checkout.id) && !graph.attestations.some((a) => a.id === otherCheckout.id), 'the checkout whose config was consumed');
        assert.deepEqual(graph.consumers, [lint.id]);
        assert.equal(graph.truncated, false);
        // Before the material index, the same walk stopped at the producers.
        const producersOnly = await provenanceGraph(
          { attestationsBySubjects: (...a) => s.attestationsBySubjects(...a), attestationsByMaterials: () => Promise.resolve({ items: [], skipped: [] }) },
          { namespace: 'g', root, depth: 5, maxAttestations: 100 },
        );
        assert.ok(!producersOnly.attestations.some((a) => a.step === 'lint'));
        // The root's own consumers are its dependents, not its evidence.
        const fromBinary = await provenanceGraph(s, { namespace: 'g', root: { algorithm: 'sha256', value: sha256Of('binary') }, depth: 5, maxAttestations: 100 });
        assert.ok(!fromBinary.attestations.some((a) => a.step === 'package'));
        assert.ok(fromBinary.attestations.some((a) => a.step === 'lint'));
        // Consumers count against the limit: exactly enough, then one short.
        const exact = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 4 });
        assert.deepEqual([exact.attestations.length, exact.consumers.length, exact.truncated], [4, 1, false]);
        const short = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 3 });
        assert.deepEqual([short.attestations.length, short.consumers.length, short.truncated], [3, 0, true]);
        // A material consumed more often than allowed is not followed, and the graph says so:
        // source has 4 consumers (compile, lint, the rival compile, scan), config 3.
        const hubs = await provenanceGraph(s, { namespace: 'g', root, depth: 5, maxAttestations: 100, maxConsumersPerMaterial: 2 });
        assert.deepEqual([hubs.consumers, hubs.skippedMaterials.map((m) => m.value).sort()], [[], [sha256Of('config'), sha256Of('source')].sort()]);
        assert.deepEqual(graph.skippedMaterials, []);
        // Depth 0 reaches no material: no consumer either.
        const shallow = await provenanceGraph(s, { namespace: 'g', root, depth: 0, maxAttestations: 100 });
        assert.deepEqual([shallow.attestations.map((a) => a.step), shallow.consumers], [['package'], []]);
      });
    });

    describe('when auditing', () => {
      test('chains one entry per write unit, in order, and the chain verifies', async () => {
        const s = await fresh();
        const results = await s.write([{ audit: draft('one') }, { audit: draft('two', { outcome: 'denied', status: 403 }) }]);
        assert.deepEqual(results.map((r) => [r.audit.seq, r.audit.action]), [[1, 'one'], [2, 'two']]);
        await put(s, 'a', [await attestation(['audited'])]);
        const entries = await s.readAudit(0, 100);
        assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3]);
        assert.equal(entries[1]?.prevHash, entries[0]?.hash);
        assert.equal(entries[1]?.outcome, 'denied');
        const head = await s.auditHead();
        assert.deepEqual(head, { seq: 3, hash: entries[2]?.hash });
        assert.deepEqual(verifyAuditEntries(entries, head), []);
        assert.deepEqual((await s.readAudit(2, 100)).map((e) => e.seq), [3]);
      });

      test('keeps the chain whole under concurrent group-committed writers', async () => {
        const s = withGroupCommit(await fresh(), { maxUnits: 7 });
        const writes = Array.from({ length: 40 }, (_, i) => s.write([{ audit: draft(`w${i}`) }, { audit: draft(`w${i}b`) }]));
        const results = await Promise.all(writes);
        assert.deepEqual(results.flatMap((r) => r.map((u) => u.audit.seq)), Array.from({ length: 80 }, (_, i) => i + 1));
        const entries = await s.readAudit(0, 1000);
        assert.equal(entries.length, 80);
        assert.deepEqual(verifyAuditEntries(entries, await s.auditHead()), []);
      });
    });

    describe('when managing tokens', () => {
      test('creates, finds, lists and revokes once, auditing each change', async () => {
        const s = await fresh();
        const created = await s.createToken(token('t1', { namespaces: ['a', 'b'], expiresAt: '2030-01-01T00:00:00.000Z' }), draft('tokens.create', { target: 't1' }));
        assert.equal(created.action, 'tokens.create');
        await s.createToken(token('t2', { role: 'admin', namespaces: ['*'] }), draft('tokens.create', { target: 't2' }));
        const t1 = await s.getToken('t1');
        assert.deepEqual(t1?.namespaces, ['a', 'b']);
        assert.equal(t1?.expiresAt, '2030-01-01T00:00:00.000Z');
        assert.equal(t1?.revokedAt, null);
        assert.equal(await s.getToken('nope'), undefined);
        assert.deepEqual((await s.listTokens()).map((t) => t.id).sort(), ['t1', 't2']);
        const at = new Date().toISOString();
        assert.equal(await s.revokeToken('t1', at, draft('tokens.revoke', { target: 't1' })), true);
        assert.equal(await s.revokeToken('t1', at, draft('tokens.revoke', { target: 't1' })), false);
        assert.equal(await s.revokeToken('nope', at, draft('tokens.revoke', { target: 'nope' })), false);
        assert.equal((await s.getToken('t1'))?.revokedAt, at);
        const actions = (await s.readAudit(0, 100)).map((e) => e.action);
        assert.deepEqual(actions, ['tokens.create', 'tokens.create', 'tokens.revoke']);
      });

      test('refuses a second token with the same id', async () => {
        const s = await fresh();
        await s.createToken(token('dup'), draft('tokens.create'));
        await assert.rejects(s.createToken(token('dup'), draft('tokens.create')));
        assert.equal((await s.readAudit(0, 10)).length, 1);
      });
    });
  });
}

/**
 * The material index migration backfills what was stored before it: with the index emptied
 * behind the store's back (`exec` runs SQL on its database), a link is no longer found by its
 * materials; the migration's backfill statement brings it back.
 */
export async function checkMaterialIndexBackfill(store: Store, exec: (sql: string) => Promise<void>, backfill: string): Promise<void> {
  await store.migrate();
  const lint = prepareAttestation(await makeLink('lint', ['source', 'config'], ['lint-report'], [key]), { trustedKeys });
  await put(store, 'b', [lint, await attestation(['no-materials'])]);
  const digest = (text: string) => ({ algorithm: 'sha256', value: sha256Of(text) });
  const find = async () => (await store.attestationsByMaterials('b', [digest('config')], 10, { within: [digest('source'), digest('config')] })).items.map((a) => a.id);
  assert.deepEqual(await find(), [lint.id]);
  await exec('DELETE FROM attestation_materials');
  assert.deepEqual(await find(), []);
  await exec(backfill);
  assert.deepEqual(await find(), [lint.id]);
  await exec(backfill); // idempotent
  assert.deepEqual(await find(), [lint.id]);
  assert.deepEqual((await store.attestationsByMaterials('b', [digest('lint-report')], 10)).items, [], 'products are not materials');
}
