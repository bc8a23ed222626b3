// custody run / record / layout / verify --layout through the real CLI: behaviour the interop
// tests don't cover (exit codes, --dsse, bad input).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadAttestationDir } from '../../src/cli/verify-policy.ts';
import { assertOneLineError, custody, tempDir } from '../support/cli.ts';

function code(stderr: string): string | undefined {
  return /\[([A-Z_]+)\]\s*$/.exec(stderr.trim())?.[1];
}

function linkFile(dir: string, step: string): string {
  const f = readdirSync(dir).find((n) => n.startsWith(`${step}.`) && n.endsWith('.link'));
  assert.ok(f, `no link for ${step}`);
  return join(dir, f);
}

describe('custody run', () => {
  describe('when the command fails', () => {
    it('still writes the link, records the return value and exits with the command\'s code', () => {
      using dir = tempDir();
      assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
      const r = custody(['run', '--step', 's', '--key', 'k.key', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { cwd: dir.path });
      assert.equal(r.status, 3);
      assert.match(r.stdout, /^out$/m, 'stdout passed through');
      assert.match(r.stderr, /^err$/m, 'stderr passed through');
      const link = JSON.parse(readFileSync(linkFile(dir.path, 's'), 'utf8')) as { signed: { byproducts: Record<string, unknown>; command: string[] } };
      assert.deepEqual(link.signed.byproducts, { stdout: 'out\n', stderr: 'err\n', 'return-value': 3 });
      assert.deepEqual(link.signed.command, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    });
  });

  describe('with --dsse', () => {
    it('writes a link v0.3 statement whose subjects are the products, verifiable with verify-envelope', () => {
      using dir = tempDir();
      assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
      writeFileSync(join(dir.path, 'in.txt'), 'input\n');
      const r = custody(['run', '-n', 'copy', '-k', 'k.key', '-m', 'in.txt', '-p', 'out.txt', '--dsse', '--', 'cp', 'in.txt', 'out.txt'], { cwd: dir.path });
      assert.equal(r.status, 0, r.stderr);
      const file = linkFile(dir.path, 'copy');
      const v = custody(['verify-envelope', file, '--key', 'k.pub', '--artifact', 'out.txt', '--json'], { cwd: dir.path });
      assert.equal(v.status, 0, v.stderr);
      const out = JSON.parse(v.stdout) as { predicateType: string; subject: { name: string }[] };
      assert.equal(out.predicateType, 'https://in-toto.io/attestation/link/v0.3');
      assert.deepEqual(out.subject.map((s) => s.name), ['out.txt']);
      const envelope = JSON.parse(readFileSync(file, 'utf8')) as { payload: string };
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { predicate: { name: string; materials: { name: string }[] } };
      assert.equal(statement.predicate.name, 'copy');
      assert.deepEqual(statement.predicate.materials.map((m) => m.name), ['in.txt']);
      // Regression: the attestation loader of verify --policy, repo add and the gate skipped
      // the .link files that --dsse writes.
      const loaded = loadAttestationDir(dir.path);
      assert.deepEqual(loaded.attestations.map((a) => a.source), [basename(file)]);
    });
    it('refuses a DSSE link without products (a Statement needs a subject)', () => {
      using dir = tempDir();
      assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
      const r = custody(['run', '-n', 'lint', '-k', 'k.key', '--dsse', '--', 'true'], { cwd: dir.path });
      assert.equal(r.status, 2);
      assert.equal(code(assertOneLineError(r)), 'USAGE');
    });
  });

  describe('when given bad input', () => {
    const cases: [string, (dir: string) => string[], number, string][] = [
      ['a material path with ..', () => ['run', '-n', 's', '-k', 'k.key', '-m', '../etc', '-x'], 2, 'PATH_INVALID'],
      ['an absolute material path', () => ['run', '-n', 's', '-k', 'k.key', '-m', '/etc/hostname', '-x'], 2, 'PATH_INVALID'],
      ['a symlink loop', (d) => {
        mkdirSync(join(d, 'loop'));
        symlinkSync('.', join(d, 'loop', 'self'));
        return ['run', '-n', 's', '-k', 'k.key', '-m', 'loop', '-x'];
      }, 2, 'SYMLINK_LOOP'],
      ['a command that does not exist', () => ['run', '-n', 's', '-k', 'k.key', '--', 'no-such-command-here'], 2, 'USAGE'],
      ['no command and no --no-command', () => ['run', '-n', 's', '-k', 'k.key'], 2, 'USAGE'],
      ['a step name that would leave the directory', () => ['run', '-n', '../x', '-k', 'k.key', '-x'], 2, 'PATH_INVALID'],
      ['a public key instead of a signing key', () => ['run', '-n', 's', '-k', 'k.pub', '-x'], 2, 'KEY_INVALID'],
    ];
    for (const [what, args, status, expected] of cases) {
      it(`fails with ${expected} for ${what}`, () => {
        using dir = tempDir();
        assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
        const r = custody(args(dir.path), { cwd: dir.path });
        assert.equal(r.status, status, r.stderr);
        assert.equal(code(assertOneLineError(r)), expected);
        assert.equal(readdirSync(dir.path).filter((f) => f.includes('.link')).length, 0, 'no link written');
      });
    }
  });
});

describe('custody record', () => {
  it('refuses to stop a recording whose unfinished link was tampered with', () => {
    using dir = tempDir();
    assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
    writeFileSync(join(dir.path, 'a'), 'a\n');
    assert.equal(custody(['record', 'start', '-n', 'review', '-k', 'k.key', '-m', 'a'], { cwd: dir.path }).status, 0);
    const unfinished = readdirSync(dir.path).find((f) => f.endsWith('.link-unfinished'));
    assert.ok(unfinished);
    const text = readFileSync(join(dir.path, unfinished), 'utf8');
    writeFileSync(join(dir.path, unfinished), text.replace('"a"', '"b"'));
    const r = custody(['record', 'stop', '-n', 'review', '-k', 'k.key', '-p', 'a'], { cwd: dir.path });
    assert.equal(r.status, 1);
    assert.equal(code(assertOneLineError(r)), 'SIGNATURE_INVALID');
  });
  it('fails with FILE_UNREADABLE when stop comes without start', () => {
    using dir = tempDir();
    assert.equal(custody(['key', 'generate', '--out', 'k'], { cwd: dir.path }).status, 0);
    const r = custody(['record', 'stop', '-n', 'review', '-k', 'k.key'], { cwd: dir.path });
    assert.equal(r.status, 2);
    assert.equal(code(assertOneLineError(r)), 'FILE_UNREADABLE');
  });
});

describe('custody layout and verify --layout on bad input', () => {
  function setup(dir: string): void {
    assert.equal(custody(['key', 'generate', '--out', 'owner'], { cwd: dir }).status, 0);
    assert.equal(custody(['key', 'generate', '--out', 'alice'], { cwd: dir }).status, 0);
    writeFileSync(join(dir, 'layout.yaml'), 'functionaries: {alice: alice.pub}\nsteps:\n  - name: s\n    functionaries: [alice]\n    products: ["CREATE f", "DISALLOW *"]\n');
    assert.equal(custody(['layout', 'create', 'layout.yaml', '-k', 'owner.key'], { cwd: dir }).status, 0);
    writeFileSync(join(dir, 'f'), 'f\n');
    assert.equal(custody(['run', '-n', 's', '-k', 'alice.key', '-p', 'f', '-x'], { cwd: dir }).status, 0);
  }

  it('passes on the good chain and reports per step and rule in --json', () => {
    using dir = tempDir();
    setup(dir.path);
    const r = custody(['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--json'], { cwd: dir.path });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { passed: boolean; steps: { name: string; productRules: { outcomes: { text: string }[] } }[] };
    assert.equal(report.passed, true);
    assert.deepEqual(report.steps[0]?.productRules.outcomes.map((o) => o.text), ['CREATE f', 'DISALLOW *']);
  });

  const cases: [string, (dir: string) => string[], number, string][] = [
    ['a layout description with an unknown field', (d) => {
      writeFileSync(join(d, 'bad.yaml'), 'steps: []\nstepz: []\n');
      return ['layout', 'create', 'bad.yaml', '-k', 'owner.key', '-o', 'x.layout'];
    }, 2, 'LAYOUT_INVALID'],
    ['a layout description that is not YAML', (d) => {
      writeFileSync(join(d, 'bad.yaml'), 'steps: [\n');
      return ['layout', 'create', 'bad.yaml', '-k', 'owner.key', '-o', 'x.layout'];
    }, 2, 'LAYOUT_INVALID'],
    ['a malformed layout JSON', (d) => {
      writeFileSync(join(d, 'root.layout'), '{"signed": {"_type": "layout"');
      return ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub'];
    }, 2, 'JSON_INVALID'],
    ['a missing link directory', () => ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--link-dir', 'nope'], 2, 'FILE_UNREADABLE'],
    ['a malformed link', (d) => {
      const f = readdirSync(d).find((n) => n.startsWith('s.') && n.endsWith('.link'));
      assert.ok(f);
      writeFileSync(join(d, f), '{"signed": 5}');
      return ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub'];
    }, 1, 'VERIFICATION_FAILED'],
    ['a link with a path that escapes', (d) => {
      const f = readdirSync(d).find((n) => n.startsWith('s.') && n.endsWith('.link'));
      assert.ok(f);
      writeFileSync(join(d, f), readFileSync(join(d, f), 'utf8').replace('"f"', '"../f"'));
      return ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub'];
    }, 1, 'VERIFICATION_FAILED'],
    ['the layout signed by another key', () => ['verify', '--layout', 'root.layout', '--layout-key', 'alice.pub'], 1, 'SIGNATURE_INVALID'],
    ['both --layout and --policy', () => ['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--policy', 'p.json'], 2, 'USAGE'],
  ];
  for (const [what, args, status, expected] of cases) {
    it(`fails with ${expected} (exit ${status}) for ${what}`, () => {
      using dir = tempDir();
      setup(dir.path);
      const r = custody(args(dir.path), { cwd: dir.path });
      assert.equal(r.status, status, r.stdout + r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(code(lines[lines.length - 1] ?? ''), expected, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
