// Toolchain binaries as SLSA resolvedDependencies: digest of each file (or of each directory's
// tree) and, where the tool says, its version.
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError, canonicalJson, digestBytes, digestFile, type ResourceDescriptor } from '../core/index.ts';
import { recordArtifacts } from '../attest/index.ts';

/** Absolute path of a command as PATH resolves it (PATH given explicitly), or undefined. */
export function resolveCommand(command: string, path: string): string | undefined {
  if (command.includes('/')) return isAbsolute(command) ? command : undefined;
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function toolVersion(file: string): string | undefined {
  try {
    const out = execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n')[0]?.trim().slice(0, 200) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A resource descriptor for a tool: a file is digested as is; a directory as the SHA-256 of the
 * canonical JSON of its path → sha256 map (annotation `treeDigest`), with package.json's version.
 */
export async function describeTool(path: string, options: { probeVersion?: boolean } = {}): Promise<ResourceDescriptor> {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw new InputError('FILE_UNREADABLE', `tool '${path}' does not exist`, { cause: e });
  }
  const rd: ResourceDescriptor = { uri: `file://${path}`, name: path };
  const annotations: Record<string, unknown> = {};
  if (statSync(real).isDirectory()) {
    const tree = await recordArtifacts(['.'], { basePath: real, excludes: ['#'] });
    rd.digest = { sha256: digestBytes(canonicalJson(tree), 'sha256') };
    annotations['treeDigest'] = 'sha256(canonical-json(path -> digests))';
    try {
      const pkg = JSON.parse(readFileSync(join(real, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') annotations['version'] = pkg.version;
    } catch {
      // not a package
    }
  } else {
    rd.digest = await digestFile(real, ['sha256']);
    const version = options.probeVersion === false ? undefined : toolVersion(real);
    if (version !== undefined) annotations['version'] = version;
  }
  if (real !== path) annotations['realpath'] = real;
  if (Object.keys(annotations).length > 0) rd.annotations = annotations;
  return rd;
}
