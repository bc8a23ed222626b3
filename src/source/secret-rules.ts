// Secret detection rules. Each rule: a regex whose group "secret" is the secret, a cheap literal
// prefilter, and optional checks that cut false positives (entropy, placeholders, decodable JWT).
// Patterns follow the token formats the issuers document (GitHub, GitLab, npm, Slack, Stripe,
// AWS, Google, Azure) and the rule set of secretlint's recommended preset, which we evaluated and
// did not take as a dependency (docs/source.md, "Secret scanning").

export interface SecretRule {
  readonly id: string;
  readonly description: string;
  /** Global regex; the named group "secret" (or the whole match) is the secret. */
  readonly pattern: RegExp;
  /** Literals one of which must appear in the text for the rule to run (case-sensitive). */
  readonly keywords: readonly string[];
  /** When there are no keywords: a regex the text must match for the rule to run. */
  readonly prefilter?: RegExp;
  /** Extra check on the secret: false drops the match. */
  readonly accept?: (secret: string, match: RegExpExecArray) => boolean;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Values that are obviously not secrets: templates, env references, masks, examples. */
export function isPlaceholder(value: string): boolean {
  const v = value.toLowerCase();
  if (/^[<{[$%]|[}>\]]$|\$\{|\{\{|process\.env|os\.environ|getenv/.test(value)) return true;
  if (/(?:example|placeholder|changeme|your[_-]|dummy|sample|redacted|xxxx|\*\*\*\*|\.\.\.)/.test(v)) return true;
  // One character repeated, or a plain run like "abcdef..." / "12345...".
  if (/^(.)\1+$/.test(value)) return true;
  return false;
}

function notPlaceholder(secret: string): boolean {
  return !isPlaceholder(secret);
}

function entropyAtLeast(bits: number): (secret: string) => boolean {
  return (secret) => !isPlaceholder(secret) && shannonEntropy(secret) >= bits;
}

function decodesToJson(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const KEYWORD_NAMES = String.raw`(?:secret|token|passwd|password|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|client[_-]?secret|private[_-]?key|credential)`;

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'private-key',
    description: 'Private key (PEM, OpenSSH, PGP) with key material',
    pattern: /-----BEGIN (?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----\r?\n(?<secret>(?:[A-Za-z0-9+/=:\- ]*\r?\n){0,4}[A-Za-z0-9+/=]{60,})/g,
    keywords: ['PRIVATE KEY'],
  },
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id',
    pattern: /\b(?<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b/g,
    keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    accept: (s) => !s.endsWith('EXAMPLE'),
  },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key assigned to an AWS-named variable',
    pattern: /aws[\w.-]{0,20}?(?:secret|private)[\w.-]{0,20}?["']?\s*[:=]\s*["']?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    keywords: ['aws', 'AWS', 'Aws'],
    accept: entropyAtLeast(4.0),
  },
  {
    id: 'gcp-api-key',
    description: 'Google Cloud / Firebase API key',
    pattern: /\b(?<secret>AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g,
    keywords: ['AIza'],
    accept: notPlaceholder,
  },
  {
    id: 'gcp-service-account-key',
    description: 'Google Cloud service account key file (private_key_id)',
    pattern: /"private_key_id"\s*:\s*"(?<secret>[a-f0-9]{40})"/g,
    keywords: ['private_key_id'],
  },
  {
    id: 'azure-storage-account-key',
    description: 'Azure storage account key in a connection string',
    pattern: /AccountKey=(?<secret>[A-Za-z0-9+/]{86}==)/g,
    keywords: ['AccountKey='],
  },
  {
    id: 'azure-ad-client-secret',
    description: 'Microsoft Entra ID (Azure AD) client secret',
    pattern: /(?<![A-Za-z0-9_~.-])(?<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])/g,
    keywords: ['Q~'],
    accept: entropyAtLeast(3.5),
  },
  {
    id: 'github-token',
    description: 'GitHub personal access, OAuth, app or refresh token',
    pattern: /\b(?<secret>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b/g,
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    accept: entropyAtLeast(3.0),
  },
  {
    id: 'gitlab-token',
    description: 'GitLab personal, project, group or runner token',
    pattern: /\b(?<secret>(?:glpat|glptt|glrt|gldt|glcbt)-[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])/g,
    keywords: ['glpat-', 'glptt-', 'glrt-', 'gldt-', 'glcbt-'],
    accept: entropyAtLeast(3.0),
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    pattern: /\b(?<secret>npm_[A-Za-z0-9]{36})\b/g,
    keywords: ['npm_'],
    accept: entropyAtLeast(3.0),
  },
  {
    id: 'npmrc-auth',
    description: 'Registry credential in an .npmrc (_authToken / _auth / _password)',
    pattern: /(?:_authToken|_auth|_password)\s*=\s*(?<secret>[^\s$"'][^\s"']{15,})/g,
    keywords: ['_authToken', '_auth', '_password'],
    accept: notPlaceholder,
  },
  {
    id: 'slack-token',
    description: 'Slack bot, user, app or legacy token',
    pattern: /\b(?<secret>xox[abposr]-(?:\d+-)+[A-Za-z0-9]{8,})\b/g,
    keywords: ['xox'],
    accept: entropyAtLeast(3.0),
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming webhook URL',
    pattern: /(?<secret>https:\/\/hooks\.slack\.com\/(?:services|workflows)\/T[A-Z0-9]{8,}\/B[A-Z0-9]{8,}\/[A-Za-z0-9]{24})/g,
    keywords: ['hooks.slack.com'],
  },
  {
    id: 'stripe-secret-key',
    description: 'Stripe secret or restricted key',
    pattern: /\b(?<secret>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99})\b/g,
    keywords: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    accept: entropyAtLeast(3.5),
  },
  {
    id: 'jwt',
    description: 'JSON Web Token (decodable header with "alg")',
    pattern: /\b(?<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})/g,
    keywords: ['eyJ'],
    accept: (s) => {
      const [h, p] = s.split('.');
      const header = decodesToJson(h ?? '');
      return header !== undefined && typeof header['alg'] === 'string' && header['alg'] !== 'none' && decodesToJson(p ?? '') !== undefined;
    },
  },
  {
    id: 'url-credentials',
    description: 'Password in a database or service URL (scheme://user:password@host)',
    pattern: /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|https?|ftp):\/\/[^\s:/@'"]+:(?<secret>[^\s@/'"]{6,})@[A-Za-z0-9.-]+/g,
    keywords: ['://'],
    // "password", "somepassword", "my-secret": documentation, not credentials.
    accept: (s) => !isPlaceholder(s) && !/pass(?:word)?|secret|pwd|^\$\w+$/i.test(s) && shannonEntropy(s) >= 2.5,
  },
  {
    id: 'generic-secret-assignment',
    description: 'High-entropy value assigned to a secret-named variable',
    pattern: new RegExp(String.raw`(?<name>[A-Za-z0-9_.-]*${KEYWORD_NAMES}[A-Za-z0-9_.-]*)["']?\s*(?::=|=>|[:=])\s*["'\`](?<secret>[^"'\`\s]{16,200})["'\`]`, 'gi'),
    keywords: [],
    prefilter: new RegExp(KEYWORD_NAMES, 'i'),
    accept: (s, m) => {
      const name = (m.groups?.['name'] ?? '').toLowerCase();
      // Names that hold public or derived values, not secrets.
      if (/(?:public|_url|uri|path|file|name|id$|_id$|type|format|length|size|count|hash|digest|checksum|sha|example|test|mock|fake)/.test(name)) return false;
      // Printable ASCII only (translated messages are not secrets); URNs name things, they do not unlock them.
      if (!/^[\x21-\x7e]+$/.test(s) || s.startsWith('urn:')) return false;
      return !isPlaceholder(s) && !/^[a-z]+(?:[._-][a-z]+)*$/i.test(s) && shannonEntropy(s) >= 3.5;
    },
  },
];
