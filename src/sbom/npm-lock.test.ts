import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { readNpmLock } from './npm-lock.ts';

const sri = (hex: string): string => `sha512-${Buffer.from(hex.repeat(64 / hex.length * 2).slice(0, 128), 'hex').toString('base64')}`;

const v3 = {
  name: 'mono',
  version: '1.0.0',
  lockfileVersion: 3,
  packages: {
    '': { name: 'mono', version: '1.0.0', workspaces: ['packages/*'], dependencies: { a: '^1.0.0' }, devDependencies: { d: '^1.0.0' } },
    'packages/web': { name: '@mono/web', version: '0.1.0', dependencies: { a: '^2.0.0', '@mono/lib': '*' } },
    'packages/lib': { name: '@mono/lib', version: '0.2.0', license: 'MIT' },
    'node_modules/@mono/web': { resolved: 'packages/web', link: true },
    'node_modules/@mono/lib': { resolved: 'packages/lib', link: true },
    'node_modules/a': { version: '1.2.0', resolved: 'https://registry.npmjs.org/a/-/a-1.2.0.tgz', integrity: sri('ab'), license: 'ISC', dependencies: { b: '^1' } },
    'node_modules/b': { version: '1.0.0', resolved: 'https://registry.npmjs.org/b/-/b-1.0.0.tgz', integrity: sri('cd'), license: '(MIT OR Apache-2.0)' },
    'packages/web/node_modules/a': { version: '2.0.0', resolved: 'https://registry.npmjs.org/a/-/a-2.0.0.tgz', integrity: sri('ef'), dependencies: { b: '^1' } },
    'node_modules/d': { version: '3.0.0', dev: true, resolved: 'https://registry.npmjs.org/d/-/d-3.0.0.tgz', integrity: sri('01'), optionalDependencies: { 'fsevents-like': '*' } },
    'node_modules/fsevents-like': { version: '1.0.0', dev: true, optional: true, resolved: 'https://registry.npmjs.org/fsevents-like/-/f.tgz', integrity: sri('02') },
    'node_modules/aliased': { name: '@real/pkg', version: '4.0.0', resolved: 'https://registry.npmjs.org/@real/pkg/-/pkg-4.0.0.tgz', integrity: sri('03') },
    'node_modules/gitdep': { version: '0.0.1', resolved: 'git+ssh://git@github.com/x/gitdep.git#0123456789abcdef0123456789abcdef01234567' },
    'node_modules/noint': { version: '1.0.0', resolved: 'https://npm.example.com/noint/-/noint-1.0.0.tgz' },
  },
};

