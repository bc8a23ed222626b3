// Data loading with live refresh: views re-read when the poller sees new evidence.
import { createContext, useContext, useEffect, useState } from 'react';

/** Increments whenever the poller sees something new (attestations, audit entries). */
export const LiveContext = createContext(0);

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

/** Runs `load` when `key` changes or live data arrives; `key` null means "don't load". */
export function useLoad<T>(key: string | null, load: () => Promise<T>): Loaded<T> {
  const live = useContext(LiveContext);
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: key !== null });
  useEffect(() => {
    if (key === null) return undefined;
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => {
        if (!cancelled) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!cancelled) setState({ data: undefined, error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
    return () => {
      cancelled = true;
    };
    // `load` is a fresh closure each render; `key` names what it loads.
  }, [key, live]);
  return state;
}
