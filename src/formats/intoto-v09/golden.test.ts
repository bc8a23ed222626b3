// Golden files for the v0.9 serializers: a layout and a link signed with a fixed Ed25519 key
// (deterministic signatures), written as the reference writes them. Regenerate with
// CUSTODY_UPDATE_GOLDEN=1 after a deliberate format change, and check the diff.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrivateKeyPem } from '../../core/index.ts';
import { haveComponents } from '../../../test/support/components.ts';
import { parseArtifactRuleString } from './artifact-rule.ts';
import { makeLink } from './link.ts';
import { addSignature, metadataToJson, parseSignedMetadata, type SignedLayout, type SignedLink } from './metablock.ts';
import { formatLikeReference } from './reference-json.ts';

const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'; // RFC 8032 test 1
const PEM = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(`302e020100300506032b657004220420${SEED}`, 'hex').toString('base64')}\n-----END PRIVATE KEY-----\n`;
const key = loadPrivateKeyPem(PEM);

async function golden(name: string, text: string): Promise<void> {
  const path = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  if (process.env['CUSTODY_UPDATE_GOLDEN'] === '1') writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'), `${name} changed (CUSTODY_UPDATE_GOLDEN=1 regenerates it)`);
  // And what is written parses back to the same document.
  assert.equal(formatLikeReference(metadataToJson(parseSignedMetadata(JSON.parse(text)))), text);
  return Promise.resolve();
}

describe('v0.9 serializers (golden files)', () => {
  it('writes a signed link as in-toto-run would', async () => {
    const link: SignedLink = {
      type: 'link',
      signed: makeLink({
        name: 'build',
        materials: { 'src/main.c': { sha256: 'a'.repeat(64) } },
        products: { 'dist/app': { sha256: 'b'.repeat(64), sha512: 'c'.repeat(128) } },
        byproducts: { 'return-value': 0, stderr: '', stdout: 'ok é\n' },
        command: ['make', 'all'],
        environment: { workdir: '/build' },
      }),
      signatures: [],
    };
    await golden('build.link', formatLikeReference(metadataToJson(await addSignature(link, key.signer()))));
  });

  it('writes a signed layout as the reference would', async () => {
    const sslib = { ...key.publicKey.toSecuresystemslib(), keyid: key.publicKey.keyid };
    const layout: SignedLayout = {
      type: 'layout',
      signed: {
        expires: '2030-01-01T00:00:00Z',
        readme: 'golden',
        keys: { [key.publicKey.keyid]: sslib },
        steps: [
          {
            name: 'build',
            pubkeys: [key.publicKey.keyid],
            threshold: 1,
            expectedCommand: ['make', 'all'],
            expectedMaterials: ['MATCH src/* WITH PRODUCTS FROM clone', 'DISALLOW *'].map(parseArtifactRuleString),
            expectedProducts: ['CREATE dist/app', 'DISALLOW *'].map(parseArtifactRuleString),
          },
        ],
        inspect: [{ name: 'check', run: ['true'], expectedMaterials: ['ALLOW *'].map(parseArtifactRuleString), expectedProducts: [] }],
      },
      signatures: [],
    };
    await golden('root.layout', formatLikeReference(metadataToJson(await addSignature(layout, key.signer()))));
  });

  it('are files the reference verifies and writes identically', (t) => {
    if (!haveComponents(t, '/usr/bin/python3')) return;
    const script = `
import sys
from in_toto.models.metadata import Metablock
layout = Metablock.load(sys.argv[1])
key = list(layout.signed.keys.values())[0]
for path in sys.argv[1:]:
    m = Metablock.load(path)
    m.verify_signature(key)
    assert repr(m) == open(path, encoding="utf-8").read(), path
print("ok")`;
    const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
    const r = spawnSync('/usr/bin/python3', ['-c', script, `${dir}root.layout`, `${dir}build.link`], { encoding: 'utf8' });
    if (r.status !== 0 && /No module named 'in_toto'/.test(r.stderr) && process.env['CUSTODY_REQUIRE_COMPONENTS'] !== '1') {
      t.skip('in_toto is not importable by /usr/bin/python3');
      return;
    }
    assert.equal(r.stdout.trim(), 'ok', r.stderr);
  });
});