describe('readNpmLock', () => {
  describe('when reading lockfileVersion 3 with workspaces', () => {
    const inv = readNpmLock(JSON.stringify(v3), 'package-lock.json');
    const byPurl = new Map(inv.components.map((c) => [c.purl, c]));

    it('makes one component per distinct package, with workspaces and nested copies', () => {
      assert.deepEqual([...byPurl.keys()].sort(), [
        'pkg:npm/%40mono/lib@0.2.0',
        'pkg:npm/%40mono/web@0.1.0',
        'pkg:npm/%40real/pkg@4.0.0',
        'pkg:npm/a@1.2.0',
        'pkg:npm/a@2.0.0',
        'pkg:npm/b@1.0.0',
        'pkg:npm/d@3.0.0',
        'pkg:npm/fsevents-like@1.0.0',
        'pkg:npm/gitdep@0.0.1?vcs_url=git%2Bssh%3A%2F%2Fgit%40github.com%2Fx%2Fgitdep.git%230123456789abcdef0123456789abcdef01234567',
        'pkg:npm/noint@1.0.0?download_url=https%3A%2F%2Fnpm.example.com%2Fnoint%2F-%2Fnoint-1.0.0.tgz',
      ]);
    });

    it('resolves edges the way Node resolves modules (nearest node_modules first)', () => {
      assert.deepEqual(byPurl.get('pkg:npm/%40mono/web@0.1.0')!.dependencies, ['pkg:npm/%40mono/lib@0.2.0', 'pkg:npm/a@2.0.0']);
      assert.deepEqual(byPurl.get('pkg:npm/a@2.0.0')!.dependencies, ['pkg:npm/b@1.0.0']);
      assert.deepEqual([...inv.rootDependencies].sort(), ['pkg:npm/%40mono/lib@0.2.0', 'pkg:npm/%40mono/web@0.1.0', 'pkg:npm/a@1.2.0', 'pkg:npm/d@3.0.0']);
    });

    it('takes hashes from integrity, licenses and scopes from the entries', () => {
      const a = byPurl.get('pkg:npm/a@1.2.0')!;
      assert.equal(a.hashes['SHA-512'], 'ab'.repeat(64));
      assert.equal(a.license, 'ISC');
      assert.equal(a.scope, 'required');
      assert.equal(byPurl.get('pkg:npm/d@3.0.0')!.scope, 'dev');
      assert.equal(byPurl.get('pkg:npm/%40mono/lib@0.2.0')!.license, 'MIT');
    });

    it('flags registry entries without integrity but not pinned git dependencies', () => {
      const flagged = inv.components.filter((c) => c.missingIntegrity === true).map((c) => c.name);
      assert.deepEqual(flagged, ['noint']);
    });

    it('leaves out optional packages that are not installed when the tree is installed', () => {
      const installed = readNpmLock(JSON.stringify(v3), 'package-lock.json', { installed: (loc) => loc !== 'node_modules/fsevents-like' });
      assert.equal(installed.components.some((c) => c.name === 'fsevents-like'), false);
    });
  });

  describe('when reading lockfileVersion 1', () => {
    const v1 = {
      name: 'old',
      version: '1.0.0',
      lockfileVersion: 1,
      dependencies: {
        a: { version: '1.0.0', integrity: sri('aa'), requires: { b: '^2' }, dependencies: { b: { version: '2.0.0', integrity: sri('bb') } } },
        b: { version: '1.0.0', integrity: sri('cc'), dev: true },
        al: { version: 'npm:@s/real@3.0.0', integrity: sri('dd') },
      },
    };
    const inv = readNpmLock(JSON.stringify(v1), 'package-lock.json');

    it('walks the nested tree and resolves requires to the nested copy', () => {
      const a = inv.components.find((c) => c.purl === 'pkg:npm/a@1.0.0')!;
      assert.deepEqual(a.dependencies, ['pkg:npm/b@2.0.0']);
      assert.equal(inv.components.find((c) => c.purl === 'pkg:npm/b@1.0.0')!.scope, 'dev');
    });

    it('reads aliases as the real package', () => {
      assert.ok(inv.components.some((c) => c.purl === 'pkg:npm/%40s/real@3.0.0'));
    });
  });

  describe('when the input is bad', () => {
    it('rejects an unknown lockfileVersion', () => {
      assert.throws(() => readNpmLock('{"lockfileVersion": 7, "packages": {}}', 'package-lock.json'), (e: unknown) => e instanceof InputError && e.code === 'LOCKFILE_UNSUPPORTED');
    });
    it('rejects corrupt JSON', () => {
      assert.throws(() => readNpmLock('{"lockfileVersion": 3, "packages": {', 'package-lock.json'), (e: unknown) => e instanceof InputError && e.code === 'LOCKFILE_INVALID');
    });
    it('rejects a v3 lockfile whose packages are not objects', () => {
      assert.throws(() => readNpmLock('{"lockfileVersion": 3, "packages": {"node_modules/a": 1}}', 'package-lock.json'), (e: unknown) => e instanceof InputError && e.code === 'LOCKFILE_INVALID');
    });
    it('never fails with anything but an InputError on arbitrary JSON', () => {
      fc.assert(
        fc.property(fc.oneof(fc.json(), fc.record({ lockfileVersion: fc.constantFrom(1, 2, 3), packages: fc.dictionary(fc.string(), fc.jsonValue()), dependencies: fc.dictionary(fc.string(), fc.jsonValue()) }).map((v) => JSON.stringify(v))), (text) => {
          try {
            readNpmLock(text, 'package-lock.json');
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

describe('readNpmLock with an installed tree', () => {
  it('takes licenses the lockfile lacks from the installed package.json files', () => {
    const lock = { name: 'p', version: '1.0.0', lockfileVersion: 3, packages: { '': { name: 'p', version: '1.0.0', dependencies: { a: '*', b: '*' } }, 'node_modules/a': { version: '1.0.0', integrity: sri('ab') }, 'node_modules/b': { version: '1.0.0', integrity: sri('cd') } } };
    const manifests: Record<string, Record<string, unknown>> = { 'node_modules/a': { license: 'BSD-2-Clause' }, 'node_modules/b': { licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] } };
    const inv = readNpmLock(JSON.stringify(lock), 'package-lock.json', { manifest: (loc) => manifests[loc] });
    assert.deepEqual(inv.components.map((c) => [c.name, c.license]), [['a', 'BSD-2-Clause'], ['b', 'MIT OR Apache-2.0']]);
  });
});
