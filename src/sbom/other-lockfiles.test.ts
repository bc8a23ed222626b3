// Cargo.lock, go.mod/go.sum, requirements.txt, poetry.lock and dpkg status readers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InputError } from '../core/index.ts';
import { readCargoLock } from './cargo-lock.ts';
import { readDpkgStatus } from './dpkg-status.ts';
import { readGoMod } from './go-mod.ts';
import { readPoetryLock, readRequirements } from './python-lock.ts';

const H = (c: string): string => c.repeat(64);
const isInput = (code: string) => (e: unknown) => e instanceof InputError && e.code === code;

describe('readCargoLock', () => {
  const lock = `version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "serde",
 "syn 2.0.0",
]

[[package]]
name = "serde"
version = "1.0.190"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${H('a')}"

[[package]]
name = "syn"
version = "1.0.109"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "${H('b')}"

[[package]]
name = "syn"
version = "2.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
`;
  const inv = readCargoLock(lock, 'Cargo.lock');
  it('makes workspace crates the roots and resolves "name version" dependencies', () => {
    const app = inv.components.find((c) => c.name === 'app')!;
    assert.deepEqual(app.dependencies, ['pkg:cargo/serde@1.0.190', 'pkg:cargo/syn@2.0.0']);
    assert.deepEqual(inv.rootDependencies, ['pkg:cargo/app@0.1.0']);
  });
  it('records checksums as SHA-256 and flags registry crates without one', () => {
    assert.equal(inv.components.find((c) => c.purl === 'pkg:cargo/serde@1.0.190')!.hashes['SHA-256'], H('a'));
    assert.deepEqual(inv.components.filter((c) => c.missingIntegrity === true).map((c) => c.purl), ['pkg:cargo/syn@2.0.0']);
  });
  it('rejects unknown versions and bad TOML', () => {
    assert.throws(() => readCargoLock('version = 9\n[[package]]\nname="a"\nversion="1"\n', 'Cargo.lock'), isInput('LOCKFILE_UNSUPPORTED'));
    assert.throws(() => readCargoLock('[[package]\n', 'Cargo.lock'), isInput('LOCKFILE_INVALID'));
  });
});

describe('readGoMod', () => {
  const goMod = `module example.com/app

go 1.22

require (
\tgithub.com/pkg/errors v0.9.1
\tgolang.org/x/text v0.3.7 // indirect
)

require github.com/old/mod v1.0.0

replace github.com/old/mod => github.com/new/mod v1.1.0
`;
  const goSum = `github.com/pkg/errors v0.9.1 h1:${Buffer.alloc(32, 1).toString('base64')}
github.com/pkg/errors v0.9.1/go.mod h1:${Buffer.alloc(32, 2).toString('base64')}
golang.org/x/text v0.3.7 h1:${Buffer.alloc(32, 3).toString('base64')}
`;
  const inv = readGoMod(goMod, goSum, 'go.mod');
  it('lists every required module, applying replace directives', () => {
    assert.deepEqual(inv.components.map((c) => c.purl).sort(), ['pkg:golang/github.com/new/mod@v1.1.0', 'pkg:golang/github.com/pkg/errors@v0.9.1', 'pkg:golang/golang.org/x/text@v0.3.7']);
  });
  it('hangs only direct requirements off the root and takes h1 hashes from go.sum', () => {
    assert.deepEqual(inv.rootDependencies, ['pkg:golang/github.com/new/mod@v1.1.0', 'pkg:golang/github.com/pkg/errors@v0.9.1']);
    assert.equal(inv.components.find((c) => c.name === 'errors')!.hashes['SHA-256'], '01'.repeat(32));
    assert.equal(inv.components.find((c) => c.name === 'mod')!.missingIntegrity, true);
  });
  it('rejects a go.mod without a module directive', () => {
    assert.throws(() => readGoMod('require a v1\n', undefined, 'go.mod'), isInput('LOCKFILE_INVALID'));
  });
});

