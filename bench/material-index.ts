// What the material index (attestation_materials, issue 14) costs on ingest, and what finding
// consumers by material costs on a graph: the same SLSA provenance attestations (M resolved
// dependencies each) written through Store.write in batches, once as they are (index rows written)
// and once with their materials emptied (no material rows: the store before the index), side by
// side in one run, on SQLite and PostgreSQL. Then, on the indexed store, attestationsByMaterials
// for one attestation's materials (the graph's consumer query).
//
//   node bench/material-index.ts [--drivers sqlite,postgres] [--count 3000] [--materials 20] [--batch 50]
//
// The emptied run also stores a smaller materials column, so the ratio is an upper bound of the
// index's own cost. The load average is printed: the machine may be shared.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateKeyPair } from '../src/core/index.ts';
import { openPostgresStore, openSqliteStore, prepareAttestation, type NewAttestation, type Store } from '../src/store/index.ts';
import { makeEnvelope, sha256Of } from '../test/support/attestations.ts';
import { startPostgres, type PostgresCluster } from '../test/support/postgres.ts';

const { values } = parseArgs({
  options: {
    drivers: { type: 'string', default: 'sqlite,postgres' },
    count: { type: 'string', default: '3000' },
    materials: { type: 'string', default: '20' },
    batch: { type: 'string', default: '50' },
  },
});
const COUNT = Number(values.count);
const MATERIALS = Number(values.materials);
const BATCH = Number(values.batch);

const key = generateKeyPair('ed25519');
const records: NewAttestation[] = [];
for (let i = 0; i < COUNT; i++) {
  // 100 projects: builds of one project share most dependencies, as real ones do.
  const deps = Array.from({ length: MATERIALS }, (_, j) => ({ uri: `pkg:npm/dep-${j}`, digest: { sha256: sha256Of(`dep-${i % 100}-${j}`) } }));
  const bytes = await makeEnvelope({
    subjects: [`package-${i}`],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: {}, resolvedDependencies: deps }, runDetails: { builder: { id: 'https://example.com/ci' } } },
    keys: [key],
  });
  records.push(prepareAttestation(bytes, { trustedKeys: [key.publicKey] }));
}

async function ingest(store: Store, recs: readonly NewAttestation[]): Promise<number> {
  await store.migrate();
  const t0 = performance.now();
  for (let i = 0; i < recs.length; i += BATCH) {
    await store.write([
      {
        attestations: { namespace: 'bench', records: recs.slice(i, i + BATCH) },
        audit: { at: new Date().toISOString(), actor: 'bench', action: 'attestations.write', namespace: 'bench', target: null, outcome: 'allowed', status: 200, detail: {} },
      },
    ]);
  }
  return recs.length / ((performance.now() - t0) / 1000);
}

async function consumerQuery(store: Store): Promise<number> {
  const digests = records[0]!.materials.map((m) => ({ algorithm: 'sha256', value: m.digest['sha256']! }));
  const rounds = 50;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await store.attestationsByMaterials('bench', digests, 501, { within: digests, maxPerDigest: 1000 });
  return (performance.now() - t0) / rounds;
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const emptied = records.map((r) => ({ ...r, materials: [] }));
let cluster: PostgresCluster | undefined;
const dir = mkdtempSync(join(tmpdir(), 'custody-bench-materials-'));
let n = 0;
try {
  for (const driver of values.drivers.split(',')) {
    const open = async (): Promise<Store> => {
      if (driver === 'sqlite') return openSqliteStore({ path: join(dir, `s${n++}.db`) });
      cluster ??= await startPostgres();
      return openPostgresStore({ connectionString: await cluster.createDatabase() });
    };
    // Alternating, twice: the machine's load drifts.
    const rates: { indexed: number[]; without: number[] } = { indexed: [], without: [] };
    let queryMs = 0;
    for (let round = 0; round < 2; round++) {
      const indexed = await open();
      rates.indexed.push(await ingest(indexed, records));
      queryMs = await consumerQuery(indexed);
      await indexed.close();
      const without = await open();
      rates.without.push(await ingest(without, emptied));
      await without.close();
    }
    const best = (xs: number[]): number => Math.max(...xs);
    console.log(
      `${driver}: ${COUNT} provenances x ${MATERIALS} materials, batches of ${BATCH}: indexed ${best(rates.indexed).toFixed(0)}/s, ` +
        `without material rows ${best(rates.without).toFixed(0)}/s (${(best(rates.without) / best(rates.indexed)).toFixed(2)}x); ` +
        `consumer query (${MATERIALS} digests, ${COUNT / 100} hits) ${queryMs.toFixed(1)} ms; load ${load()}`,
    );
  }
} finally {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
