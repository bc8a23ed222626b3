// Policy: the custody policy (docs/policy.md, as JSON) verdicts are shown under. It stays in
// this browser (localStorage) and is sent to POST /v1/artifacts/{digest}/verdict, which evaluates
// it over the stored evidence; the server keeps nothing of it.
import { useState, type ChangeEvent, type FormEvent, type ReactNode } from 'react';
import { getPolicyText, setPolicyText } from '../api.ts';

export function PolicyView(): ReactNode {
  const [text, setText] = useState(getPolicyText() ?? '');
  const [message, setMessage] = useState<string | undefined>();
  const save = (e: FormEvent): void => {
    e.preventDefault();
    if (text.trim() === '') {
      setPolicyText(null);
      setMessage('Policy removed.');
      return;
    }
    try {
      const doc = JSON.parse(text) as { _type?: unknown; name?: unknown };
      if (doc._type !== 'https://custody.dev/policy/v1') throw new Error("'_type' must be https://custody.dev/policy/v1");
      setPolicyText(JSON.stringify(doc));
      setMessage(`Policy ${typeof doc.name === 'string' ? doc.name : ''} loaded.`);
    } catch (err) {
      setMessage(`Not a policy: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const file = (e: ChangeEvent<HTMLInputElement>): void => {
    const f = e.target.files?.[0];
    if (f !== undefined) void f.text().then(setText);
  };
  return (
    <section aria-labelledby="policy-h">
      <h2 id="policy-h">Policy</h2>
      <p>Verdicts are computed by the server from the stored evidence under this policy (a custody policy document as JSON; YAML: convert first).</p>
      <form onSubmit={save}>
        <label htmlFor="policy-file">Policy file</label>
        <input id="policy-file" type="file" accept=".json,application/json" onChange={file} />
        <label htmlFor="policy-text">Policy (JSON)</label>
        <textarea id="policy-text" rows={16} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        <button type="submit">Use this policy</button>
      </form>
      {message !== undefined && <p role="status">{message}</p>}
    </section>
  );
}
