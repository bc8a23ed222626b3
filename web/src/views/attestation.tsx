// One attestation: the exact stored bytes (GET /v1/attestations/{id}), decoded: statement type,
// subjects, predicate, who signed (verified key ids, claimed key ids), when it was stored.
import type { ReactNode } from 'react';
import { decodeStatement, digestText, getText, q, short, type Summary } from '../api.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Digest, Link, Status, when } from '../ui.tsx';

const MAX_SHOWN = 20_000;

function Signature({ verification, summary }: { verification: string | undefined; summary: Summary | undefined }): ReactNode {
  const keyids = summary?.verification.keyids ?? [];
  const code = summary?.verification.code;
  return (
    <>
      <Badge ok={verification === undefined ? undefined : verification === 'verified'}>{verification ?? 'unknown'}</Badge>
      {keyids.length > 0 && <> by key {keyids.join(', ')}</>}
      {code !== undefined && <> ({code})</>}
    </>
  );
}

function StatementFields({ statement, signatures, verification, summary }: { statement: Record<string, unknown>; signatures: { keyid?: string }[]; verification: string | undefined; summary: Summary | undefined }): ReactNode {
  const subjects = (statement['subject'] ?? []) as { name?: string; digest?: Record<string, string> }[];
  const predicate = JSON.stringify(statement['predicate'] ?? null, null, 2);
  return (
    <>
      <dl>
        <dt>Predicate type</dt>
        <dd>
          <code>{String(statement['predicateType'])}</code>
        </dd>
        <dt>Signature</dt>
        <dd>
          <Signature verification={verification} summary={summary} />
        </dd>
        <dt>Claimed signer key ids</dt>
        <dd>{signatures.map((s) => s.keyid ?? '(none)').join(', ') || '(none)'}</dd>
        {summary !== undefined && (
          <>
            <dt>Stored</dt>
            <dd>{when(summary.createdAt)}</dd>
          </>
        )}
        <dt>Subjects</dt>
        <dd>
          <ul>
            {subjects.slice(0, 50).map((s, i) => {
              const d = digestText(s.digest ?? {});
              return (
                <li key={i}>
                  {s.name ?? '(unnamed)'} <Link to={`/artifacts/${d}`}>{short(d)}</Link>
                </li>
              );
            })}
          </ul>
        </dd>
      </dl>
      <details open>
        <summary>Predicate</summary>
        <pre className="predicate">{predicate.length > MAX_SHOWN ? `${predicate.slice(0, MAX_SHOWN)}\n… (${predicate.length} characters)` : predicate}</pre>
      </details>
    </>
  );
}

export function AttestationDetails({ id, summary }: { id: string; summary?: Summary | undefined }): ReactNode {
  const { data, error, loading } = useLoad(`att:${id}`, () => getText(q(`/v1/attestations/${id}`)));
  const decoded = data === undefined ? undefined : decodeStatement(data.text);
  const verification = summary?.verification.status ?? data?.headers.get('custody-verification') ?? undefined;
  return (
    <div className="attestation" data-testid="attestation">
      <h3>Attestation {summary?.step ?? ''}</h3>
      <p>
        <Digest value={id} />
      </p>
      <Status loading={loading && data === undefined} error={error} what="the attestation" />
      {data !== undefined && decoded === undefined && <p className="error">The stored document does not decode as a DSSE envelope of an in-toto statement.</p>}
      {decoded !== undefined && <StatementFields statement={decoded.statement} signatures={decoded.signatures} verification={verification} summary={summary} />}
    </div>
  );
}

export function AttestationView({ id }: { id: string }): ReactNode {
  return (
    <section>
      <h2>Attestation</h2>
      <AttestationDetails id={id} />
    </section>
  );
}
