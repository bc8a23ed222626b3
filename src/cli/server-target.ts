// Where server commands act: offline on a data directory or config (--data, --config), or through
// a running server (--server URL, or CUSTODY_SERVER), with the token from CUSTODY_TOKEN.
import { Option, type Command } from 'commander';
import { InputError } from '../core/index.ts';
import { CustodyClient, type OfflineTarget } from '../server/index.ts';

export interface TargetOptions {
  data?: string;
  config?: string;
  server?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

export function addServerOption(command: Command): Command {
  return command
    .addOption(new Option('--server <url>', 'server URL (default: $CUSTODY_SERVER); token from $CUSTODY_TOKEN'))
    .addOption(new Option('--cacert <file>', 'https: CA certificate (PEM) to trust for the server (default: $CUSTODY_CACERT)'))
    .addOption(new Option('--cert <file>', 'https: client certificate (PEM) for mTLS (default: $CUSTODY_CERT)'))
    .addOption(new Option('--key <file>', 'https: private key (PEM) of --cert (default: $CUSTODY_KEY)'));
}

export function addOfflineOptions(command: Command): Command {
  return command
    .addOption(new Option('--data <dir>', 'act offline on this server data directory (SQLite store)'))
    .addOption(new Option('--config <file>', 'act offline on the store named in this server config'));
}

export function client(options: TargetOptions): CustodyClient {
  const server = options.server ?? process.env['CUSTODY_SERVER'];
  if (server === undefined || server === '') throw new InputError('USAGE', 'no server: pass --server URL or set CUSTODY_SERVER');
  const tls = { ...(options.cacert === undefined ? {} : { cacert: options.cacert }), ...(options.cert === undefined ? {} : { cert: options.cert }), ...(options.key === undefined ? {} : { key: options.key }) };
  return new CustodyClient({ server, tls });
}

/** The offline target when --data or --config is given, else undefined (use the server). */
export function offlineTarget(options: TargetOptions): OfflineTarget | undefined {
  if (options.data === undefined && options.config === undefined) return undefined;
  if (options.server !== undefined) throw new InputError('USAGE', 'pass either --server or --data/--config, not both');
  return { ...(options.data === undefined ? {} : { data: options.data }), ...(options.config === undefined ? {} : { config: options.config }) };
}
