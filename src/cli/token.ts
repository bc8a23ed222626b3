// custody token create|list|revoke: API tokens, offline on the data directory (the first admin
// token) or through a server as an admin.
import { Command, Option } from 'commander';
import { InputError } from '../core/index.ts';
import { createTokenOffline, listTokensOffline, revokeTokenOffline, ROLES } from '../server/index.ts';
import { collect, common, output, type CommonOptions } from './io.ts';
import { addOfflineOptions, addServerOption, client, offlineTarget, type TargetOptions } from './server-target.ts';

interface CreateOptions extends CommonOptions, TargetOptions {
  role: string;
  namespace?: string[];
  expires?: string;
  description?: string;
}

async function create(options: CreateOptions): Promise<void> {
  const request = {
    role: options.role,
    namespaces: options.namespace ?? [],
    ...(options.expires === undefined ? {} : { expires: options.expires }),
    ...(options.description === undefined ? {} : { description: options.description }),
  };
  const target = offlineTarget(options);
  const created = target === undefined ? await client(options).createToken(request) : await createTokenOffline(target, request);
  output(options, created, [
    created.token,
    `token ${created.record.id}: role ${created.record.role}, namespaces ${created.record.namespaces.join(', ')}, expires ${created.record.expiresAt ?? 'never'}`,
    'This is the only time the token is shown: store it now (CUSTODY_TOKEN).',
  ]);
}

async function list(options: CommonOptions & TargetOptions): Promise<void> {
  const target = offlineTarget(options);
  const tokens = target === undefined ? await client(options).listTokens() : await listTokensOffline(target);
  output(
    options,
    tokens,
    tokens.map((t) => `${t.id}  ${t.role.padEnd(10)} ${t.namespaces.join(',').padEnd(16)} expires ${t.expiresAt ?? 'never'}${t.revokedAt === null ? '' : `  REVOKED ${t.revokedAt}`}  ${t.description}`),
  );
}

async function revoke(id: string, options: CommonOptions & TargetOptions): Promise<void> {
  const target = offlineTarget(options);
  if (target === undefined) await client(options).revokeToken(id);
  else if (!(await revokeTokenOffline(target, id))) throw new InputError('USAGE', `no active token ${id}`);
  output(options, { id, revoked: true }, `revoked token ${id}`);
}

export function tokenCommand(): Command {
  const command = new Command('token').description('API tokens for the server (shown once, stored hashed, expiring, revocable)');
  command.addCommand(
    common(
      addServerOption(
        addOfflineOptions(
          new Command('create')
            .description('create a token; the first admin token is made offline with --data')
            .addOption(new Option('--role <role>', 'role').choices(ROLES).makeOptionMandatory())
            .option('--namespace <name>', "namespace the token may act in ('*' for all); repeat for several", collect)
            .option('--expires <when>', "30d, 12h, 2w, an ISO 8601 time, or 'never' (default 90d)")
            .option('--description <text>', 'what the token is for'),
        ),
      ).action((o: CreateOptions) => create(o)),
      'custody token create --data .custody/server --role admin',
      'custody token create --server http://127.0.0.1:8420 --role attester --namespace app --expires 30d',
    ),
  );
  command.addCommand(
    common(
      addServerOption(addOfflineOptions(new Command('list').description('list tokens (never their secrets)'))).action((o: CommonOptions & TargetOptions) => list(o)),
      'custody token list --data .custody/server',
    ),
  );
  command.addCommand(
    common(
      addServerOption(addOfflineOptions(new Command('revoke').description('revoke a token by id').argument('<id>', 'token id (as token list shows)'))).action(
        (id: string, o: CommonOptions & TargetOptions) => revoke(id, o),
      ),
      'custody token revoke 0123456789abcdef --server http://127.0.0.1:8420',
    ),
  );
  return command;
}
