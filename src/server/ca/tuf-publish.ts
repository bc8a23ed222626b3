// The keyless trust documents as TUF targets, the way Sigstore distributes its trust root: the
// server's trusted_root.json (CA, log, TSA) and signing_config.v0.2.json become targets of the
// TUF repository `custody serve` serves, listed by the (online) role the delegation tree gives
// those paths and signed with the server's online key. Clients then get custody's trust root
// through TUF (rollback, freeze and key-compromise protection) instead of trusting one HTTPS GET.
import { InputError, digestSetOfBytes } from '../../core/index.ts';
import type { TufRepository } from '../../tuf/index.ts';
import { keylessSigningConfig, keylessTrustedRoot, type KeylessTrustInput } from './trust.ts';

/** Target names of Sigstore's TUF repositories (sigstore/root-signing). */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json';

export interface TrustTarget {
  readonly path: string;
  readonly content: Buffer;
}

/** The two documents as target bytes (the JSON that GET /v1/ca/trusted-root and /signing-config answer). */
export function keylessTrustTargets(trust: KeylessTrustInput): TrustTarget[] {
  const bytes = (doc: Record<string, unknown>) => Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
  return [
    { path: TRUSTED_ROOT_TARGET, content: bytes(keylessTrustedRoot(trust)) },
    { path: SIGNING_CONFIG_TARGET, content: bytes(keylessSigningConfig(trust)) },
  ];
}

/**
 * Lists the targets in the role that holds each path for clients (TUF spec §5.6.7: the first
 * matching delegation, down the tree) when it differs from what that role lists now, and saves
 * the repository (the caller publishes). Returns the paths that changed: none when the server
 * restarts with the same CA, log and URL, so a restart makes no new version. Refuses, changing
 * nothing, when a role that would hold them is not one the server signs alone (e.g. the offline
 * top-level targets role).
 */
export async function stageKeylessTrust(repo: TufRepository, targets: readonly TrustTarget[]): Promise<string[]> {
  const changed = targets.filter((t) => {
    const now = repo.target(t.path)?.file;
    return now === undefined || now.length !== t.content.length || now.hashes['sha256'] !== digestSetOfBytes(t.content, ['sha256'])['sha256'];
  });
  if (changed.length === 0) return [];
  for (const t of changed) {
    const role = repo.resolveRole(t.path);
    if (!repo.canSignAlone(role)) {
      throw new InputError(
        'INPUT_INVALID',
        `server config: tuf: the keyless trust document ${t.path} falls to TUF role '${role}', which the server's online keys cannot sign: ` +
          `delegate ${TRUSTED_ROOT_TARGET} and ${SIGNING_CONFIG_TARGET} to an online role (custody repo delegate --role sigstore --paths ${TRUSTED_ROOT_TARGET} ${SIGNING_CONFIG_TARGET} --key online.pub --sign-key targets.key), ` +
          'or set tuf.keylessTrust: false and publish them offline',
      );
    }
  }
  repo.addTargets(changed.map((t) => ({ path: t.path, length: t.content.length, hashes: digestSetOfBytes(t.content, ['sha256', 'sha512']), content: t.content })));
  await repo.save();
  return changed.map((t) => t.path);
}
