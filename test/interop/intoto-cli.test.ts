// in-toto interop through the command line, both ways (issue 3, "Must show"):
//  (a) keys, links (custody run / record) and layouts (custody layout create) made by custody pass
//      in-toto-verify, and custody verify;
//  (b) keys from in-toto-keygen, links from in-toto-run / in-toto-record and a layout made with the
//      reference's Python API and signed with in-toto-sign pass custody verify;
//  (c) the same tampering fails in both tools.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { custody } from '../support/cli.ts';
import { haveComponents } from '../support/components.ts';

const PYTHON = '/usr/bin/python3';

function sh(cwd: string, argv: string[], env: NodeJS.ProcessEnv = {}): { status: number; out: string } {
  const r = spawnSync(argv[0] ?? 'false', argv.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function ok(cwd: string, argv: string[]): string {
  const r = argv[0] === 'custody' ? custody(argv.slice(1), { cwd }) : (() => {
    const s = sh(cwd, argv);
    return { status: s.status, stdout: s.out, stderr: '' };
  })();
  assert.equal(r.status, 0, `${argv.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A custody-made supply chain: write-code (ecdsa, no command), build (record start/stop, ed25519), package (rsa). */
function custodyChain(dir: string, layoutYaml: string): void {
  ok(dir, ['custody', 'key', 'generate', '--type', 'ed25519', '--out', 'owner']);
  ok(dir, ['custody', 'key', 'generate', '--type', 'ecdsa-p256', '--out', 'alice']);
  ok(dir, ['custody', 'key', 'generate', '--type', 'rsa', '--out', 'bob']);
  ok(dir, ['custody', 'key', 'generate', '--type', 'ed25519', '--out', 'carol']);
  ok(dir, ['custody', 'key', 'generate', '--type', 'ed25519', '--out', 'mallory']);
  ok(dir, ['custody', 'key', 'export', 'owner.pub', '--format', 'securesystemslib', '--out', 'owner.sslib.pub']);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'hello.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(dir, 'layout.yaml'), layoutYaml);
  ok(dir, ['custody', 'layout', 'create', 'layout.yaml', '--key', 'owner.key', '--out', 'root.layout']);
  ok(dir, ['custody', 'run', '--step', 'write-code', '--key', 'alice.key', '-p', 'src', '--no-command']);
  ok(dir, ['custody', 'record', 'start', '--step', 'build', '--key', 'carol.key', '-m', 'src']);
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', 'hello'), 'a build of hello.c\n');
  ok(dir, ['custody', 'record', 'stop', '--step', 'build', '--key', 'carol.key', '-p', 'out']);
  ok(dir, ['custody', 'run', '--step', 'package', '--key', 'bob.key', '-m', 'out', '-p', 'hello.tar.gz', '--', 'tar', 'czf', 'hello.tar.gz', 'out/hello']);
}

const LAYOUT = (expires: string, packageThreshold = 1): string => `
expires: ${expires}
readme: interop test chain
functionaries:
  alice: alice.pub
  bob: bob.pub
  carol: carol.pub
steps:
  - name: write-code
    functionaries: [alice]
    products: ["CREATE src/hello.c", "DISALLOW *"]
  - name: build
    functionaries: [carol]
    materials: ["MATCH src/hello.c WITH PRODUCTS FROM write-code", "DISALLOW *"]
    products: ["CREATE out/hello", "DISALLOW *"]
  - name: package
    functionaries: [bob]
    threshold: ${packageThreshold}
    expected_command: tar czf hello.tar.gz out/hello
    materials: ["MATCH out/hello WITH PRODUCTS FROM build", "DISALLOW *"]
    products: ["CREATE hello.tar.gz", "DISALLOW *"]
inspections:
  - name: untar
    run: tar xzf hello.tar.gz
    materials: ["MATCH hello.tar.gz WITH PRODUCTS FROM package", "ALLOW *"]
    products: ["MATCH out/hello WITH PRODUCTS FROM build", "ALLOW *"]
`;

function inTotoVerify(dir: string): number {
  return sh(dir, ['in-toto-verify', '-l', 'root.layout', '-k', 'owner.sslib.pub', '-t', 'ed25519']).status;
}

function custodyVerify(dir: string): { status: number; stdout: string; stderr: string } {
  return custody(['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--link-dir', '.'], { cwd: dir });
}

describe('in-toto interop through the CLI', () => {
  let root = '';
  let base = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'custody-intoto-cli-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  describe('when custody makes the keys, links and layout', () => {
    it('in-toto-verify and custody verify both pass', (t) => {
      if (!haveComponents(t, 'in-toto-verify')) return;
      base = join(root, 'custody-chain');
      mkdirSync(base);
      custodyChain(base, LAYOUT('365d'));
      assert.equal(inTotoVerify(base), 0);
      const r = custodyVerify(base);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /PASSED/);
    });

    const attacks: [string, (dir: string) => void, RegExp][] = [
      ['a product modified between steps', (d) => {
        // build's product changes before package consumes it: package's MATCH fails.
        appendFileSync(join(d, 'out', 'hello'), 'backdoor\n');
        for (const f of readdirSync(d).filter((f) => f.startsWith('package.'))) rmSync(join(d, f));
        ok(d, ['custody', 'run', '--step', 'package', '--key', 'bob.key', '-m', 'out', '-p', 'hello.tar.gz', '--', 'tar', 'czf', 'hello.tar.gz', 'out/hello']);
      }, /RULE_DISALLOWED|MATCH/],
      ['a link signed by an unauthorized key', (d) => {
        const pkg = readdirSync(d).find((f) => f.startsWith('package.'));
        assert.ok(pkg);
        rmSync(join(d, pkg));
        ok(d, ['custody', 'run', '--step', 'package', '--key', 'mallory.key', '-m', 'out', '-p', 'hello.tar.gz', '--', 'tar', 'czf', 'hello.tar.gz', 'out/hello']);
        const forged = readdirSync(d).find((f) => f.startsWith('package.'));
        assert.ok(forged);
        // Named as bob's link, signed by mallory.
        const bobId = JSON.parse(custody(['key', 'show', 'bob.pub', '--json'], { cwd: d }).stdout) as { keyid: string };
        cpSync(join(d, forged), join(d, `package.${bobId.keyid.slice(0, 8)}.link`));
      }, /package/],
      ['a missing step', (d) => {
        const build = readdirSync(d).find((f) => f.startsWith('build.'));
        assert.ok(build);
        rmSync(join(d, build));
      }, /build/],
      ['an expired layout', (d) => {
        writeFileSync(join(d, 'layout.yaml'), LAYOUT('2020-01-01T00:00:00Z'));
        ok(d, ['custody', 'layout', 'create', 'layout.yaml', '--key', 'owner.key', '--out', 'root.layout']);
      }, /EXPIRED|expired/],
      ['a threshold that is not met', (d) => {
        writeFileSync(join(d, 'layout.yaml'), LAYOUT('365d', 2));
        ok(d, ['custody', 'layout', 'create', 'layout.yaml', '--key', 'owner.key', '--out', 'root.layout']);
      }, /THRESHOLD|threshold/],
      ['a disallowed extra artifact', (d) => {
        for (const f of readdirSync(d).filter((f) => f.startsWith('build.'))) rmSync(join(d, f));
        ok(d, ['custody', 'record', 'start', '--step', 'build', '--key', 'carol.key', '-m', 'src']);
        writeFileSync(join(d, 'out', 'implant'), 'extra\n');
        ok(d, ['custody', 'record', 'stop', '--step', 'build', '--key', 'carol.key', '-p', 'out']);
      }, /DISALLOW/],
      ['a tampered layout', (d) => {
        const layout = readFileSync(join(d, 'root.layout'), 'utf8').replace('"DISALLOW", \n', '');
        writeFileSync(join(d, 'root.layout'), layout.replace('interop test chain', 'interop test chain!'));
      }, /SIGNATURE|signature/],
    ];
    for (const [name, tamper, reason] of attacks) {
      it(`both tools refuse ${name}`, (t) => {
        if (!haveComponents(t, 'in-toto-verify')) return;
        assert.notEqual(base, '', 'the good chain was built');
        const dir = join(root, name.replace(/\W+/g, '-'));
        cpSync(base, dir, { recursive: true });
        rmSync(join(dir, 'untar.link'), { force: true });
        tamper(dir);
        assert.equal(inTotoVerify(dir), 1, 'in-toto-verify must refuse');
        const r = custodyVerify(dir);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, reason);
        assert.match(r.stdout, /FAILED/);
      });
    }
  });

  describe('when the reference implementation makes the keys, links and layout', () => {
    it('custody verify passes, and refuses the same tampering as in-toto-verify', (t) => {
      if (!haveComponents(t, 'in-toto-keygen', 'in-toto-run', 'in-toto-record', 'in-toto-sign', 'in-toto-verify', PYTHON)) return;
      const dir = join(root, 'reference-chain');
      mkdirSync(dir);
      ok(dir, ['in-toto-keygen', '-t', 'ed25519', 'owner']);
      ok(dir, ['in-toto-keygen', '-t', 'ecdsa', 'alice']);
      ok(dir, ['in-toto-keygen', '-t', 'rsa', 'bob']);
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src', 'hello.c'), 'int main(void) { return 0; }\n');
      ok(dir, ['in-toto-run', '-n', 'write-code', '-k', 'alice', '-t', 'ecdsa', '-p', 'src', '-x']);
      ok(dir, ['in-toto-record', 'start', '-n', 'build', '-k', 'bob', '-m', 'src']);
      mkdirSync(join(dir, 'out'));
      writeFileSync(join(dir, 'out', 'hello'), 'a build of hello.c\n');
      ok(dir, ['in-toto-record', 'stop', '-n', 'build', '-k', 'bob', '-p', 'out']);
      ok(dir, ['in-toto-run', '-n', 'package', '-k', 'alice', '-t', 'ecdsa', '-m', 'out', '-p', 'hello.tar.gz', '--', 'tar', 'czf', 'hello.tar.gz', 'out/hello']);
      // The layout, made with the reference's Python API, then signed with in-toto-sign.
      const script = `
from in_toto.models.layout import Layout, Step, Inspection
from in_toto.models.metadata import Metablock
layout = Layout()
from securesystemslib.interface import import_ecdsa_publickey_from_file, import_rsa_publickey_from_file
a = import_ecdsa_publickey_from_file("alice.pub"); b = import_rsa_publickey_from_file("bob.pub")
layout.add_functionary_key(a); layout.add_functionary_key(b)
layout.set_relative_expiration(months=1)
s1 = Step(name="write-code"); s1.pubkeys = [a["keyid"]]; s1.add_product_rule_from_string("CREATE src/hello.c"); s1.add_product_rule_from_string("DISALLOW *")
s2 = Step(name="build"); s2.pubkeys = [b["keyid"]]
s2.add_material_rule_from_string("MATCH src/hello.c WITH PRODUCTS FROM write-code"); s2.add_material_rule_from_string("DISALLOW *")
s2.add_product_rule_from_string("CREATE out/hello"); s2.add_product_rule_from_string("DISALLOW *")
s3 = Step(name="package"); s3.pubkeys = [a["keyid"]]; s3.set_expected_command_from_string("tar czf hello.tar.gz out/hello")
s3.add_material_rule_from_string("MATCH out/hello WITH PRODUCTS FROM build"); s3.add_material_rule_from_string("DISALLOW *")
s3.add_product_rule_from_string("CREATE hello.tar.gz"); s3.add_product_rule_from_string("DISALLOW *")
i1 = Inspection(name="untar"); i1.set_run_from_string("tar xzf hello.tar.gz")
i1.add_material_rule_from_string("MATCH hello.tar.gz WITH PRODUCTS FROM package"); i1.add_material_rule_from_string("DISALLOW hello.tar.gz"); i1.add_material_rule_from_string("ALLOW *")
i1.add_product_rule_from_string("MATCH out/hello WITH PRODUCTS FROM build"); i1.add_product_rule_from_string("DISALLOW out/hello"); i1.add_product_rule_from_string("ALLOW *")
layout.steps = [s1, s2, s3]; layout.inspect = [i1]
Metablock(signed=layout).dump("unsigned.layout")
`;
      ok(dir, [PYTHON, '-c', script]);
      ok(dir, ['in-toto-sign', '-f', 'unsigned.layout', '-k', 'owner', '-t', 'ed25519', '-o', 'root.layout']);
      assert.equal(sh(dir, ['in-toto-verify', '-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519']).status, 0);
      const good = custody(['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--link-dir', '.'], { cwd: dir });
      assert.equal(good.status, 0, good.stdout + good.stderr);
      // Tamper: the packaged build output changes after the build step recorded it.
      rmSync(join(dir, 'untar.link'), { force: true });
      appendFileSync(join(dir, 'out', 'hello'), 'backdoor\n');
      ok(dir, ['tar', 'czf', 'hello.tar.gz', 'out/hello']);
      assert.equal(sh(dir, ['in-toto-verify', '-l', 'root.layout', '-k', 'owner.pub', '-t', 'ed25519']).status, 1);
      const bad = custody(['verify', '--layout', 'root.layout', '--layout-key', 'owner.pub', '--link-dir', '.'], { cwd: dir });
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /\[RULE_DISALLOWED\] untar, rule 'DISALLOW hello\.tar\.gz', artifact 'hello\.tar\.gz'/);
    });
  });
});
