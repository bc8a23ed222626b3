// A tiny History-API router: every object has a URL under /ui/ (deep links), the server falls
// back to index.html for them (src/server/plugins/web.ts).
import { useEffect, useState } from 'react';

export const BASE = '/ui';

export interface Location {
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  const p = window.location.pathname;
  const path = p.startsWith(BASE) ? p.slice(BASE.length) || '/' : p;
  return { path, search: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  const url = `${BASE}${to}`;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = (): void => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** Path segments after a prefix, decoded: match('/artifacts/', '/artifacts/sha256:ab') → 'sha256:ab'. */
export function rest(path: string, prefix: string): string | undefined {
  return path.startsWith(prefix) && path.length > prefix.length ? decodeURIComponent(path.slice(prefix.length)) : undefined;
}
