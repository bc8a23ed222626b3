// custody audit verify|show: the server's hash-chained audit log, offline or through a server.
import { Command } from 'commander';
import { VerificationError } from '../core/index.ts';
import { verifyAuditOffline, withOfflineStore } from '../server/index.ts';
import { common, output, parsePositiveInt, type CommonOptions } from './io.ts';
import { addOfflineOptions, addServerOption, client, offlineTarget, type TargetOptions } from './server-target.ts';

async function verify(options: CommonOptions & TargetOptions): Promise<void> {
  const target = offlineTarget(options);
  const result = target === undefined ? await client(options).verifyAudit() : await verifyAuditOffline(target);
  output(
    options,
    result,
    result.ok
      ? `audit log verifies: ${result.entries} entries, head ${result.head.seq} ${result.head.hash}`
      : [`audit log does NOT verify (${result.problems.length} problem(s)):`, ...result.problems.map((p) => `  entry ${p.seq}: ${p.code}: ${p.message}`)],
  );
  if (!result.ok) throw new VerificationError('VERIFICATION_FAILED', `audit chain broken at entr${result.problems.length === 1 ? 'y' : 'ies'} ${result.problems.map((p) => p.seq).join(', ')}`);
}

interface ShowOptions extends CommonOptions, TargetOptions {
  after?: number;
  limit?: number;
}

async function show(options: ShowOptions): Promise<void> {
  const target = offlineTarget(options);
  const after = options.after ?? 0;
  const limit = options.limit ?? 100;
  const entries = target === undefined ? (await client(options).readAudit(after, limit)).items : await withOfflineStore(target, (store) => store.readAudit(after, limit));
  output(
    options,
    entries,
    entries.map((e) => `${e.seq}  ${e.at}  ${e.outcome.padEnd(7)} ${String(e.status).padEnd(3)} ${e.actor}  ${e.action}${e.namespace === null ? '' : ` [${e.namespace}]`}${e.target === null ? '' : ` ${e.target}`}`),
  );
}

export function auditCommand(): Command {
  const command = new Command('audit').description("the server's append-only, hash-chained audit log");
  command.addCommand(
    common(
      addServerOption(addOfflineOptions(new Command('verify').description('check every entry of the chain: finds edited, inserted or deleted entries'))).action(
        (o: CommonOptions & TargetOptions) => verify(o),
      ),
      'custody audit verify --data .custody/server',
    ),
  );
  command.addCommand(
    common(
      addServerOption(
        addOfflineOptions(
          new Command('show')
            .description('print audit entries, oldest first')
            .option('--after <seq>', 'entries after this sequence number', parsePositiveInt)
            .option('--limit <n>', 'at most this many (default 100)', parsePositiveInt),
        ),
      ).action((o: ShowOptions) => show(o)),
      'custody audit show --server http://127.0.0.1:8420 --after 1000',
    ),
  );
  return command;
}
