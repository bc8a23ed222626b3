// Repositories made by other TUF implementations (tuf-conformance static data) read by our client
// as air-gapped local copies, judged at their `faketime` with --reference-time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { digestBytes } from '../../src/core/index.ts';
import { TufClient } from '../../src/tuf/index.ts';
import { tempDir } from '../support/cli.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

function fixture(name: string): { dir: string; targetPath: string; time: Date } {
  const dir = join(FIXTURES, name);
  const time = new Date(readFileSync(join(dir, 'faketime'), 'utf8').trim().replace(' ', 'T'));
  return { dir, targetPath: readFileSync(join(dir, 'targetpath'), 'utf8').trim(), time };
}

async function fetchAt(name: string, time?: Date): Promise<{ bytes: Buffer; expected: string }> {
  const f = fixture(name);
  using md = tempDir();
  const client = new TufClient({ repo: f.dir, root: join(f.dir, 'initial_root.json'), metadataDir: md.path, ...(time === undefined ? {} : { referenceTime: time }) });
  try {
    const fetched = await client.fetch(f.targetPath, md.path);
    const bytes = readFileSync(fetched.file);
    const stored = readdirSync(join(f.dir, 'targets', dirname(f.targetPath))).find((n) => n.endsWith(`.${basename(f.targetPath)}`)) ?? '';
    return { bytes, expected: stored.split('.')[0] ?? '' };
  } finally {
    client.close();
  }
}

describe('TufClient on repositories from other implementations', () => {
  for (const name of ['tuf-on-ci-0.11', 'sigstore-root-signing']) {
    it(`fetches ${name}'s target at its reference time`, async () => {
      const { bytes, expected } = await fetchAt(name, fixture(name).time);
      assert.equal(digestBytes(bytes), expected);
    });
  }

  it('refuses sigstore-root-signing at the present time (EXPIRED: freeze protection)', async () => {
    await assert.rejects(fetchAt('sigstore-root-signing'), { code: 'EXPIRED' });
  });

  it('refuses a reference time after the metadata expired', async () => {
    await assert.rejects(fetchAt('tuf-on-ci-0.11', new Date('2100-01-01T00:00:00Z')), { code: 'EXPIRED' });
  });
});
