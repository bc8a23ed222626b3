// Untrusted input to the gate: any JSON body gets a 200 AdmissionReview answer or a 400, never a
// crash; imagesOf never throws and finds only strings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import Fastify from 'fastify';
import { gatePlugin, imagesOf, type GateConfig } from '../../src/server/index.ts';
import { functionary, policy } from '../policy/policy-kit.ts';

const gate: GateConfig = {
  policies: [{ name: 'p', input: { document: policy({ name: 'p', functionaries: { b: functionary('b') }, steps: [{ name: 's', predicateTypes: ['https://slsa.dev/provenance/v1'], functionaries: ['b'] }] }) } }],
  trust: { allowUnsignedPolicy: true },
  mode: 'enforce',
  namespaces: { include: [], exclude: [] },
  attestationsFor: () => Promise.resolve([]),
  now: () => new Date(),
};

describe('gate on arbitrary input', () => {
  it('imagesOf returns strings or undefined for any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const images = imagesOf(v);
        assert.ok(images === undefined || images.every((i) => typeof i === 'string'));
      }),
    );
    const pod = (spec: unknown) => imagesOf({ kind: 'Pod', spec });
    fc.assert(fc.property(fc.jsonValue(), (v) => void pod({ containers: [{ image: 'x' }], initContainers: v })));
  });

  it('answers every JSON body with 200 or 400', async () => {
    const app = Fastify({ logger: false });
    await app.register(gatePlugin, { gate });
    const review = (request: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.jsonValue().map(review), fc.record({ uid: fc.string(), object: fc.jsonValue() }).map(review)), async (body) => {
        const res = await app.inject({ method: 'POST', url: '/v1/gate/admission', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        assert.ok([200, 400].includes(res.statusCode), `${res.statusCode} ${res.body}`);
      }),
      { numRuns: 200 },
    );
    await app.close();
  });
});
