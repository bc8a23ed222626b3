// The keyless flags of the attesting commands (`source verify --attest`, `run --provenance`,
// `scan vulns --attest`, `verify --vsa-keyless`): the same names and environment as `attest
// --keyless` (--server / $CUSTODY_SERVER, --identity-token / $CUSTODY_IDENTITY_TOKEN, or an ID
// token minted for --step with $CUSTODY_TOKEN), and one signing path (keylessAttestation) that
// writes a Sigstore bundle v0.3 holding the DSSE envelope (docs/keyless.md).
import type { Command } from 'commander';
import { InputError, type PrivateKey, type Statement } from '../core/index.ts';
import { keylessAttestation, type KeylessAttestOptions } from './attest-keyless.ts';
import { writeFileAtomic } from './io.ts';
import { loadSigningKey } from './step-options.ts';

/** The token and server flags; `step` names the step a minted ID token is for. */
export type KeylessFlags = Pick<KeylessAttestOptions, 'server' | 'identityToken' | 'step' | 'ttl' | 'namespace'>;

const has = (command: Command, long: string): boolean => command.options.some((o) => o.long === long);

/**
 * Adds `flag` (e.g. --keyless) and the token flags a command does not have yet: --server,
 * --identity-token, --step, --ttl, --namespace (a command's own --server / --step keep their help).
 */
export function addKeylessOptions(command: Command, flag: string, what: string): Command {
  command.option(flag, `${what}: sign with an ephemeral key certified by the server CA for your workload identity; writes a Sigstore bundle (docs/keyless.md)`);
  if (!has(command, '--server')) command.option('--server <url>', 'keyless: the custody server (default: $CUSTODY_SERVER)');
  if (!has(command, '--identity-token')) command.option('--identity-token <file>', 'keyless: OIDC ID token file (default: $CUSTODY_IDENTITY_TOKEN, else minted for --step)');
  if (!has(command, '--step')) command.option('--step <name>', 'keyless: mint the ID token for this pipeline step with $CUSTODY_TOKEN');
  if (!has(command, '--ttl')) command.option('--ttl <duration>', 'keyless: lifetime of a minted ID token', '10m');
  if (!has(command, '--namespace')) command.option('--namespace <ns>', 'keyless: namespace to mint the ID token in');
  return command;
}

/** Keyless excludes a key: one line, exit 2. */
export function refuseKeyWithKeyless(flag: string, key: unknown): void {
  const given = Array.isArray(key) ? key.length > 0 : key !== undefined;
  if (given) throw new InputError('USAGE', `${flag} signs with an ephemeral key: drop the key option`);
}

/** A command's signing key, or undefined with --keyless (an ephemeral key certified per statement). */
export function keyUnlessKeyless(flags: { keyless?: boolean; key?: string; passphraseEnv?: string }): PrivateKey | undefined {
  if (flags.keyless === true) {
    refuseKeyWithKeyless('--keyless', flags.key);
    return undefined;
  }
  if (flags.key === undefined) throw new InputError('USAGE', 'give -k/--key FILE, or --keyless');
  return loadSigningKey({ key: flags.key, ...(flags.passphraseEnv === undefined ? {} : { passphraseEnv: flags.passphraseEnv }) });
}

export interface KeylessWritten {
  path: string;
  identity: string;
  issuer: string;
  logIndex: number;
}

/** Signs the statement keylessly (certificate, log entry, time-stamp) and writes the bundle atomically. */
export async function writeKeylessStatement(statement: Statement<unknown>, path: string, flags: KeylessFlags): Promise<KeylessWritten> {
  const signed = await keylessAttestation(statement as Statement<object>, flags);
  writeFileAtomic(path, signed.text);
  return { path, identity: signed.identity, issuer: signed.issuer, logIndex: signed.logIndex };
}
