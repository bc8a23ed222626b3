// Small shared pieces: links that route inside the app, status lines, digests.
import type { MouseEvent, ReactNode } from 'react';
import { ApiError } from './api.ts';
import { BASE, navigate } from './router.ts';

export function Link({ to, children, current, label }: { to: string; children: ReactNode; current?: boolean; label?: string }): ReactNode {
  const click = (e: MouseEvent<HTMLAnchorElement>): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={`${BASE}${to}`} onClick={click} {...(current === true ? { 'aria-current': 'page' as const } : {})} {...(label === undefined ? {} : { 'aria-label': label })}>
      {children}
    </a>
  );
}

export function Status({ loading, error, what }: { loading: boolean; error: Error | undefined; what: string }): ReactNode {
  if (error !== undefined) {
    const forbidden = error instanceof ApiError && error.status === 403;
    return (
      <p role="alert" className="error">
        {forbidden ? `Your token may not read ${what}: ` : `Could not load ${what}: `}
        {error.message}
        {error instanceof ApiError ? ` [${error.code}]` : ''}
      </p>
    );
  }
  if (loading) return <p className="muted">Loading {what}…</p>;
  return null;
}

export function Digest({ value }: { value: string }): ReactNode {
  return (
    <code className="digest" title={value}>
      {value}
    </code>
  );
}

export function Badge({ ok, children }: { ok: boolean | undefined; children: ReactNode }): ReactNode {
  return <span className={`badge ${ok === undefined ? 'unknown' : ok ? 'ok' : 'bad'}`}>{children}</span>;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
