// custody identity token: a short-lived workload ID token from the server's OIDC issuer, naming
// the calling principal (CUSTODY_TOKEN), the pipeline run and the step; for keyless signing.
import { Command } from 'commander';
import { InputError } from '../core/index.ts';
import { mintIdentityToken } from '../server/index.ts';
import { common, output, writeFileAtomic, type CommonOptions } from './io.ts';

interface TokenOptions extends CommonOptions {
  server?: string;
  step: string;
  ttl: string;
  run?: string;
  namespace?: string;
  audience?: string;
  out?: string;
}

/** `10m`, `90s`, `1h`, or plain seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,6})([smh]?)$/.exec(text);
  if (m === null) throw new InputError('USAGE', `--ttl '${text}' is not a duration such as 90s, 10m or 1h`);
  const n = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (n < 1) throw new InputError('USAGE', '--ttl must be at least 1 second');
  return n;
}

async function token(o: TokenOptions): Promise<void> {
  const server = o.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined) throw new InputError('USAGE', 'pass --server URL (or set CUSTODY_SERVER)');
  const run = o.run ?? process.env['CUSTODY_RUN_ID'];
  const minted = await mintIdentityToken(server, process.env['CUSTODY_TOKEN'], {
    step: o.step,
    ttlSeconds: parseTtl(o.ttl),
    ...(run === undefined || run === '' ? {} : { run }),
    ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
    ...(o.audience === undefined ? {} : { audience: o.audience }),
  });
  if (o.out !== undefined) writeFileAtomic(o.out, `${minted.token}\n`, 0o600);
  output(o, { ...minted, ...(o.out === undefined ? {} : { token: undefined, out: o.out }) }, o.out === undefined ? minted.token : `wrote ${o.out} (${minted.subject}, expires ${minted.expiresAt})`);
}

export function identityCommand(): Command {
  const identity = new Command('identity').description('workload identity: short-lived OIDC ID tokens for keyless signing');
  identity.addCommand(
    common(
      new Command('token')
        .description('mint an ID token for a pipeline step (the principal is $CUSTODY_TOKEN)')
        .option('--server <url>', 'custody server (default: $CUSTODY_SERVER)')
        .requiredOption('--step <name>', 'the pipeline step the token names')
        .option('--ttl <duration>', 'lifetime, e.g. 10m', '10m')
        .option('--run <id>', 'pipeline run id (default: $CUSTODY_RUN_ID)')
        .option('--namespace <ns>', 'namespace the principal acts in')
        .option('--audience <aud>', "audience (default: the server's, 'sigstore')")
        .option('--out <file>', 'write the token to this file (mode 0600) instead of stdout')
        .action((o: TokenOptions) => token(o)),
      'custody identity token --server https://custody.example --step build --ttl 10m --out id.jwt',
    ),
  );
  return identity;
}
