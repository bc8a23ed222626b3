// Our SBOM of this repository against @cyclonedx/cyclonedx-npm's (which reads `npm ls`): the
// component purl sets must be equal (docs/materials.md lists the known reasons they could differ).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveComponents } from '../support/components.ts';
import { readDirectory } from '../../src/sbom/index.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const CYCLONEDX_NPM = new URL('../../node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js', import.meta.url).pathname;

function purls(components: unknown, out = new Set<string>()): Set<string> {
  if (!Array.isArray(components)) return out;
  for (const c of components as { purl?: string; components?: unknown }[]) {
    if (typeof c.purl === 'string') out.add(c.purl);
    purls(c.components, out);
  }
  return out;
}

describe('custody sbom vs @cyclonedx/cyclonedx-npm', () => {
  it('gives the same component purl set for this repository', (t) => {
    if (!haveComponents(t, 'npm')) return;
    const dir = mkdtempSync(join(tmpdir(), 'custody-cdx-npm-'));
    try {
      const out = join(dir, 'theirs.json');
      execFileSync(process.execPath, [CYCLONEDX_NPM, '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', out, '--ignore-npm-errors'], { cwd: REPO, stdio: 'pipe' });
      const theirs = purls((JSON.parse(readFileSync(out, 'utf8')) as { components: unknown }).components);
      const ours = new Set(readDirectory(REPO).inventory.components.map((c) => c.purl));
      assert.ok(theirs.size > 100);
      assert.deepEqual([...ours].filter((p) => !theirs.has(p)).sort(), [], 'only in custody');
      assert.deepEqual([...theirs].filter((p) => !ours.has(p)).sort(), [], 'only in cyclonedx-npm');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});
