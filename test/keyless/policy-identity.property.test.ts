// Property tests of the keyless functionary parser (`keyless: {issuer, subject}` in a policy, from
// untrusted YAML/JSON) and of identity matching (exact, or an anchored /regexp/).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { isCustodyError } from '../../src/core/index.ts';
import { identityMatches, identityMismatch, identityPatternProblem, parsePolicyDocument } from '../../src/policy/index.ts';
import { parseConfig } from '../../src/server/index.ts';

// Syntax characters and '/', the only identity escapes a 'u' regular expression allows.
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function doc(functionary: unknown): unknown {
  return {
    _type: 'https://custody.dev/policy/v1',
    expires: '2099-01-01T00:00:00Z',
    functionaries: { ci: functionary },
    requirements: [{ name: 'r', predicateTypes: ['https://example.com/p'], functionaries: ['ci'] }],
  };
}

const patternish = fc.oneof(fc.string(), fc.string().map((s) => `/${s}/`), fc.constantFrom('/(/', '/[/', '//', '/', '/a{2,1}/', ''));

describe('keyless functionary parser', () => {
  it('any keyless value parses to exactly its issuer and subject, or is refused with POLICY_INVALID', () => {
    const value = fc.oneof(
      fc.record({ issuer: patternish, subject: patternish }),
      fc.record({ issuer: patternish, subject: patternish, extra: fc.jsonValue() }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(value, fc.constantFrom('keyless', 'certificate'), (v, field) => {
        let policy;
        try {
          policy = parsePolicyDocument(doc({ [field]: v }));
        } catch (e) {
          assert.ok(isCustodyError(e) && e.code === 'POLICY_INVALID', String(e));
          return;
        }
        const r = v as { issuer: string; subject: string };
        assert.deepEqual(policy.functionaries.get('ci')?.certificate, { issuer: r.issuer, subject: r.subject });
        assert.equal(Object.keys(r).length, 2);
        assert.equal(identityPatternProblem(r.issuer), undefined);
        assert.equal(identityPatternProblem(r.subject), undefined);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses both keyless and certificate, an invalid /regexp/, and unknown fields', () => {
    for (const f of [
      { keyless: { issuer: 'a', subject: 'b' }, certificate: { issuer: 'a', subject: 'b' } },
      { keyless: { issuer: 'a', subject: '/(/' } },
      { keyless: { issuer: 'a', subject: 'b', audience: 'c' } },
      { keyless: { issuer: '', subject: 'b' } },
    ]) {
      assert.throws(() => parsePolicyDocument(doc(f)), (e: unknown) => isCustodyError(e) && e.code === 'POLICY_INVALID', JSON.stringify(f));
    }
  });

  it('YAML: a keyless functionary with a pattern subject', () => {
    const p = parsePolicyDocument(
      ['_type: https://custody.dev/policy/v1', 'expires: "2099-01-01T00:00:00Z"', 'functionaries:', '  ci:', '    keyless: { issuer: "https://ci.example", subject: "/https:\\\\/\\\\/ci\\\\.example\\\\/.*/" }', 'requirements:', '  - { name: r, predicateTypes: [x:y], functionaries: [ci] }'].join('\n'),
    );
    const id = p.functionaries.get('ci')?.certificate;
    assert.ok(id !== undefined && identityMismatch(id, { issuer: 'https://ci.example', subject: 'https://ci.example/steps/build' }) === undefined);
    assert.match(identityMismatch(id, { issuer: 'https://other.example', subject: 'https://ci.example/steps/build' }) ?? '', /^issuer 'https:\/\/other\.example' does not match/);
  });
});

describe('identity matching', () => {
  it('a value not in slashes matches only itself', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => !/^\/.*\/$/s.test(s)), fc.string(), (pattern, other) => {
        assert.equal(identityMatches(pattern, pattern), true);
        assert.equal(identityMatches(pattern, other), pattern === other);
      }),
    );
  });

  it('an escaped /regexp/ matches exactly its value: anchored at both ends', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (value, extra) => {
        const pattern = `/${escape(value)}/`;
        assert.equal(identityPatternProblem(pattern), undefined);
        assert.equal(identityMatches(pattern, value), true);
        assert.equal(identityMatches(pattern, `${extra}${value}`), false);
        assert.equal(identityMatches(pattern, `${value}${extra}`), false);
      }),
    );
  });

  it('a mismatch is reported iff the issuer or the subject does not match', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (wi, ws, gi, gs) => {
        const expected = identityMatches(wi, gi) && identityMatches(ws, gs);
        assert.equal(identityMismatch({ issuer: wi, subject: ws }, { issuer: gi, subject: gs }) === undefined, expected);
      }),
    );
  });
});