describe('readRequirements', () => {
  const text = `# pinned
Django==4.2.1 \\
    --hash=sha256:${H('c')} \\
    --hash=sha256:${H('d')}
requests[socks]===2.31.0 ; python_version >= "3.8"
-r other.txt
flask>=2
`;
  const r = readRequirements(text, 'requirements.txt');
  it('reads pins with normalised names, extras, markers and hashes', () => {
    assert.deepEqual(r.inventory.components.map((c) => c.purl), ['pkg:pypi/django@4.2.1', 'pkg:pypi/requests@2.31.0']);
    assert.equal(r.inventory.components[0]!.hashes['SHA-256'], H('c'));
    assert.equal(r.inventory.components[1]!.missingIntegrity, true);
  });
  it('reports unpinned requirements instead of inventing versions', () => {
    assert.deepEqual(r.unpinned, ['flask>=2']);
  });
});

describe('readPoetryLock', () => {
  const lock = `[[package]]
name = "Requests"
version = "2.31.0"
optional = false
files = [
    {file = "requests-2.31.0.tar.gz", hash = "sha256:${H('e')}"},
]

[package.dependencies]
urllib3 = ">=1.21.1,<3"

[[package]]
name = "urllib3"
version = "2.0.4"
files = []

[[package]]
name = "pytest"
version = "7.0.0"
groups = ["dev"]
files = []

[metadata]
lock-version = "2.0"
`;
  const inv = readPoetryLock(lock, 'poetry.lock', '[tool.poetry.dependencies]\nrequests = "^2"\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n');
  it('reads packages, edges, groups and hashes', () => {
    const by = new Map(inv.components.map((c) => [c.name, c]));
    assert.deepEqual(by.get('requests')!.dependencies, ['pkg:pypi/urllib3@2.0.4']);
    assert.equal(by.get('requests')!.hashes['SHA-256'], H('e'));
    assert.equal(by.get('pytest')!.scope, 'dev');
    assert.deepEqual(inv.rootDependencies, ['pkg:pypi/pytest@7.0.0', 'pkg:pypi/requests@2.31.0']);
  });
});

describe('readDpkgStatus', () => {
  const status = `Package: libc6
Status: install ok installed
Priority: required
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Depends: libgcc-s1
Description: GNU C Library
 multi-line description

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Provides: libgcc1 (= 1:12.2.0-14)

Package: removed
Status: deinstall ok config-files
Version: 1.0

Package: app
Status: install ok installed
Architecture: all
Version: 1:2.0~rc1-1
Depends: libgcc1 | libfoo, libc6 (>= 2.34)
`;
  const inv = readDpkgStatus(status, 'var/lib/dpkg/status', { distro: 'debian-12' });
  it('reads installed packages only, with arch, distro and source qualifiers', () => {
    assert.deepEqual(inv.components.map((c) => c.purl).sort(), [
      'pkg:deb/debian/app@1:2.0~rc1-1?arch=all&distro=debian-12',
      'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc',
      'pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12',
    ]);
  });
  it('resolves Depends through alternatives and Provides', () => {
    const app = inv.components.find((c) => c.name === 'app')!;
    assert.equal(app.dependencies.length, 2);
    assert.ok(app.dependencies.some((d) => d.includes('libgcc-s1')));
  });
  it('rejects malformed paragraphs, and never fails otherwise on arbitrary text', () => {
    assert.throws(() => readDpkgStatus('no colon here\n', 'status'), isInput('LOCKFILE_INVALID'));
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        readDpkgStatus(s, 'status');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 300 });
  });
});

describe('parsers of untrusted lockfile text', () => {
  const readers: [string, (s: string) => unknown][] = [
    ['Cargo.lock', (s) => readCargoLock(s, 'Cargo.lock')],
    ['go.mod', (s) => readGoMod(`module x\n${s}`, s, 'go.mod')],
    ['requirements.txt', (s) => readRequirements(s, 'requirements.txt')],
    ['poetry.lock', (s) => readPoetryLock(s, 'poetry.lock', s)],
  ];
  for (const [name, read] of readers) {
    it(`${name}: never fails with anything but an InputError`, () => {
      fc.assert(fc.property(fc.oneof(fc.string(), fc.array(fc.constantFrom('[[package]]\n', 'name = "a"\n', 'version = "1"\n', 'dependencies = ["a 1"]\n', 'require (\n', ')\n', 'a==1 --hash=sha256:00\n', '\\\n', 'files = [1]\n')).map((l) => l.join(''))), (text) => {
        try {
          read(text);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }), { numRuns: 300 });
    });
  }
});
