// custody gate serve: the deploy gate as its own HTTPS server (Kubernetes validating admission
// webhook + POST /v1/gate/verify). This file is its composition root: it loads the policies and
// plugs in the attestation source (a directory with one sub-directory per image digest).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Command, Option } from 'commander';
import { InputError, type DigestSet } from '../core/index.ts';
import { loadPublicKeyFile } from '../keys/index.ts';
import { policyInputFromBytes, type AttestationInput, type PolicyInput } from '../policy/index.ts';
import { gatePlugin, type GateConfig } from '../server/index.ts';
import { collect, common, parsePositiveInt, readFileOrFail, type CommonOptions } from './io.ts';
import { keylessVerifierFromFile } from './keyless-verifier.ts';
import { loadAttestationDir } from './verify-policy.ts';

export interface GateServeOptions extends CommonOptions {
  policy: string[];
  policyKey?: string[];
  policyThreshold?: number;
  allowUnsignedPolicy?: boolean;
  /** Sigstore trusted_root.json verifying keyless attestations (identity functionaries). */
  trustedRoot?: string;
  attestations: string;
  mode?: 'enforce' | 'warn';
  namespace?: string[];
  excludeNamespace?: string[];
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  port?: number;
  host?: string;
}

function loadPolicyInput(path: string, allowUnsigned: boolean): PolicyInput {
  return policyInputFromBytes(readFileOrFail(path, 'policy'), path, { allowed: allowUnsigned, code: 'USAGE', hint: 'pass --allow-unsigned-policy' });
}

/** DIR/sha256-<hex>/ (or sha256:<hex>) holds the attestations of one image digest. */
function directorySource(dir: string): (digest: DigestSet) => Promise<readonly AttestationInput[]> {
  return (digest) => {
    const hex = digest['sha256'] ?? '';
    const sub = [`sha256-${hex}`, `sha256:${hex}`].map((n) => join(dir, n)).find((p) => existsSync(p));
    return Promise.resolve(sub === undefined ? [] : loadAttestationDir(sub).attestations);
  };
}

export function gateConfig(options: GateServeOptions): GateConfig {
  if (options.policy.length === 0) throw new InputError('USAGE', 'the gate needs at least one --policy');
  const owners = (options.policyKey ?? []).map((k) => loadPublicKeyFile(k));
  return {
    policies: options.policy.map((p) => ({ name: p.split('/').at(-1) ?? p, input: loadPolicyInput(p, options.allowUnsignedPolicy === true) })),
    trust: {
      owners: { keys: owners, threshold: options.policyThreshold ?? 1 },
      allowUnsignedPolicy: options.allowUnsignedPolicy === true,
      ...(options.trustedRoot === undefined ? {} : { keyless: keylessVerifierFromFile(options.trustedRoot) }),
    },
    mode: options.mode ?? 'enforce',
    namespaces: { include: options.namespace ?? [], exclude: options.excludeNamespace ?? [] },
    attestationsFor: directorySource(options.attestations),
    now: () => new Date(),
  };
}

/** Builds the gate server (HTTPS unless --insecure-http); tests call it directly. */
export async function buildGateServer(options: GateServeOptions, logger = false): Promise<FastifyInstance> {
  let https: { cert: Buffer; key: Buffer } | undefined;
  if (options.insecureHttp !== true) {
    if (options.tlsCert === undefined || options.tlsKey === undefined) throw new InputError('USAGE', 'the admission webhook needs --tls-cert and --tls-key (Kubernetes calls webhooks over HTTPS)');
    https = { cert: readFileSync(options.tlsCert), key: readFileSync(options.tlsKey) };
  }
  const gate = gateConfig(options);
  if (https === undefined) {
    const app = Fastify({ logger, bodyLimit: 4 * 1024 * 1024 });
    await app.register(gatePlugin, { gate });
    return app;
  }
  const app = Fastify({ logger, bodyLimit: 4 * 1024 * 1024, https });
  await app.register(gatePlugin, { gate });
  return app;
}

async function serve(options: GateServeOptions): Promise<void> {
  const app = await buildGateServer(options, true);
  const address = await app.listen({ port: options.port ?? 8443, host: options.host ?? '127.0.0.1' });
  process.stderr.write(`custody gate (${options.mode ?? 'enforce'}) listening on ${address}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void app.close().then(() => resolve());
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function gateCommand(): Command {
  const gate = new Command('gate').description('deploy gate: admit workloads only when their images\' attestations pass policy');
  gate.addCommand(
    common(
      new Command('serve')
        .description('serve the Kubernetes validating admission webhook (POST /v1/gate/admission) and POST /v1/gate/verify')
        .addOption(new Option('--policy <file>', 'policy every image must pass; repeat').argParser(collect).makeOptionMandatory())
        .addOption(new Option('--policy-key <file>', 'public key of a policy owner; repeat').argParser(collect))
        .addOption(new Option('--policy-threshold <n>', 'owner keys that must have signed each policy').argParser(parsePositiveInt))
        .option('--allow-unsigned-policy', 'accept unsigned policy documents (testing only)')
        .option('--trusted-root <file>', 'Sigstore trusted_root.json (GET /v1/ca/trusted-root) verifying keyless attestations for identity functionaries')
        .requiredOption('--attestations <dir>', 'directory with one sub-directory per image digest (sha256-<hex>/)')
        .addOption(new Option('--mode <mode>', 'enforce (deny) or warn (admit with warnings)').choices(['enforce', 'warn']).default('enforce'))
        .addOption(new Option('--namespace <ns>', 'check only these namespaces; repeat').argParser(collect))
        .addOption(new Option('--exclude-namespace <ns>', 'never check these namespaces; repeat').argParser(collect))
        .option('--tls-cert <file>', 'server certificate (PEM)')
        .option('--tls-key <file>', 'server private key (PEM)')
        .option('--insecure-http', 'serve plain HTTP (local testing only)')
        .addOption(new Option('--port <n>', 'port').argParser(parsePositiveInt).default(8443))
        .option('--host <addr>', 'address to listen on', '127.0.0.1')
        .action((o: GateServeOptions) => serve(o)),
      'custody gate serve --policy release.json --policy-key owner.pub --attestations /var/lib/custody/atts --tls-cert tls.crt --tls-key tls.key --exclude-namespace kube-system',
    ),
  );
  return gate;
}
