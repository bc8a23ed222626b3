// Rebuilds: the verification summaries (SLSA VSA v1) rebuilders stored, grouped per artifact:
// how many rebuilders agree (PASSED) or disagree (FAILED) with the build, and for a disagreement
// diffoscope's report when the rebuilder stored its own provenance: custody rebuild records the
// report as a byproduct (`<name>.diffoscope.txt`, inline when small) of the rebuild's provenance,
// whose subject is the rebuilt product of the same name.
import type { ReactNode } from 'react';
import { decodeStatement, digestText, getJson, getText, q, short, type Summary } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Link, Status } from '../ui.tsx';

const VSA = 'https://slsa.dev/verification_summary/v1';
const PROVENANCE = 'https://slsa.dev/provenance/v1';
/** The policy a `custody rebuild` VSA names: only these VSAs are rebuild results (others verify policies). */
const REBUILD_POLICY = 'https://custody.dev/build/rebuild-policy/v1';
const REPORT_BYTES = 64 * 1024;

interface Diffoscope {
  /** The rebuild provenance holding the report. */
  id: string;
  text: string;
}

interface Row {
  artifact: string;
  name: string;
  results: { verifier: string; result: string; id: string }[];
  diffoscope?: Diffoscope;
}

interface Byproduct {
  name?: string;
  content?: string;
}

/** The diffoscope text report of a rebuilt product named `name` (another digest than `artifact`), if one is stored. */
async function diffoscopeFor(provenances: Summary[], name: string, artifact: string): Promise<Diffoscope | undefined> {
  const candidates = provenances.filter((s) => s.subjects.some((x) => x.name === name && digestText(x.digest) !== artifact));
  for (const s of candidates) {
    const decoded = decodeStatement((await getText(q(`/v1/attestations/${s.id}`))).text);
    const run = (decoded?.statement['predicate'] as { runDetails?: { byproducts?: Byproduct[] } } | undefined)?.runDetails;
    const report = run?.byproducts?.find((b) => b.name === `${name}.diffoscope.txt` && typeof b.content === 'string');
    if (report?.content === undefined) continue;
    const bytes = Uint8Array.from(atob(report.content), (c) => c.charCodeAt(0));
    return { id: s.id, text: new TextDecoder().decode(bytes.slice(0, REPORT_BYTES)) };
  }
  return undefined;
}

async function load(): Promise<Row[]> {
  const page = await getJson<{ items: Summary[] }>(q('/v1/attestations', { predicateType: VSA, limit: 100 }));
  const rows = new Map<string, Row>();
  for (const s of page.items) {
    const decoded = decodeStatement((await getText(q(`/v1/attestations/${s.id}`))).text);
    const p = decoded?.statement['predicate'] as { verifier?: { id?: string }; verificationResult?: string; policy?: { uri?: string } } | undefined;
    if (p?.policy?.uri !== REBUILD_POLICY) continue;
    for (const sub of s.subjects) {
      const d = digestText(sub.digest);
      let row = rows.get(d);
      if (row === undefined) rows.set(d, (row = { artifact: d, name: sub.name ?? '', results: [] }));
      row.results.push({ verifier: p?.verifier?.id ?? '?', result: p?.verificationResult ?? '?', id: s.id });
    }
  }
  const failing = [...rows.values()].filter((r) => r.results.some((x) => x.result === 'FAILED'));
  if (failing.length > 0) {
    const provenances = (await getJson<{ items: Summary[] }>(q('/v1/attestations', { predicateType: PROVENANCE, limit: 100 }))).items;
    for (const r of failing) {
      const report = await diffoscopeFor(provenances, r.name, r.artifact);
      if (report !== undefined) r.diffoscope = report;
    }
  }
  return [...rows.values()];
}

export function RebuildsView(): ReactNode {
  const { data, error, loading } = useLoad('rebuilds', load);
  return (
    <section aria-labelledby="rebuilds-h">
      <h2 id="rebuilds-h">Rebuilds</h2>
      <Status loading={loading && data === undefined} error={error} what="rebuild results" />
      {data !== undefined && data.length === 0 && <p>No rebuilder has reported yet (VSAs from custody rebuild, docs/builds.md).</p>}
      <p className="muted">Rebuild results are the SLSA VSAs naming custody&apos;s rebuild policy ({REBUILD_POLICY}); other VSAs (policy checks) are on each artifact&apos;s page.</p>
      {data !== undefined && data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Artifact</th>
              <th scope="col">Agreement</th>
              <th scope="col">Rebuilders</th>
            </tr>
          </thead>
          <tbody>
            {data.map((r) => {
              const passed = r.results.filter((x) => x.result === 'PASSED').length;
              return (
                <tr key={r.artifact}>
                  <td>
                    <Link to={`/artifacts/${r.artifact}`}>{r.name || short(r.artifact)}</Link>
                  </td>
                  <td>
                    <Badge ok={passed === r.results.length}>
                      {passed} of {r.results.length} agree
                    </Badge>
                  </td>
                  <td>
                    {r.results.map((x) => (
                      <span key={x.id}>
                        <Link to={`/attestations/${x.id}`}>{x.verifier}</Link>: {x.result}{' '}
                      </span>
                    ))}
                    {r.diffoscope !== undefined && (
                      <details data-testid="diffoscope">
                        <summary>
                          diffoscope report (from the <Link to={`/attestations/${r.diffoscope.id}`}>rebuild provenance</Link>)
                        </summary>
                        <pre>{r.diffoscope.text}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p className="muted">
        A diffoscope report is shown when the rebuilder uploaded its rebuild provenance (the report inline as a byproduct); otherwise the rebuilder that disagreed keeps its own.
      </p>
    </section>
  );
}
