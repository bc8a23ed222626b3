// Tests for errors.ts: each error class's exit code, name, code and cause.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CustodyError, InputError, PolicyError, VerificationError, isCustodyError } from './errors.ts';

describe('errors', () => {
  describe('when an error is raised', () => {
    it('maps input errors to exit 2 and verification and policy failures to exit 1', () => {
      assert.equal(new InputError('PEM_INVALID', 'm').exitCode, 2);
      assert.equal(new VerificationError('SIGNATURE_INVALID', 'm').exitCode, 1);
      assert.equal(new PolicyError('POLICY_FAILED', 'm').exitCode, 1);
    });

    it('carries its stable code, its class name and the cause', () => {
      const cause = new Error('underlying');
      const e = new VerificationError('THRESHOLD_NOT_MET', '1 of 2', { cause });
      assert.equal(e.code, 'THRESHOLD_NOT_MET');
      assert.equal(e.name, 'VerificationError');
      assert.equal(e.message, '1 of 2');
      assert.equal(e.cause, cause);
      assert.ok(e instanceof CustodyError && e instanceof Error);
    });
  });

  describe('when telling custody errors from others', () => {
    it('recognizes the three kinds and nothing else', () => {
      assert.equal(isCustodyError(new InputError('USAGE', 'm')), true);
      assert.equal(isCustodyError(new VerificationError('KEY_UNKNOWN', 'm')), true);
      assert.equal(isCustodyError(new PolicyError('RULE_FAILED', 'm')), true);
      for (const other of [new Error('x'), new TypeError('x'), { code: 'USAGE', exitCode: 2 }, 'USAGE', null, undefined]) {
        assert.equal(isCustodyError(other), false);
      }
    });
  });
});
