// Vulnerabilities: "which artifacts contain package X" (GET /v1/components, answered from the
// stored SBOMs), and the findings of the newest vulnerability scans (in-toto vulns v0.1
// attestations) with severity and VEX status.
import { useState, type FormEvent, type ReactNode } from 'react';
import { decodeStatement, digestText, getJson, getText, q, short, type Summary } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { navigate } from '../router.ts';
import { Link, Status } from '../ui.tsx';

const VULNS = 'https://in-toto.io/attestation/vulns/v0.1';

interface ComponentAnswer {
  items: { artifact: { name: string; digest: Record<string, string> }; components: { name: string; version?: string; purl?: string }[]; sbom: { id: string; predicateType: string; createdAt: string } }[];
  scanned: number;
  truncated: boolean;
}

interface Finding {
  id: string;
  severity: string;
  component: string;
  vex: string;
  artifact: string;
  attestation: string;
}

interface ScanResult {
  id?: string;
  severity?: { method?: string; score?: string }[];
  annotations?: { component?: string; vex?: string }[];
}

async function findings(): Promise<Finding[]> {
  const page = await getJson<{ items: Summary[] }>(q('/v1/attestations', { predicateType: VULNS, limit: 25 }));
  const out: Finding[] = [];
  for (const s of page.items) {
    const decoded = decodeStatement((await getText(q(`/v1/attestations/${s.id}`))).text);
    const predicate = decoded?.statement['predicate'] as { scanner?: { result?: ScanResult[] } } | undefined;
    const artifact = s.subjects[0] === undefined ? '' : digestText(s.subjects[0].digest);
    for (const r of predicate?.scanner?.result ?? []) {
      const a = r.annotations?.[0];
      out.push({ id: r.id ?? '?', severity: (r.severity ?? []).map((x) => x.score ?? '').join(' / '), component: a?.component ?? '', vex: a?.vex ?? '', artifact, attestation: s.id });
    }
  }
  return out;
}

export function VulnerabilitiesView({ name, version }: { name: string; version: string }): ReactNode {
  const [n, setN] = useState(name);
  const [v, setV] = useState(version);
  const answer = useLoad(name === '' ? null : `components:${name}:${version}`, () => getJson<ComponentAnswer>(q('/v1/components', { name, version })));
  const scans = useLoad('findings', findings);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const sp = new URLSearchParams({ name: n.trim() });
    if (v.trim() !== '') sp.set('version', v.trim());
    navigate(`/vulnerabilities?${sp.toString()}`);
  };
  return (
    <section aria-labelledby="vuln-h">
      <h2 id="vuln-h">Vulnerabilities</h2>
      <form role="search" onSubmit={submit} className="row" aria-label="Which artifacts contain a package">
        <label htmlFor="pkg-name">Package name or purl</label>
        <input id="pkg-name" value={n} onChange={(e) => setN(e.target.value)} placeholder="lodash or pkg:npm/lodash" required />
        <label htmlFor="pkg-version">Version (optional)</label>
        <input id="pkg-version" value={v} onChange={(e) => setV(e.target.value)} placeholder="4.17.20" />
        <button type="submit">Find artifacts</button>
      </form>
      <Status loading={answer.loading && answer.data === undefined} error={answer.error} what="components" />
      {answer.data !== undefined && (
        <div data-testid="component-answer">
          <p>
            {answer.data.items.length === 0 ? 'No stored SBOM lists' : `${answer.data.items.length} ${answer.data.items.length === 1 ? 'artifact contains' : 'artifacts contain'}`} <strong>{name}</strong>
            {version === '' ? '' : ` ${version}`} ({answer.data.scanned} SBOMs read{answer.data.truncated ? ', more not read' : ''}).
          </p>
          <table>
            <thead>
              <tr>
                <th scope="col">Artifact</th>
                <th scope="col">Component</th>
                <th scope="col">SBOM</th>
              </tr>
            </thead>
            <tbody>
              {answer.data.items.map((it, i) => {
                const d = digestText(it.artifact.digest);
                return (
                  <tr key={i}>
                    <td>
                      <Link to={`/artifacts/${d}`}>{it.artifact.name || short(d)}</Link>
                    </td>
                    <td>{it.components.map((c) => `${c.name}${c.version === undefined ? '' : `@${c.version}`}`).join(', ')}</td>
                    <td>
                      <Link to={`/attestations/${it.sbom.id}`}>{it.sbom.predicateType.includes('cyclonedx') ? 'CycloneDX' : 'SPDX'}</Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <h3>Findings of the newest scans</h3>
      <Status loading={scans.loading && scans.data === undefined} error={scans.error} what="scan results" />
      {scans.data !== undefined && (scans.data.length === 0 ? <p>No vulnerability scan attestations stored.</p> : (
        <table>
          <thead>
            <tr>
              <th scope="col">Vulnerability</th>
              <th scope="col">Severity</th>
              <th scope="col">Component</th>
              <th scope="col">VEX</th>
              <th scope="col">Artifact</th>
            </tr>
          </thead>
          <tbody>
            {scans.data.slice(0, 500).map((f, i) => (
              <tr key={i}>
                <td>{f.id}</td>
                <td>{f.severity}</td>
                <td>{f.component}</td>
                <td>{f.vex || 'no statement'}</td>
                <td>
                  <Link to={`/artifacts/${f.artifact}`}>{short(f.artifact)}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </section>
  );
}
