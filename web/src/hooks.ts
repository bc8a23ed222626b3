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

/**
 * Live updates by polling: `makeCheck()` gives the check for one mount (its own "last seen" state);
 * it runs at once and then every 5 s while the tab is visible, until unmount. The check gets
 * `ended()` (skip state updates after unmount) and returns 'stop' to end polling for good.
 */
export function usePolling(enabled: boolean, makeCheck: () => (ended: () => boolean) => Promise<'stop' | undefined>): void {
  useEffect(() => {
    if (!enabled) return undefined;
    const check = makeCheck();
    let stopped = false;
    const ended = (): boolean => stopped;
    const poll = async (): Promise<void> => {
      if ((await check(ended)) === 'stop') stopped = true;
    };
    void poll();
    const timer = setInterval(() => {
      if (!stopped && document.visibilityState === 'visible') void poll();
    }, 5000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // `makeCheck` is a fresh closure each render; polling restarts only when `enabled` changes.
  }, [enabled]);
}
