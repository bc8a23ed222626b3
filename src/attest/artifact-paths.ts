// Artifact path rules: how a path given for recording is checked and normalized, how in-toto's
// --lstrip-paths turn a path into a recorded key, and the order keys are written in.
import { InputError } from '../core/index.ts';

/**
 * Checks a path given to record (a material or product) and normalizes it as in-toto does
 * (`os.path.normpath`): '.' and empty segments go, '' is '.'. Beyond in-toto, a path that could
 * leave the base path is refused, so no recorded key can name something outside it:
 * @throws InputError PATH_INVALID for an absolute path, a `..` segment, a NUL byte, or a
 *   backslash (in-toto turns `\` into `/` in keys, so `a\b` would be recorded as `a/b`).
 */
export function normalizeArtifactPath(path: string): string {
  if (path.startsWith('/')) throw new InputError('PATH_INVALID', `artifact path must be relative: ${JSON.stringify(path)}`);
  if (path.includes('\0')) throw new InputError('PATH_INVALID', `artifact path contains a NUL byte: ${JSON.stringify(path)}`);
  if (path.includes('\\')) {
    throw new InputError('PATH_INVALID', `artifact path contains a backslash: ${JSON.stringify(path)}`);
  }
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '..') {
      throw new InputError('PATH_INVALID', `artifact path must not contain '..': ${JSON.stringify(path)}`);
    }
    if (segment !== '' && segment !== '.') kept.push(segment);
  }
  return kept.length === 0 ? '.' : kept.join('/');
}

/** The path of `name` inside the directory recorded as `dir` (`os.path.normpath(join(dir, name))`). */
export function childPath(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

/**
 * Checks in-toto's --lstrip-paths prefixes: none may be a left substring of another
 * (runlib.record_artifacts_as_dict raises PrefixError).
 * @throws InputError PATH_CONFLICT
 */
export function checkLstripPrefixes(prefixes: readonly string[]): void {
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const a = prefixes[i]!;
      const b = prefixes[j]!;
      if (a.startsWith(b) || b.startsWith(a)) {
        throw new InputError('PATH_CONFLICT', `lstrip prefixes ${JSON.stringify(a)} and ${JSON.stringify(b)} overlap`);
      }
    }
  }
}

/**
 * in-toto `_apply_left_strip`: the first prefix the path starts with is cut off, as a plain string
 * prefix (so 'dir' turns 'dir/a' into '/a': give prefixes with a trailing '/').
 */
export function leftStrip(path: string, prefixes: readonly string[]): string {
  for (const prefix of prefixes) {
    if (path.startsWith(prefix)) return path.slice(prefix.length);
  }
  return path;
}

