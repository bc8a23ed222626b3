// The check on large real npm trees: two projects (a React app on react-scripts, and an npm
// workspaces monorepo), each with more than 1,000 installed packages, are installed at test time
// with `npm ci` from committed lockfiles (test/materials/fixtures/npm-projects/). custody's SBOM of
// each installed tree must have the same component purl set as @cyclonedx/cyclonedx-npm's (which
// reads `npm ls`), and be valid CycloneDX 1.6. Needs npm and the npm registry; both installs run
// at once (about 100 s with an empty npm cache on two shared cores, see docs/materials.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, statfsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { haveComponents, requireComponents } from '../support/components.ts';
import { custody } from '../support/cli.ts';
import { validateCycloneDx } from '../../src/sbom/index.ts';

const run = promisify(execFile);
const FIXTURES = new URL('./fixtures/npm-projects/', import.meta.url).pathname;
const CYCLONEDX_NPM = new URL('../../node_modules/@cyclonedx/cyclonedx-npm/bin/cyclonedx-npm-cli.js', import.meta.url).pathname;
const PROJECTS = ['react-app', 'workspaces-monorepo'] as const;
// Errors that mean "no registry here" (a developer's offline machine), not a custody failure.
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/;

function purls(components: unknown, out = new Set<string>()): Set<string> {
  if (!Array.isArray(components)) return out;
  for (const c of components as { purl?: string; components?: unknown }[]) {
    if (typeof c.purl === 'string') out.add(c.purl);
    purls(c.components, out);
  }
  return out;
}

interface LockEntry {
  name?: string;
  version?: string;
  link?: boolean;
}

function lockEntries(dir: string): [string, LockEntry][] {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  return Object.entries(lock.packages).filter(([k, v]) => k.includes('node_modules/') && v.link !== true);
}

/** Installed packages: lockfile entries under node_modules (not workspace links) that are on disk. */
function installedPackages(dir: string): number {
  return lockEntries(dir).filter(([k]) => existsSync(join(dir, k, 'package.json'))).length;
}

/**
 * purls of lockfile entries npm did not install. npm keeps a lockfile entry that only an optional
 * peer dependency reaches (react-app: tailwindcss's nested yaml@2, wanted by postcss-load-config's
 * optional `yaml` peer) but `npm ci` does not install it; custody reports the lockfile,
 * cyclonedx-npm the disk (docs/materials.md, "Extraneous or missing packages").
 */
function lockedNotInstalled(dir: string): string[] {
  return lockEntries(dir)
    .filter(([k]) => !existsSync(join(dir, k, 'package.json')))
    .map(([k, v]) => {
      const name = v.name ?? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
      return `pkg:npm/${name.replace(/^@/, '%40')}@${v.version ?? ''}`;
    })
    .sort();
}

/**
 * Where to install: a memory file system when one with room is there (unpacking and removing
 * ~78,000 files is then CPU-bound, not disk-bound), else the temporary directory.
 */
function installRoot(): string {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize >= 4 * 1024 ** 3) return mkdtempSync('/dev/shm/custody-npm-projects-');
  } catch {
    // no /dev/shm
  }
  return mkdtempSync(join(tmpdir(), 'custody-npm-projects-'));
}

describe('custody sbom vs @cyclonedx/cyclonedx-npm on two large npm projects installed at test time', { timeout: 15 * 60_000 }, () => {
  const work = { path: installRoot() };
  let ready: true | string = 'not installed';
  const theirs = new Map<string, Set<string>>();

  const timings: string[] = [];
  before(async () => {
    for (const p of PROJECTS) cpSync(join(FIXTURES, p), join(work.path, p), { recursive: true });
    const started = performance.now();
    const seconds = (): string => `${((performance.now() - started) / 1000).toFixed(0)} s`;
    try {
      // Both installs at once: they download different tarballs, so together they take about as
      // long as the larger one alone on an idle machine.
      await Promise.all(PROJECTS.map((p) => run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: join(work.path, p), maxBuffer: 64 << 20 })));
      timings.push(`both npm ci: ${seconds()}`);
      await Promise.all(PROJECTS.map(async (p) => {
        const out = join(work.path, `${p}.cyclonedx-npm.json`);
        await run(process.execPath, [CYCLONEDX_NPM, '--output-format', 'JSON', '--spec-version', '1.6', '--output-file', out, '--ignore-npm-errors'], { cwd: join(work.path, p), maxBuffer: 64 << 20 });
        theirs.set(p, purls((JSON.parse(readFileSync(out, 'utf8')) as { components: unknown }).components));
      }));
      timings.push(`then both cyclonedx-npm: ${seconds()}`);
      ready = true;
    } catch (e) {
      const text = `${(e as Error).message}\n${(e as { stderr?: string }).stderr ?? ''}`;
      if (!OFFLINE.test(text) || requireComponents) throw e;
      ready = `the npm registry is not reachable (${OFFLINE.exec(text)![0]})`;
    }
  });

  for (const project of PROJECTS) {
    it(`${project}: ≥1,000 installed packages, the same purl set as cyclonedx-npm, valid CycloneDX 1.6`, async (t) => {
      if (!haveComponents(t, 'npm')) return;
      if (ready !== true) {
        t.skip(ready);
        return;
      }
      t.diagnostic(timings.join(', '));
      const dir = join(work.path, project);
      assert.ok(installedPackages(dir) >= 1000, `${project} has ${installedPackages(dir)} installed packages`);
      const file = join(work.path, `${project}.custody.json`);
      // The CLI validates its output (CycloneDX 1.6 schema + bom-ref checks) before writing it.
      const r = custody(['sbom', dir, '--out', file], { env: { SOURCE_DATE_EPOCH: '0' } });
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(file, 'utf8');
      assert.deepEqual(await validateCycloneDx(text), []);
      const ours = purls((JSON.parse(text) as { components: unknown }).components);
      const peer = theirs.get(project)!;
      assert.ok(peer.size >= 1000, `cyclonedx-npm listed ${peer.size} purls`);
      // docs/materials.md lists how the sets can differ. With `npm ci --ignore-scripts` nothing is
      // installed outside the lockfile, so cyclonedx-npm has nothing custody lacks; custody may
      // have exactly the lockfile entries npm did not install (and that no other location supplies).
      assert.deepEqual([...peer].filter((p) => !ours.has(p)).sort(), [], 'only in cyclonedx-npm');
      const notInstalled = new Set(lockedNotInstalled(dir));
      const onlyOurs = [...ours].filter((p) => !peer.has(p)).sort();
      assert.deepEqual(onlyOurs.filter((p) => !notInstalled.has(p)), [], 'only in custody, and installed');
      if (onlyOurs.length > 0) t.diagnostic(`in the lockfile, not installed by npm ci (only in custody): ${onlyOurs.join(', ')}`);
      if (project === 'workspaces-monorepo') {
        for (const ws of ['api', 'web', 'shared']) assert.ok(ours.has(`pkg:npm/%40mono/${ws}@1.0.0`), `workspace @mono/${ws} is a component`);
      }
    });
  }

  after(async () => {
    await Promise.all(PROJECTS.map((p) => rm(join(work.path, p), { recursive: true, force: true })));
    await rm(work.path, { recursive: true, force: true });
  });
});
