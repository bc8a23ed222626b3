// custody scan secrets: each rule against our corpus (a positive and a near miss), allowlists,
// inline ignores, SARIF, and scanning git's index and history on a real repository.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { haveComponents } from '../support/components.ts';
import { Repo, sshKey, tempDir } from './git-fixture.ts';
import { secretCorpus, fakeGithubToken } from './secrets-corpus.ts';
import { GitRepo, SECRET_RULES, mergeAllowlists, parseSecretsConfig, scanHistory, scanPaths, scanStaged, scanText, secretsToSarif, EMPTY_ALLOWLIST } from '../../src/source/index.ts';

describe('secret rules', () => {
  const corpus = secretCorpus();

  it('has a corpus case for every rule', () => {
    assert.deepEqual(corpus.map((c) => c.rule).sort(), SECRET_RULES.map((r) => r.id).sort());
  });

  for (const c of corpus) {
    describe(c.rule, () => {
      it('reports the positive under this rule', () => {
        const ids = scanText(c.positive, 'x').map((f) => f.ruleId);
        assert.ok(ids.includes(c.rule), `got ${ids.join(', ') || 'nothing'}`);
      });
      it(`does not report the near miss (${c.why})`, () => {
        assert.deepEqual(scanText(c.nearMiss, 'x').map((f) => f.ruleId), []);
      });
    });
  }

  it('never puts the secret in a finding', () => {
    for (const c of corpus) {
      for (const f of scanText(c.positive, 'x')) {
        const serialized = JSON.stringify(f);
        assert.ok(!serialized.includes(c.positive.trim().slice(-20)), `${c.rule} leaked`);
      }
    }
  });

  it('reports a secret once, under the most specific rule, even when the generic rule also matches', () => {
    const token = fakeGithubToken();
    assert.deepEqual(scanText(`const apiToken = "${token}";\n`, 'x').map((f) => f.ruleId), ['github-token']);
  });

  it('does not report translated prose, URNs or password words in URLs (false positives seen in node_modules)', () => {
    assert.deepEqual(scanText('"Unexpected_token_expected": "予期しないトークンです。コンストラクター、メソッド",\n', 'x'), []);
    assert.deepEqual(scanText("'Lock-Token': 'urn:uuid:a515cfa4-5da4-22e1-f5b5-00a0451e6bf7'\n", 'x'), []);
    assert.deepEqual(scanText("parse('postgres://someuser:somepassword@somehost:381/db')\n", 'x'), []);
  });

  it('locates a finding by line and column', () => {
    const token = fakeGithubToken();
    const [f] = scanText(`a\nb\n  x = ${token}\n`, 'f.txt');
    assert.equal(f?.line, 3);
    assert.equal(f?.column, 7);
    assert.equal(f?.endColumn, 7 + token.length);
  });

  it('scanText never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 500 }), (s) => Array.isArray(scanText(s, 'x'))));
  });
});

describe('allowlists and inline ignores', () => {
  const token = fakeGithubToken();

  it('skips a line carrying an ignore comment, or the line after a next-line comment', () => {
    assert.equal(scanText(`t = "${token}" // custody:allow-secret\n`, 'x').length, 0);
    assert.equal(scanText(`t = "${token}" # gitleaks:allow\n`, 'x').length, 0);
    assert.equal(scanText(`// custody:allow-secret-next-line\nt = "${token}"\n`, 'x').length, 0);
    assert.equal(scanText(`// custody:allow-secret-next-line\n\nt = "${token}"\n`, 'x').length, 1);
  });

  it('honours fingerprints, regexes, paths and disabled rules from the config', () => {
    const [f] = scanText(`t = ${token}\n`, 'x');
    assert.ok(f !== undefined);
    const byFingerprint = parseSecretsConfig(`allow:\n  fingerprints: ["${f.fingerprint}"]\n`);
    assert.equal(scanText(`t = ${token}\n`, 'x', { allow: byFingerprint }).length, 0);
    const byRegex = parseSecretsConfig(`allow:\n  regexes: ["^${token.slice(0, 8)}"]\n`);
    assert.equal(scanText(`t = ${token}\n`, 'x', { allow: byRegex }).length, 0);
    const disabled = parseSecretsConfig('disable: [github-token]\n');
    assert.equal(scanText(`t = ${token}\n`, 'x', { allow: disabled }).length, 0);
    assert.throws(() => parseSecretsConfig('disable: [no-such-rule]\n'), { code: 'INPUT_INVALID' });
  });

  it('skips allowlisted paths, .git and binary files when walking a directory', () => {
    const tmp = tempDir('custody-secrets-walk-');
    try {
      mkdirSync(join(tmp.dir, 'fixtures'), { recursive: true });
      mkdirSync(join(tmp.dir, '.git'), { recursive: true });
      writeFileSync(join(tmp.dir, 'app.env'), `TOKEN=${token}\n`);
      writeFileSync(join(tmp.dir, 'fixtures', 'fake.env'), `TOKEN=${token}\n`);
      writeFileSync(join(tmp.dir, '.git', 'config'), `TOKEN=${token}\n`);
      writeFileSync(join(tmp.dir, 'blob.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(token)]));
      const allow = mergeAllowlists(EMPTY_ALLOWLIST, { paths: ['fixtures/'] });
      const report = scanPaths([tmp.dir], tmp.dir, { allow });
      assert.deepEqual(report.findings.map((f) => f.path), ['app.env']);
      assert.equal(report.filesScanned, 1);
      assert.equal(report.skipped, 1);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('SARIF output', () => {
  it('emits a SARIF 2.1.0 log with rules and located results', () => {
    const findings = scanText(`x = ${fakeGithubToken()}\n`, 'src/x.ts');
    const sarif = secretsToSarif(findings, '0.1.0') as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0]!;
    const result = run.results[0]!;
    assert.equal(result.ruleId, 'github-token');
    assert.equal(run.tool.driver.rules[result.ruleIndex]?.id, 'github-token');
    assert.equal(result.locations[0]?.physicalLocation.artifactLocation.uri, 'src/x.ts');
    assert.equal(result.locations[0]?.physicalLocation.region.startLine, 1);
  });
});

describe('scanning git', () => {
  const tmp = tempDir('custody-secrets-git-');
  after(() => tmp.cleanup());

  it('finds a secret in the index (--staged) and one deleted from the tree but kept in history (--history)', (t) => {
    if (!haveComponents(t, 'git', 'ssh-keygen')) return;
    const alice = sshKey(tmp.dir, 'alice');
    const repo = new Repo(join(tmp.dir, 'repo'), [alice]);
    const old = fakeGithubToken();
    repo.commit(alice, { 'config.env': `TOKEN=${old}\n` }, 'oops', { sign: false });
    repo.commit(alice, { 'config.env': 'TOKEN=\n' }, 'remove', { sign: false });
    const git = new GitRepo(repo.dir);
    assert.deepEqual(scanStaged(git).findings, []);
    const history = scanHistory(git);
    assert.deepEqual(history.findings.map((f) => [f.ruleId, f.path]), [['github-token', 'config.env']]);
    assert.match(history.findings[0]?.blob ?? '', /^[0-9a-f]{40}$/);
    writeFileSync(join(repo.dir, 'new.env'), `T=${fakeGithubToken()}\n`);
    repo.git(['add', 'new.env']);
    assert.deepEqual(scanStaged(git).findings.map((f) => f.path), ['new.env']);
    // A range holds only what its commits brought in.
    assert.deepEqual(scanHistory(git, { range: 'HEAD~1..HEAD' }).findings, []);
  });
});
