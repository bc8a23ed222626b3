// recordArtifacts against the in-toto reference implementation (Debian in-toto 1.3.1): the
// materials and products in-toto-run records for varied trees must be exactly ours. Options the
// CLI does not expose (normalize_line_endings, follow_symlink_dirs=False) are checked against
// runlib.record_artifacts_as_dict through the Python API, and the exclude-pattern matcher against
// pathspec itself with random patterns.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileExcludePatterns, createStatCache, recordArtifacts, type RecordOptions } from '../../src/attest/index.ts';
import { haveComponents } from '../support/components.ts';

const PYTHON = '/usr/bin/python3';

let work: string;
let key: string;

/** Environment for the reference tools: no user settings (rc files, IN_TOTO_* variables). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IN_TOTO_')) env[k] = v;
  env['HOME'] = work;
  return env;
}

function write(base: string, path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(join(base, path)), { recursive: true });
  writeFileSync(join(base, path), content);
}

/** A tree with most of what in-toto has to deal with. */
function variedTree(): string {
  const base = mkdtempSync(join(work, 'tree-'));
  const files: Record<string, string | Uint8Array> = {
    'README.md': '# readme\n',
    'empty': '',
    'crlf.txt': 'one\r\ntwo\r\n',
    'cr.txt': 'one\rtwo\r',
    'mixed.txt': 'a\r\r\nb\n\rc',
    'keep.txt': 'kept',
    'notes.txt~': 'backup',
    'mod.pyc': 'bytecode',
    'step.1234abcd.link': '{}',
    '.git/HEAD': 'ref: refs/heads/main\n',
    '.hidden': 'dot',
    'nested/a.js': 'a',
    'nested/deep/b.js': 'b',
    'nested/deep/deeper/c.json': '{"c": 1}',
    'nested/sub.git/x': 'not a .git dir',
    'nested/.git/config': 'ignored',
    'with space/and #hash!.txt': 'spaces',
    'brackets/[x].txt': 'brackets',
    'unicode/café.txt': 'accent',
    'unicode/日本語.txt': 'cjk',
    'unicode/\u{1F600}.txt': 'emoji',
    'unicode/\uFFFF.txt': 'last bmp',
    '123': 'numeric name',
    ['__proto__']: 'proto', // computed: a plain '__proto__' key would set the prototype
    'big.bin': randomBytes(1_300_000),
    'a.txt': 'sorts before a/',
    'a/inside': 'inside a',
    'a-b': 'dash',
  };
  for (const [path, content] of Object.entries(files)) write(base, path, content);
  mkdirSync(join(base, 'empty-dir'));
  symlinkSync('keep.txt', join(base, 'link-to-keep.txt'));
  symlinkSync('../README.md', join(base, 'nested/readme-link'));
  symlinkSync('nested/deep', join(base, 'deep-link'));
  symlinkSync('does-not-exist', join(base, 'dangling'));
  return base;
}

function linkOf(outDir: string): { materials: unknown; products: unknown } {
  const [file] = readdirSync(outDir).filter((f) => f.endsWith('.link'));
  assert.ok(file !== undefined, 'in-toto-run wrote no link');
  const link = JSON.parse(readFileSync(join(outDir, file), 'utf8')) as { signed: { materials: unknown; products: unknown } };
  return link.signed;
}

