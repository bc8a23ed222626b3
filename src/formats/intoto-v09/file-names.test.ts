import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../core/index.ts';
import { inspectionLinkFileName, linkFileName, sublayoutLinkDirName, unfinishedLinkFileName } from './file-names.ts';

const KEYID = '0123456789abcdef'.repeat(4);

describe('in-toto file names', () => {
  it('names files as the reference does', () => {
    assert.equal(linkFileName('build', KEYID), 'build.01234567.link');
    assert.equal(unfinishedLinkFileName('build', KEYID), '.build.01234567.link-unfinished');
    assert.equal(inspectionLinkFileName('untar'), 'untar.link');
    assert.equal(sublayoutLinkDirName('sub', KEYID), 'sub.01234567');
  });

  it('refuses step names that would leave the directory', () => {
    for (const name of ['', '.', '..', 'a/b', '../x', 'a\0']) {
      assert.throws(() => linkFileName(name, KEYID), (e: unknown) => e instanceof InputError && e.code === 'PATH_INVALID', name);
    }
  });
});
