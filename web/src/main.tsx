// The custody dashboard: a single-page app over the public HTTP API (docs/dashboard.md).
import { StrictMode, useState, type FormEvent, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, getJson, getNamespace, getToken, q, setNamespace, setToken, type Summary } from './api.ts';
import { AlarmBanner, useAlarms } from './alarms.tsx';
import { LiveContext, usePolling } from './hooks.ts';
import { navigate, useLocation, rest } from './router.ts';
import { Link } from './ui.tsx';
import { ArtifactDetail, ArtifactsView } from './views/artifacts.tsx';
import { AttestationView } from './views/attestation.tsx';
import { AuditView } from './views/audit.tsx';
import { GraphView } from './views/graph.tsx';
import { LogView } from './views/log.tsx';
import { PolicyView } from './views/policy.tsx';
import { RebuildsView } from './views/rebuilds.tsx';
import { RepositoryView } from './views/repository.tsx';
import { VulnerabilitiesView } from './views/vulnerabilities.tsx';
import './styles.css';

const NAV: [string, string][] = [
  ['/artifacts', 'Artifacts'],
  ['/vulnerabilities', 'Vulnerabilities'],
  ['/audit', 'Signing and audit'],
  ['/log', 'Transparency log'],
  ['/repository', 'Repository'],
  ['/rebuilds', 'Rebuilds'],
  ['/policy', 'Policy'],
];

function Login({ onDone }: { onDone: () => void }): ReactNode {
  const [token, setTok] = useState('');
  const [ns, setNs] = useState(getNamespace());
  const [error, setError] = useState<string | undefined>();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setToken(token.trim());
    setNamespace(ns.trim() || 'default');
    getJson(q('/v1/attestations', { limit: 1 })).then(
      () => onDone(),
      (err: unknown) => {
        setToken(null);
        setError(err instanceof ApiError ? `${err.message} [${err.code}]` : String(err));
      },
    );
  };
  return (
    <main className="login">
      <h1>custody dashboard</h1>
      <form onSubmit={submit} aria-label="Log in">
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" value={token} onChange={(e) => setTok(e.target.value)} required placeholder="custody_…" />
        <label htmlFor="namespace">Namespace</label>
        <input id="namespace" name="namespace" value={ns} onChange={(e) => setNs(e.target.value)} />
        <button type="submit">Log in</button>
        {error !== undefined && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      <p className="hint">
        Create a token with <code>custody token create --role reader</code>. It is kept in this tab only (sessionStorage).
      </p>
    </main>
  );
}

/** Polls the newest attestation and audit head; a change bumps LiveContext so views re-read. */
function useLive(enabled: boolean): { tick: number; news: string | undefined } {
  const [tick, setTick] = useState(0);
  const [news, setNews] = useState<string | undefined>();
  usePolling(enabled, () => {
    let last: string | undefined;
    return async (ended) => {
      try {
        const page = await getJson<{ items: Summary[] }>(q('/v1/attestations', { limit: 1 }));
        if (ended()) return undefined;
        const newest = page.items[0];
        const id = newest?.id ?? '';
        if (last !== undefined && id !== last && newest !== undefined) {
          setNews(`New attestation: ${newest.step ?? newest.predicateType} at ${new Date(newest.createdAt).toLocaleTimeString()}`);
          setTick((t) => t + 1);
        }
        last = id;
      } catch {
        // offline for a moment: try again at the next poll
      }
      return undefined;
    };
  });
  return { tick, news };
}

function Route({ path, search }: { path: string; search: URLSearchParams }): ReactNode {
  const artifact = rest(path, '/artifacts/');
  if (artifact !== undefined) return <ArtifactDetail digest={artifact} />;
  const graph = rest(path, '/graph/');
  if (graph !== undefined) return <GraphView digest={graph} depth={Number(search.get('depth') ?? '5')} />;
  const attestation = rest(path, '/attestations/');
  if (attestation !== undefined) return <AttestationView id={attestation} />;
  switch (path) {
    case '/':
    case '/artifacts':
      return <ArtifactsView query={search.get('q') ?? ''} />;
    case '/vulnerabilities':
      return <VulnerabilitiesView name={search.get('name') ?? ''} version={search.get('version') ?? ''} />;
    case '/audit':
      return <AuditView />;
    case '/log':
      return <LogView />;
    case '/repository':
      return <RepositoryView />;
    case '/rebuilds':
      return <RebuildsView />;
    case '/policy':
      return <PolicyView />;
    default:
      return (
        <section>
          <h2>Not found</h2>
          <p>
            No page {path}. <Link to="/artifacts">Artifacts</Link>
          </p>
        </section>
      );
  }
}

function App(): ReactNode {
  const loc = useLocation();
  const [authed, setAuthed] = useState(getToken() !== null);
  const live = useLive(authed);
  const alarms = useAlarms(authed);
  if (!authed) return <Login onDone={() => setAuthed(true)} />;
  const logout = (): void => {
    setToken(null);
    setAuthed(false);
  };
  return (
    <LiveContext.Provider value={live.tick + alarms.tick}>
      <header>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <span className="brand">custody</span>
        <nav aria-label="Views">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} current={loc.path === to || (loc.path.startsWith(to + '/') && to !== '/')}>
              {label}
            </Link>
          ))}
        </nav>
        <span className="ns">namespace: {getNamespace()}</span>
        <button type="button" onClick={logout}>
          Log out
        </button>
      </header>
      <AlarmBanner monitor={alarms.monitor} />
      <p className="live" role="status" aria-live="polite">
        {[live.news, alarms.news].filter((n) => n !== undefined).join(' · ')}
      </p>
      <main id="main" tabIndex={-1}>
        <Route path={loc.path} search={loc.search} />
      </main>
    </LiveContext.Provider>
  );
}

if (window.location.pathname === '/ui' || window.location.pathname === '/ui/') navigate('/artifacts', true);
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
