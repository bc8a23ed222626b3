// Tests that need a real component (in-toto, PostgreSQL, SoftHSM2, bubblewrap, ...) find it
// here. Missing on a developer's machine → the test skips with a visible notice. In CI
// (.ci/run sets CUSTODY_REQUIRE_COMPONENTS=1) a missing component fails the test instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const requireComponents = process.env['CUSTODY_REQUIRE_COMPONENTS'] === '1';

export function which(command: string): string | undefined {
  if (command.includes('/')) return existsSync(command) ? command : undefined;
  try {
    return execFileSync('sh', ['-c', `command -v "$1"`, 'sh', command], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns true when every named command is available. Otherwise skips the test with a notice,
 * or throws when components are required (CI).
 */
export function haveComponents(t: TestContext, ...commands: string[]): boolean {
  const missing = commands.filter((c) => which(c) === undefined);
  if (missing.length === 0) return true;
  const message = `missing component(s): ${missing.join(', ')} (install them as .ci/run does)`;
  if (requireComponents) throw new Error(`${message}; CUSTODY_REQUIRE_COMPONENTS=1 forbids skipping`);
  t.skip(message);
  return false;
}
