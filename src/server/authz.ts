// Authorization: roles → permissions, scoped to namespaces. Deny by default: a permission not
// listed for a role is refused, and a route that declares no permission is refused too (app.ts).
import type { Role } from '../store/index.ts';

export const ROLES = ['admin', 'maintainer', 'attester', 'signer', 'reviewer', 'reader'] as const satisfies readonly Role[];

export type Permission = 'attestations.read' | 'attestations.write' | 'tokens.manage' | 'audit.read' | 'log.append' | 'signing.sign' | 'tuf.write' | 'gate.verify' | 'identity.mint' | 'log.monitor';

/** Permissions over the whole server, not one namespace: they need a token scoped to '*'. */
const GLOBAL: ReadonlySet<Permission> = new Set(['tokens.manage', 'audit.read']);

/**
 * Permissions whose scope is not a namespace: the role check happens here, the route checks the
 * rest (tuf.write: which delegated TUF role the principal may add targets to, per `tuf.roles`;
 * log.monitor: the monitor's status of public logs, which no namespace holds).
 */
const ROUTE_SCOPED: ReadonlySet<Permission> = new Set(['tuf.write', 'gate.verify', 'log.monitor']);

// The matrix (docs/server.md repeats it). signer and reviewer read here; their own services
// (signing, reviews) add their write permissions.
const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(['attestations.read', 'attestations.write', 'tokens.manage', 'audit.read', 'log.append', 'signing.sign', 'tuf.write', 'gate.verify', 'identity.mint', 'log.monitor']),
  maintainer: new Set(['attestations.read', 'attestations.write', 'log.append', 'tuf.write', 'gate.verify', 'identity.mint', 'log.monitor']),
  attester: new Set(['attestations.read', 'attestations.write', 'log.append', 'gate.verify', 'identity.mint']),
  signer: new Set(['attestations.read', 'log.append', 'signing.sign', 'tuf.write', 'gate.verify', 'identity.mint', 'log.monitor']),
  reviewer: new Set(['attestations.read', 'gate.verify', 'log.monitor']),
  reader: new Set(['attestations.read', 'gate.verify', 'log.monitor']),
};

export interface Principal {
  /** Audit name: token:<id>, oidc:<issuer>#<subject> or cert:<name>#<fingerprint prefix>. */
  actor: string;
  kind: 'token' | 'oidc' | 'certificate';
  role: Role;
  /** Namespaces in scope; ['*'] = all. */
  namespaces: readonly string[];
}

export const DEFAULT_NAMESPACE = 'default';

export function isNamespace(name: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{0,62}$/.test(name);
}

export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

export type Decision = { allowed: true } | { allowed: false; reason: 'role' | 'namespace' };

export function authorize(principal: Principal, permission: Permission, namespace: string | null): Decision {
  if (!GRANTS[principal.role].has(permission)) return { allowed: false, reason: 'role' };
  const all = principal.namespaces.includes('*');
  if (GLOBAL.has(permission)) return all ? { allowed: true } : { allowed: false, reason: 'namespace' };
  if (ROUTE_SCOPED.has(permission)) return { allowed: true };
  if (all || (namespace !== null && principal.namespaces.includes(namespace))) return { allowed: true };
  return { allowed: false, reason: 'namespace' };
}
