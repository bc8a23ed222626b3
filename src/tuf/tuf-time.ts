// Time in TUF metadata: the strict `YYYY-MM-DDTHH:MM:SSZ` form every TUF client accepts (TUF spec
// §4.2 "expires"), expiry durations such as `365d`, and reference times given on the command line.
import { InputError } from '../core/index.ts';

/** TUF spec 1.0 §4.2: "expires" is an ISO 8601 date-time in UTC, without fractional seconds. */
export function formatTufTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const STRICT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Parses a strict TUF time; anything else (offsets, fractions, a bare date) is refused. */
export function parseTufTime(text: string, what: string): Date {
  const d = new Date(text);
  if (!STRICT_TIME.test(text) || Number.isNaN(d.getTime())) throw new InputError('REPOSITORY_INVALID', `${what}: '${text}' is not YYYY-MM-DDTHH:MM:SSZ`);
  return d;
}

/** A reference time from the command line: RFC 3339 with a zone (Z or ±hh:mm). */
export function parseReferenceTime(text: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(d.getTime())) {
    throw new InputError('USAGE', `'${text}' is not an RFC 3339 time with a zone (e.g. 2026-01-31T12:00:00Z)`);
  }
  return d;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** `30d`, `12h`, `90m`, `2w` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(text);
  const unit = m?.[2] === undefined ? undefined : UNIT_SECONDS[m[2]];
  if (m === null || unit === undefined || Number(m[1]) === 0) throw new InputError('USAGE', `'${text}' is not a duration such as 365d, 12h or 2w`);
  return Number(m[1]) * unit;
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000 + seconds * 1000);
}