describe('server config: trustedRoot for keyless functionaries', () => {
  it('tuf.admission and gate take a trustedRoot path, resolved against the config directory', () => {
    const c = parseConfig(
      {
        tuf: { dir: 'tuf', onlineKeys: [{ name: 'tuf-online' }], admission: { policies: ['p.yaml'], allowUnsignedPolicy: true, trustedRoot: 'ca/trusted_root.json' } },
        gate: { policies: ['deploy.json'], allowUnsignedPolicy: true, trustedRoot: '/etc/custody/root.json' },
      },
      '/srv',
    );
    assert.equal(c.tuf?.admission.trustedRoot, '/srv/ca/trusted_root.json');
    assert.equal(c.gate?.trustedRoot, '/etc/custody/root.json');
    assert.throws(() => parseConfig({ gate: { policies: ['d.json'], allowUnsignedPolicy: true, trustedRoot: 7 } }, '/srv'), (e: unknown) => isCustodyError(e) && e.code === 'INPUT_INVALID');
  });
});

describe('docs/schemas/custody-policy-v1.schema.json', () => {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictRequired: false }));
  const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../docs/schemas/custody-policy-v1.schema.json', import.meta.url), 'utf8')) as object);

  it('accepts a keyless policy the parser accepts, and refuses what the parser refuses for the same reason', () => {
    const yaml = ['_type: https://custody.dev/policy/v1', 'expires: "2099-01-01T00:00:00Z"', 'functionaries:', '  ci: { keyless: { issuer: "https://ci.example", subject: "/.*\\/steps\\/build/" } }', '  bob: { keys: [{ publicKey: "x" }] }', 'steps:', '  - { name: build, predicateTypes: [x:y], functionaries: [ci], rules: ["true", { name: ok, expr: "true" }], expectedProducts: ["ALLOW *"] }', ''].join('\n');
    assert.equal(validate(parseYaml(yaml)), true, JSON.stringify(validate.errors));
    for (const bad of [{ keyless: { issuer: 'a' } }, { keyless: { issuer: 'a', subject: 'b' }, certificate: { issuer: 'a', subject: 'b' } }, { keys: [] }, { keyless: { issuer: 'a', subject: 'b', x: 1 } }]) {
      assert.equal(validate(doc(bad)), false, JSON.stringify(bad));
    }
  });

  it('whatever keyless value the parser accepts, the schema accepts; what the schema accepts and the parser refuses is an uncompilable /regexp/', () => {
    const value = fc.oneof(fc.record({ issuer: patternish, subject: patternish }), fc.record({ issuer: patternish, subject: patternish, extra: fc.jsonValue() }), fc.jsonValue());
    fc.assert(
      fc.property(value, (v) => {
        let parsed = true;
        try {
          parsePolicyDocument(doc({ keyless: v }));
        } catch {
          parsed = false;
        }
        const valid = validate(doc({ keyless: v }));
        if (parsed) assert.equal(valid, true, JSON.stringify(validate.errors));
        else if (valid) {
          const r = v as { issuer: string; subject: string };
          assert.ok(identityPatternProblem(r.issuer) !== undefined || identityPatternProblem(r.subject) !== undefined, JSON.stringify(v));
        }
      }),
      { numRuns: 400 },
    );
  });
});