/** Runs in-toto-run -x in `base` with extra arguments and returns the signed link's artifacts. */
function inTotoRun(base: string, args: string[]): { materials: unknown; products: unknown } {
  const outDir = mkdtempSync(join(work, 'out-'));
  execFileSync('in-toto-run', ['-n', 'step', '-k', key, '-t', 'ed25519', '-x', '-d', outDir, ...args], {
    cwd: base,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return linkOf(outDir);
}

/** runlib.record_artifacts_as_dict through the Python API. */
function pythonRecord(base: string, artifacts: string[], kwargs: Record<string, unknown>): unknown {
  const script = [
    'import json, sys',
    'from in_toto.runlib import record_artifacts_as_dict',
    'args = json.loads(sys.argv[1])',
    'print(json.dumps(record_artifacts_as_dict(args["artifacts"], **args["kwargs"])))',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', script, JSON.stringify({ artifacts, kwargs: { base_path: base, ...kwargs } })], {
    env: cleanEnv(),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out);
}

async function ours(base: string, paths: string[], options: RecordOptions = {}): Promise<unknown> {
  // Through JSON, as a link carries it: same shape as the reference's parsed link.
  return JSON.parse(JSON.stringify(await recordArtifacts(paths, { basePath: base, ...options })));
}

function available(t: TestContext): boolean {
  return haveComponents(t, 'in-toto-run', 'in-toto-keygen', PYTHON);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'custody-record-interop-'));
  key = join(work, 'key');
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('recordArtifacts against in-toto-run 1.3.1', () => {
  let base: string;
  before(() => {
    base = variedTree();
  });

  const keyReady = (t: TestContext): boolean => {
    if (!available(t)) return false;
    if (readdirSync(work).includes('key')) return true;
    execFileSync('in-toto-keygen', ['-t', 'ed25519', key], { env: cleanEnv(), stdio: 'ignore' });
    return true;
  };

  it('records the same materials for -m . (default excludes, symlinks, unicode, CRLF, empty files)', async (t) => {
    if (!keyReady(t)) return;
    const reference = inTotoRun(base, ['-m', '.']);
    const mine = await ours(base, ['.']);
    assert.deepEqual(mine, reference.materials);
    // The tree really exercised the interesting cases.
    const keys = Object.keys(mine as object);
    for (const k of ['deep-link/b.js', 'link-to-keep.txt', 'nested/readme-link', 'unicode/\u{1F600}.txt', '__proto__', 'big.bin']) {
      assert.ok(keys.includes(k), `expected ${k} to be recorded`);
    }
    for (const k of ['mod.pyc', 'notes.txt~', 'step.1234abcd.link', '.git/HEAD', 'nested/.git/config', 'dangling']) {
      assert.ok(!keys.includes(k), `expected ${k} to be excluded`);
    }
  });

  it('records the same materials and products for -m . -p . (with a stat cache between them)', async (t) => {
    if (!keyReady(t)) return;
    const reference = inTotoRun(base, ['-m', '.', '-p', '.']);
    const cache = createStatCache();
    assert.deepEqual(await ours(base, ['.'], { cache }), reference.materials);
    assert.deepEqual(await ours(base, ['.'], { cache }), reference.products);
  });

  it('records the same for several given paths', async (t) => {
    if (!keyReady(t)) return;
    const paths = ['nested', 'keep.txt', 'unicode/café.txt', 'deep-link', 'missing', 'a'];
    const reference = inTotoRun(base, ['-m', ...paths]);
    assert.deepEqual(await ours(base, paths), reference.materials);
  });

  for (const excludes of [
    ['*.txt'],
    ['nested/deep', '!keep.txt'],
    ['*.js', '!nested/a.js'],
    ['unicode/', '\\#*', 'brackets/[[]x].txt'],
    ['/a', '**/deeper', 'deep-link/*'],
    ['.*'],
    ['*.md', 'with space'],
  ]) {
    it(`records the same with --exclude ${excludes.join(' ')}`, async (t) => {
      if (!keyReady(t)) return;
      const reference = inTotoRun(base, ['--exclude', ...excludes, '-m', '.']);
      assert.deepEqual(await ours(base, ['.'], { excludes }), reference.materials);
    });
  }

  for (const [paths, prefixes] of [
    [['nested'], ['nested/']],
    [['.'], ['nested/deep/', 'unicode/']],
    [['nested/deep'], ['nested']],
  ] as const) {
    it(`records the same with -m ${paths.join(' ')} --lstrip-paths ${prefixes.join(' ')}`, async (t) => {
      if (!keyReady(t)) return;
      const reference = inTotoRun(base, ['--lstrip-paths', ...prefixes, '-m', ...paths]);
      assert.deepEqual(await ours(base, [...paths], { lstripPaths: prefixes }), reference.materials);
    });
  }

  it('fails where in-toto-run fails: keys that collide after left-stripping', async (t) => {
    if (!keyReady(t)) return;
    const collide = mkdtempSync(join(work, 'collide-'));
    write(collide, 'dist/a.js', 'x');
    write(collide, 'a.js', 'y');
    assert.throws(() => inTotoRun(collide, ['--lstrip-paths', 'dist/', '-m', '.']));
    await assert.rejects(recordArtifacts(['.'], { basePath: collide, lstripPaths: ['dist/'] }), { code: 'PATH_CONFLICT' });
  });

  it('records the same as runlib with normalize_line_endings=True', async (t) => {
    if (!available(t)) return;
    const reference = pythonRecord(base, ['.'], { normalize_line_endings: true, follow_symlink_dirs: true });
    const mine = (await ours(base, ['.'], { normalizeLineEndings: true })) as Record<string, unknown>;
    assert.deepEqual(mine, reference);
    // CRLF and CR text then hash like LF text.
    assert.deepEqual(mine['crlf.txt'], mine['cr.txt']);
  });

  it('records the same as runlib with follow_symlink_dirs=False', async (t) => {
    if (!available(t)) return;
    const reference = pythonRecord(base, ['.', 'deep-link'], { follow_symlink_dirs: false });
    assert.deepEqual(await ours(base, ['.', 'deep-link'], { followSymlinkDirs: false }), reference);
  });
});

describe('exclude patterns against pathspec (random patterns and paths)', () => {
  it('matches exactly what pathspec gitwildmatch matches', (t) => {
    if (!available(t)) return;
    const segment = fc.stringMatching(/^[ab.*?!#~[\]\\\- \n]{1,4}$/);
    const pattern = fc.oneof(
      fc.stringMatching(/^[!/]?[ab.*?[\]!\\/\- ]{1,8}$/),
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
    );
    const path = fc.array(fc.stringMatching(/^[ab.*?!#~[\]\\\- ]{1,4}$/), { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    const cases = fc.sample(fc.tuple(fc.array(pattern, { minLength: 1, maxLength: 3 }), path), { numRuns: 4000, seed: 20250101 });
    const script = [
      'import json, sys',
      'from pathspec import PathSpec',
      'out = []',
      'for patterns, path in json.load(sys.stdin):',
      '    try:',
      "        out.append(bool(list(PathSpec.from_lines('gitwildmatch', patterns).match_files([path]))))",
      '    except Exception:',
      "        out.append('error')",
      'print(json.dumps(out))',
    ].join('\n');
    const reference = JSON.parse(
      execFileSync(PYTHON, ['-W', 'ignore', '-c', script], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 16 << 20 }),
    ) as (boolean | 'error')[];
    let compared = 0;
    cases.forEach(([patterns, p], i) => {
      let mine: boolean | 'error';
      try {
        mine = compileExcludePatterns(patterns).path(p);
      } catch {
        mine = 'error';
      }
      assert.equal(mine, reference[i], `patterns ${JSON.stringify(patterns)} on ${JSON.stringify(p)}`);
      compared++;
    });
    assert.equal(compared, 4000);
  });
});
