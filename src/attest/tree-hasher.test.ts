import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { InputError, compareCodePoints, type DigestSet } from '../core/index.ts';
import { READ_BUFFER_BYTES } from './hash-protocol.ts';
import { createStatCache } from './stat-cache.ts';
import { recordArtifacts, type RecordProgress } from './tree-hasher.ts';

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const digest = (data: string | Uint8Array): DigestSet => ({ sha256: sha256(data) });

let root: string;

/** A fresh directory with the given files (path → content; a trailing '/' makes an empty directory). */
function tree(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(root, 't-'));
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) {
      mkdirSync(join(dir, path), { recursive: true });
      continue;
    }
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'custody-tree-hasher-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('recordArtifacts', () => {
  describe('when recording a plain tree', () => {
    it('maps every regular file to its sha256, keys relative to the base path', async () => {
      const base = tree({ 'a.txt': 'alpha', 'sub/b.txt': 'beta', 'sub/deeper/c': '', 'empty-dir/': '' });
      const result = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(result, { 'a.txt': digest('alpha'), 'sub/b.txt': digest('beta'), 'sub/deeper/c': digest('') });
    });

    it('records given files and directories with normalized paths', async () => {
      const base = tree({ 'a.txt': 'alpha', 'sub/b.txt': 'beta', 'other/c': 'gamma' });
      const result = await recordArtifacts(['./a.txt', 'sub//', 'sub/./b.txt'], { basePath: base });
      assert.deepEqual(result, { 'a.txt': digest('alpha'), 'sub/b.txt': digest('beta') });
    });

    it('skips given paths that do not exist, as in-toto does', async () => {
      const base = tree({ 'a.txt': 'alpha' });
      assert.deepEqual(await recordArtifacts(['missing', 'a.txt'], { basePath: base }), { 'a.txt': digest('alpha') });
      assert.deepEqual(await recordArtifacts([], { basePath: base }), {});
    });

    it('returns keys in code point order, whatever the names', async () => {
      const names = ['a', 'a.txt', 'a-b', 'b/c', 'a0', 'Z', '\u{1F600}', '\uFFFD-x', '\uFFFF', 'é', 'dir.x/y', 'dir/z', 'dir-/q'];
      const base = tree(Object.fromEntries(names.map((n) => [n, n])));
      const keys = Object.keys(await recordArtifacts(['.'], { basePath: base }));
      assert.deepEqual(keys, [...keys].sort(compareCodePoints));
      assert.equal(keys.length, names.length);
    });

    it('gives the same result every time', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 300; i++) files[`d${i % 7}/s${i % 3}/f${i}.js`] = `content ${i}`;
      const base = tree(files);
      const first = await recordArtifacts(['.'], { basePath: base });
      const second = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(second, first);
      assert.deepEqual(Object.keys(second), Object.keys(first));
      assert.equal(Object.keys(first).length, 300);
    });

    it('records a file named __proto__ as an own key', async () => {
      const base = tree(Object.fromEntries([['__proto__', 'x'], ['constructor', 'y']]));
      const result = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(Object.keys(result), ['__proto__', 'constructor']);
      assert.equal(Object.getPrototypeOf(result), Object.prototype);
      assert.deepEqual(Object.getOwnPropertyDescriptor(result, '__proto__')?.value, digest('x'));
    });

    it('hashes files larger than the read buffer correctly', async () => {
      const big = randomBytes(READ_BUFFER_BYTES * 3 + 12345);
      const exact = randomBytes(READ_BUFFER_BYTES);
      const base = tree({ big, exact, small: 'x' });
      const result = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(result, { big: digest(big), exact: digest(exact), small: digest('x') });
    });

    it('computes every requested algorithm', async () => {
      const base = tree({ f: 'data', big: randomBytes(READ_BUFFER_BYTES + 1) });
      const result = await recordArtifacts(['f'], { basePath: base, algorithms: ['sha256', 'sha512', 'sha384'] });
      assert.deepEqual(result, {
        f: {
          sha256: sha256('data'),
          sha512: createHash('sha512').update('data').digest('hex'),
          sha384: createHash('sha384').update('data').digest('hex'),
        },
      });
    });

    it('skips FIFOs, as in-toto does (not a regular file)', async (t) => {
      const base = tree({ f: 'data' });
      try {
        execFileSync('mkfifo', [join(base, 'pipe')]);
      } catch {
        t.skip('mkfifo not available');
        return;
      }
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base }), { f: digest('data') });
    });
  });

  describe('when excluding', () => {
    it("applies in-toto's defaults: *.link*, .git, *.pyc, *~", async () => {
      const base = tree({
        'keep.txt': 'k',
        'step.abcd1234.link': 'l',
        'x.link-unfinished': 'u',
        '.git/HEAD': 'h',
        'sub/.git/config': 'c',
        'mod.pyc': 'p',
        'notes.txt~': 'n',
        'sub/keep.py': 'k2',
      });
      const expected = { 'keep.txt': digest('k'), 'sub/keep.py': digest('k2') };
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base }), expected);
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, excludes: [] }), expected);
    });

    it('replaces the defaults with given patterns', async () => {
      const base = tree({ 'a.link': 'l', 'b.log': 'g', 'dir/c.log': 'c', 'dir/d.txt': 'd', 'build/out': 'o' });
      const result = await recordArtifacts(['.'], { basePath: base, excludes: ['*.log', 'build'] });
      assert.deepEqual(result, { 'a.link': digest('l'), 'dir/d.txt': digest('d') });
    });

    it('does not enter an excluded directory, even for a negated file pattern', async () => {
      const base = tree({ 'dir/a.txt': 'a', 'dir/b.txt': 'b', 'c.txt': 'c' });
      const result = await recordArtifacts(['.'], { basePath: base, excludes: ['dir', '!dir/a.txt'] });
      assert.deepEqual(result, { 'c.txt': digest('c') });
    });

    it('re-includes files with a negated pattern', async () => {
      const base = tree({ 'a.log': 'a', 'keep.log': 'k', 'x.txt': 'x' });
      const result = await recordArtifacts(['.'], { basePath: base, excludes: ['*.log', '!keep.log'] });
      assert.deepEqual(result, { 'keep.log': digest('k'), 'x.txt': digest('x') });
    });

    it("matches anchored patterns against the path from the base ('/x', 'a/b')", async () => {
      const base = tree({ 'x/f': '1', 'sub/x/f': '2', 'a/b/f': '3', 'z/a/b/f': '4' });
      const result = await recordArtifacts(['.'], { basePath: base, excludes: ['/x', 'a/b'] });
      assert.deepEqual(result, { 'sub/x/f': digest('2'), 'z/a/b/f': digest('4') });
    });

    it("applies patterns to the given paths too: '.*' excludes '.' itself (in-toto quirk)", async () => {
      const base = tree({ '.hidden': 'h', 'seen': 's' });
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, excludes: ['.*'] }), {});
      assert.deepEqual(await recordArtifacts(['seen', '.hidden'], { basePath: base, excludes: ['.*'] }), { seen: digest('s') });
    });

    it('refuses an invalid pattern', async () => {
      await rejectsWith(recordArtifacts(['.'], { basePath: root, excludes: ['bad\\'] }), 'PATTERN_INVALID');
    });
  });

  describe('when normalizing line endings', () => {
    it('hashes CRLF and CR text as LF', async () => {
      const base = tree({ crlf: 'a\r\nb\r\n', cr: 'a\rb\r', mixed: 'a\r\r\nb\n\r', lf: 'a\nb\n' });
      const result = await recordArtifacts(['.'], { basePath: base, normalizeLineEndings: true });
      assert.deepEqual(result, {
        cr: digest('a\nb\n'),
        crlf: digest('a\nb\n'),
        lf: digest('a\nb\n'),
        mixed: digest('a\n\nb\n\n'),
      });
    });

    it('handles a CRLF split across read buffers', async () => {
      const body = Buffer.alloc(READ_BUFFER_BYTES * 2 + 2, 'x');
      body[READ_BUFFER_BYTES - 1] = 0x0d; // "\r" at the end of the first buffer, "\n" starts the second
      body[READ_BUFFER_BYTES] = 0x0a;
      body[body.length - 1] = 0x0d; // a final "\r"
      const base = tree({ f: body });
      const expected = Buffer.from(body.toString('latin1').replace(/\r\n/g, '\n').replace(/\r/g, '\n'), 'latin1');
      assert.deepEqual(await recordArtifacts(['f'], { basePath: base, normalizeLineEndings: true }), { f: digest(expected) });
      assert.deepEqual(await recordArtifacts(['f'], { basePath: base }), { f: digest(body) });
    });
  });

  describe('when given bad paths', () => {
    for (const bad of ['..', '../x', 'a/../b', '/etc/passwd', 'a\\b', 'nul\0byte']) {
      it(`refuses ${JSON.stringify(bad)} (PATH_INVALID)`, async () => {
        await rejectsWith(recordArtifacts([bad], { basePath: root }), 'PATH_INVALID');
      });
    }

    it('refuses a missing base path and a base path that is a file', async () => {
      await rejectsWith(recordArtifacts(['.'], { basePath: join(root, 'nope') }), 'PATH_INVALID');
      const base = tree({ f: 'x' });
      await rejectsWith(recordArtifacts(['.'], { basePath: join(base, 'f') }), 'PATH_INVALID');
    });

    it('refuses a file name with a backslash (in-toto would record it as a/b)', async () => {
      const base = tree({ 'a\\b': 'x' });
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'PATH_INVALID');
      // ... unless it is excluded.
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, excludes: ['a?b'] }), {});
    });

    it('refuses a file name that is not UTF-8, but keeps a real U+FFFD', async () => {
      const base = tree({ 'ok-\uFFFD': 'fine' });
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base }), { 'ok-\uFFFD': digest('fine') });
      writeFileSync(Buffer.concat([Buffer.from(`${base}/bad-`), Buffer.from([0xff, 0xfe])]), 'x');
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'PATH_INVALID');
    });

    it('refuses unsupported algorithms', async () => {
      await rejectsWith(recordArtifacts(['.'], { basePath: root, algorithms: [] }), 'INPUT_INVALID');
      await rejectsWith(recordArtifacts(['.'], { basePath: root, algorithms: ['md5' as 'sha256'] }), 'INPUT_INVALID');
    });
  });

  describe('when the tree has symlinks', () => {
    it('records a symlink to a file inside the base path under the link name, with the target content', async () => {
      const base = tree({ 'real.txt': 'target', 'sub/x': 'x' });
      symlinkSync('real.txt', join(base, 'link.txt'));
      symlinkSync('../real.txt', join(base, 'sub/up.txt'));
      const result = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(result, {
        'link.txt': digest('target'),
        'real.txt': digest('target'),
        'sub/up.txt': digest('target'),
        'sub/x': digest('x'),
      });
    });

    it('enters a symlinked directory inside the base path, recording paths under the link name', async () => {
      const base = tree({ 'lib/a.js': 'a', 'lib/deep/b.js': 'b' });
      symlinkSync('lib', join(base, 'alias'));
      const result = await recordArtifacts(['.'], { basePath: base });
      assert.deepEqual(Object.keys(result), ['alias/a.js', 'alias/deep/b.js', 'lib/a.js', 'lib/deep/b.js']);
      assert.deepEqual(result['alias/deep/b.js'], digest('b'));
      const unfollowed = await recordArtifacts(['.'], { basePath: base, followSymlinkDirs: false });
      assert.deepEqual(Object.keys(unfollowed), ['lib/a.js', 'lib/deep/b.js']);
      // A given path that is a symlinked directory is walked either way, as os.walk does.
      assert.deepEqual(Object.keys(await recordArtifacts(['alias'], { basePath: base, followSymlinkDirs: false })), [
        'alias/a.js',
        'alias/deep/b.js',
      ]);
    });

    it('refuses a symlink to a file outside the base path, or skips it when asked', async () => {
      const outside = tree({ secret: 'outside' });
      const base = tree({ 'in.txt': 'in' });
      symlinkSync(join(outside, 'secret'), join(base, 'leak'));
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'PATH_OUTSIDE_BASE');
      await rejectsWith(recordArtifacts(['leak'], { basePath: base }), 'PATH_OUTSIDE_BASE');
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, symlinksOutsideBase: 'skip' }), { 'in.txt': digest('in') });
      // An excluded link is never looked at.
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, excludes: ['leak'] }), { 'in.txt': digest('in') });
    });

    it('refuses a symlinked directory outside the base path, and a given path through it', async () => {
      const outside = tree({ 'etc/passwd': 'root:x' });
      const base = tree({ 'in.txt': 'in' });
      symlinkSync(join(outside, 'etc'), join(base, 'etc'));
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'PATH_OUTSIDE_BASE');
      await rejectsWith(recordArtifacts(['etc/passwd'], { basePath: base }), 'PATH_OUTSIDE_BASE');
      // Not following directory symlinks, the walk never reads it.
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, followSymlinkDirs: false }), { 'in.txt': digest('in') });
    });

    it('accepts a base path that is itself reached through a symlink', async () => {
      const real = tree({ f: 'x' });
      const link = join(root, `link-${Date.now()}`);
      symlinkSync(real, link);
      assert.deepEqual(await recordArtifacts(['.'], { basePath: link }), { f: digest('x') });
    });

    it('skips dangling and self-referencing symlinks, as in-toto does', async () => {
      const base = tree({ f: 'x' });
      symlinkSync('missing', join(base, 'dangling'));
      symlinkSync('self', join(base, 'self'));
      symlinkSync('loop-b', join(base, 'loop-a'));
      symlinkSync('loop-a', join(base, 'loop-b'));
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base }), { f: digest('x') });
    });

    it('detects a directory symlink loop instead of recursing', async () => {
      const base = tree({ 'a/f': 'x' });
      symlinkSync('..', join(base, 'a/up'));
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'SYMLINK_LOOP');
      await rejectsWith(recordArtifacts(['a'], { basePath: base }), 'SYMLINK_LOOP');
    });

    it('detects a loop through two directories', async () => {
      const base = tree({ 'a/f': '1', 'b/g': '2' });
      symlinkSync('../b', join(base, 'a/to-b'));
      symlinkSync('../a', join(base, 'b/to-a'));
      await rejectsWith(recordArtifacts(['.'], { basePath: base }), 'SYMLINK_LOOP');
    });

    it('records a directory reached by two symlinks twice (no loop)', async () => {
      const base = tree({ 'shared/f': 'x' });
      symlinkSync('shared', join(base, 'one'));
      symlinkSync('shared', join(base, 'two'));
      assert.deepEqual(Object.keys(await recordArtifacts(['.'], { basePath: base })), ['one/f', 'shared/f', 'two/f']);
    });
  });

  describe('when left-stripping paths', () => {
    it('cuts the first matching prefix from each key', async () => {
      const base = tree({ 'dist/a.js': 'a', 'dist/sub/b.js': 'b', 'other/c': 'c' });
      const result = await recordArtifacts(['.'], { basePath: base, lstripPaths: ['dist/'] });
      assert.deepEqual(result, { 'a.js': digest('a'), 'other/c': digest('c'), 'sub/b.js': digest('b') });
      assert.deepEqual(Object.keys(result), ['a.js', 'other/c', 'sub/b.js']);
    });

    it('refuses prefixes that overlap, and keys that collide after stripping (PATH_CONFLICT)', async () => {
      const base = tree({ 'dist/a.js': 'a', 'a.js': 'other' });
      await rejectsWith(recordArtifacts(['.'], { basePath: base, lstripPaths: ['dist', 'dist/'] }), 'PATH_CONFLICT');
      await rejectsWith(recordArtifacts(['.'], { basePath: base, lstripPaths: ['dist/'] }), 'PATH_CONFLICT');
    });

    it('records overlapping given paths once without prefixes, and refuses them with prefixes (in-toto PrefixError)', async () => {
      const base = tree({ 'sub/a': 'a', b: 'b' });
      assert.deepEqual(await recordArtifacts(['.', 'sub', 'sub/a'], { basePath: base }), { b: digest('b'), 'sub/a': digest('a') });
      await rejectsWith(recordArtifacts(['.', 'sub'], { basePath: base, lstripPaths: ['x/'] }), 'PATH_CONFLICT');
    });
  });

  describe('when a file cannot be read', () => {
    it('fails with FILE_UNREADABLE naming the path', async (t) => {
      const base = tree({ 'ok.txt': 'fine', 'sub/locked.txt': 'secret' });
      chmodSync(join(base, 'sub/locked.txt'), 0o000);
      if (process.getuid?.() !== 0) {
        await assert.rejects(recordArtifacts(['.'], { basePath: base }), (e: unknown) => {
          assert.ok(e instanceof InputError);
          assert.equal(e.code, 'FILE_UNREADABLE');
          assert.match(e.message, /sub\/locked\.txt/);
          return true;
        });
        return;
      }
      // Root reads any file: run the recording as the unprivileged user 'nobody' instead.
      chmodSync(root, 0o755);
      chmodSync(base, 0o755);
      const module = fileURLToPath(new URL('./tree-hasher.ts', import.meta.url));
      const script = `import { recordArtifacts } from ${JSON.stringify(module)};
        try { await recordArtifacts(['.'], { basePath: ${JSON.stringify(base)} }); console.log('NO ERROR'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
      let out: string;
      try {
        out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: base });
      } catch (e) {
        t.skip(`cannot run as nobody: ${(e as Error).message}`);
        return;
      }
      const reported = JSON.parse(out.trim()) as { code: string; message: string };
      assert.equal(reported.code, 'FILE_UNREADABLE');
      assert.match(reported.message, /sub\/locked\.txt/);
    });
  });

  describe('with a stat cache', () => {
    // racyWindowMs 0 still needs the files' ctime to be before the read starts (ms clock).
    const settle = (): Promise<void> => sleep(20);

    it('does not read unchanged files again and gives the same result', async () => {
      const base = tree({ a: 'one', 'sub/b': 'two', 'sub/c': 'three' });
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      const first = await recordArtifacts(['.'], { basePath: base, cache });
      assert.equal(cache.size, 3);
      assert.equal(cache.hits, 0);
      const second = await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(second, first);
      assert.equal(cache.hits, 3);
      // The result does not share objects with the cache.
      second['a']!['sha256'] = 'changed';
      assert.deepEqual((await recordArtifacts(['a'], { basePath: base, cache }))['a'], digest('one'));
    });

    it('checks every file of a tree spanning many hash segments, in and out of key order', async () => {
      // 3,000 files: several segments (up to 1,024 files each), taken in while workers still hash.
      const files: Record<string, string> = {};
      for (let i = 0; i < 3000; i++) files[`d${i % 37}/f${i}.txt`] = `content ${i}`;
      files['d1-x'] = 'sorts before d1/';
      const base = tree(files);
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      const expected: Record<string, DigestSet> = Object.fromEntries(
        Object.entries(files)
          .map(([k, v]): [string, DigestSet] => [k, digest(v)])
          .sort(([a], [b]) => compareCodePoints(a, b)),
      );
      const first = await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(Object.keys(first), Object.keys(expected));
      assert.deepEqual(first, expected);
      assert.equal(cache.size, 3001);
      writeFileSync(join(base, 'd5/f1411.txt'), 'changed!');
      const second = await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(second, { ...expected, 'd5/f1411.txt': digest('changed!') });
      assert.equal(cache.hits, 3000);
      // Several given paths: the walk's order (d1/..., d1-x, d10/...) is not the key order.
      const some = await recordArtifacts(['d10', 'd1-x', 'd1'], { basePath: base, cache });
      const wanted = Object.keys(expected).filter((k) => /^d(1|10)\/|^d1-x$/.test(k));
      assert.equal(wanted[0], 'd1-x');
      assert.deepEqual(Object.keys(some), wanted);
      for (const k of wanted) assert.deepEqual(some[k], expected[k]);
    });

    it('rereads a file whose content changed, even with size and mtime restored', async () => {
      const base = tree({ a: 'one', b: 'two' });
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      await recordArtifacts(['.'], { basePath: base, cache });
      const before = statSync(join(base, 'a'));
      writeFileSync(join(base, 'a'), 'ONE');
      utimesSync(join(base, 'a'), before.atime, before.mtime); // ctime still moves
      await settle();
      const result = await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(result, { a: digest('ONE'), b: digest('two') });
      assert.equal(cache.hits, 1);
    });

    it('picks up new and removed files', async () => {
      const base = tree({ a: 'one', b: 'two' });
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      await recordArtifacts(['.'], { basePath: base, cache });
      assert.ok(cache.listing(realpathSync(base)) !== undefined, 'the directory listing is cached');
      rmSync(join(base, 'b'));
      writeFileSync(join(base, 'c'), 'three');
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, cache }), { a: digest('one'), c: digest('three') });
      // A file turned into a directory, and a symlink turned into a file.
      rmSync(join(base, 'a'));
      mkdirSync(join(base, 'a'));
      writeFileSync(join(base, 'a/inner'), 'inner');
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, cache }), { 'a/inner': digest('inner'), c: digest('three') });
    });

    it('reuses a directory walk only for the same recorded path and exclude patterns', async () => {
      const base = tree({ 'shared/a.log': 'log', 'shared/b.txt': 'txt' });
      symlinkSync('shared', join(base, 'one'));
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      const first = await recordArtifacts(['.'], { basePath: base, cache, excludes: ['*.log'] });
      assert.deepEqual(Object.keys(first), ['one/b.txt', 'shared/b.txt']);
      const second = await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(Object.keys(second), ['one/a.log', 'one/b.txt', 'shared/a.log', 'shared/b.txt']);
      const third = await recordArtifacts(['one'], { basePath: base, cache, excludes: ['*.log'] });
      assert.deepEqual(third, { 'one/b.txt': digest('txt') });
      assert.equal(cache.hits, 3); // b.txt twice in the second recording, once in the third
    });

    it('does not cache a file changed within the racy window', async () => {
      const base = tree({ a: 'fresh' });
      await settle();
      const cache = createStatCache({ racyWindowMs: 60_000 });
      await recordArtifacts(['.'], { basePath: base, cache });
      assert.equal(cache.size, 0);
      await recordArtifacts(['.'], { basePath: base, cache });
      assert.equal(cache.hits, 0);
    });

    it('keeps entries apart by hashing options', async () => {
      const base = tree({ a: 'x\r\n' });
      await settle();
      const cache = createStatCache({ racyWindowMs: 0 });
      await recordArtifacts(['.'], { basePath: base, cache });
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base, cache, normalizeLineEndings: true }), { a: digest('x\n') });
      const both = await recordArtifacts(['.'], { basePath: base, cache, algorithms: ['sha256', 'sha512'] });
      assert.deepEqual(Object.keys(both['a']!), ['sha256', 'sha512']);
      assert.equal(cache.hits, 0);
    });

    it('serves a symlinked file from the entry of its target', async () => {
      const base = tree({ target: 'data' });
      await settle();
      symlinkSync('target', join(base, 'link'));
      const cache = createStatCache({ racyWindowMs: 0 });
      await recordArtifacts(['target'], { basePath: base, cache });
      assert.deepEqual(await recordArtifacts(['link'], { basePath: base, cache }), { link: digest('data') });
      assert.equal(cache.hits, 1);
    });
  });

  describe('progress and cancellation', () => {
    it('reports progress, ending with every file done', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 50; i++) files[`f${i}`] = 'x'.repeat(i);
      const base = tree(files);
      const seen: RecordProgress[] = [];
      await recordArtifacts(['.'], { basePath: base, onProgress: (p) => seen.push(p) });
      const last = seen.at(-1)!;
      assert.deepEqual(last, { filesFound: 50, filesDone: 50, bytesDone: (49 * 50) / 2, walking: false });
    });

    it('stops when aborted', async () => {
      const base = tree({ a: 'x' });
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(recordArtifacts(['.'], { basePath: base, signal: controller.signal }), { name: 'AbortError' });
      // The pool is still usable afterwards.
      assert.deepEqual(await recordArtifacts(['.'], { basePath: base }), { a: digest('x') });
    });

    it('runs concurrent recordings one after another with correct results', async () => {
      const one = tree({ a: '1' });
      const two = tree({ b: '2' });
      const [r1, r2] = await Promise.all([recordArtifacts(['.'], { basePath: one }), recordArtifacts(['.'], { basePath: two })]);
      assert.deepEqual(r1, { a: digest('1') });
      assert.deepEqual(r2, { b: digest('2') });
    });
  });
});
