// Our own secret-scanning corpus: for every rule, one positive and one near miss. The fake secrets
// are assembled at run time from fragments and a seeded generator, so this file holds nothing that
// looks like a secret to a scanner (ours included).
let seed = 0x5eed;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
}
function pick(chars: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += chars[(rnd() >>> 12) % chars.length];
  return s;
}
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64 = `${ALNUM}+/`;
const HEX = '0123456789abcdef';
const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const BEGIN = '-----' + 'BEGIN';
const END = '-----' + 'END';

export interface CorpusCase {
  rule: string;
  positive: string;
  nearMiss: string;
  /** Why the near miss must not be reported. */
  why: string;
}

export function secretCorpus(): CorpusCase[] {
  seed = 0x5eed;
  const body = Array.from({ length: 3 }, () => pick(B64, 64)).join('\n');
  return [
    {
      rule: 'private-key',
      positive: `${BEGIN} OPENSSH PRIVATE KEY-----\n${body}\n${END} OPENSSH PRIVATE KEY-----\n`,
      nearMiss: `Paste your key here:\n${BEGIN} PRIVATE KEY-----\n...\n${END} PRIVATE KEY-----\n`,
      why: 'a header without key material',
    },
    { rule: 'aws-access-key-id', positive: `key_id: ${'AK' + 'IA'}${pick(UPPER + '234567', 16)}\n`, nearMiss: `key_id: ${'AK' + 'IA'}IOSFODNN7${'EXAM' + 'PLE'}\n`, why: "AWS's documented example id" },
    {
      rule: 'aws-secret-access-key',
      positive: `aws_secret_access_key = ${pick(ALNUM + '/+', 40)}\n`,
      nearMiss: `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY${'EXAMPLE' + 'KEY'}\n`,
      why: "AWS's documented example secret",
    },
    { rule: 'gcp-api-key', positive: `apiKey: ${'AI' + 'za'}${pick(ALNUM + '_-', 35)}\n`, nearMiss: `apiKey: ${'AI' + 'za'}${pick(ALNUM, 30)} (truncated)\n`, why: 'too short to be a key' },
    { rule: 'gcp-service-account-key', positive: `{"type": "service_account", "private_key_id": "${pick(HEX, 40)}"}\n`, nearMiss: `{"private_key_id": "${pick(HEX, 12)}"}\n`, why: 'not a 40-hex key id' },
    { rule: 'azure-storage-account-key', positive: `DefaultEndpointsProtocol=https;AccountName=x;${'Account' + 'Key='}${pick(ALNUM + '+/', 86)}==;\n`, nearMiss: `${'Account' + 'Key='}<your-storage-key>;\n`, why: 'a placeholder' },
    { rule: 'azure-ad-client-secret', positive: `client_credential: ${pick(ALNUM, 3)}8${'Q' + '~'}${pick(ALNUM + '_~.-', 34)}\n`, nearMiss: `client_credential: ${pick(LOWER, 3)}x${'Q' + '~'}${pick(ALNUM, 34)}\n`, why: 'no digit before Q~' },
    { rule: 'github-token', positive: `GITHUB = ${'gh' + 'p_'}${pick(ALNUM, 36)}\n`, nearMiss: `GITHUB = ${'gh' + 'p_'}${pick(ALNUM, 20)}\n`, why: 'wrong length' },
    { rule: 'gitlab-token', positive: `GITLAB = ${'glp' + 'at-'}${pick(ALNUM + '_-', 20)}\n`, nearMiss: `GITLAB = ${'glp' + 'at-'}xxxxxxxxxxxxxxxxxxxx\n`, why: 'a placeholder' },
    { rule: 'npm-token', positive: `NPM = ${'np' + 'm_'}${pick(ALNUM, 36)}\n`, nearMiss: `echo $${'np' + 'm_'}config_registry\n`, why: 'an npm config variable name' },
    { rule: 'npmrc-auth', positive: `//registry.npmjs.org/:${'_auth' + 'Token='}${pick(ALNUM, 36)}\n`, nearMiss: `//registry.npmjs.org/:${'_auth' + 'Token='}\${NPM_TOKEN}\n`, why: 'an environment reference' },
    { rule: 'slack-token', positive: `SLACK = ${'xo' + 'xb-'}${pick(DIGITS, 12)}-${pick(DIGITS, 13)}-${pick(ALNUM, 24)}\n`, nearMiss: `SLACK = ${'xo' + 'xb-'}your-bot-token\n`, why: 'a placeholder' },
    {
      rule: 'slack-webhook',
      positive: `url: https://hooks.${'sla' + 'ck'}.com/services/T${pick(UPPER + DIGITS, 9)}/B${pick(UPPER + DIGITS, 9)}/${pick(ALNUM, 24)}\n`,
      nearMiss: `url: https://hooks.${'sla' + 'ck'}.com/services/T000/B000/XXXX\n`,
      why: 'a shortened example',
    },
    { rule: 'stripe-secret-key', positive: `STRIPE = ${'sk' + '_live_'}${pick(ALNUM, 24)}\n`, nearMiss: `STRIPE_PUBLIC = ${'pk' + '_live_'}${pick(ALNUM, 24)}\n`, why: 'a publishable key is public' },
    {
      rule: 'jwt',
      positive: `Authorization: Bearer ${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'x' })}.${pick(ALNUM + '_-', 43)}\n`,
      nearMiss: `token: ${b64url({ alg: 'none' })}.${b64url({ sub: '1' })}.${pick(ALNUM, 20)}\n`,
      why: 'an unsigned JWT (alg none) carries no secret signature',
    },
    { rule: 'url-credentials', positive: `DATABASE_URL=postgres://app:${pick(ALNUM, 18)}@db.internal:5432/app\n`, nearMiss: 'DATABASE_URL=postgres://app:password@localhost:5432/app\n', why: "the literal word 'password'" },
    { rule: 'generic-secret-assignment', positive: `const apiKey = "${pick(ALNUM, 32)}";\n`, nearMiss: 'const password = "correct-horse-battery-staple";\n', why: 'a passphrase of plain words (low-entropy pattern)' },
  ];
}

/** A fresh, random positive for a rule that needs no context (for the history and staged tests). */
export function fakeGithubToken(): string {
  return `${'gh' + 'p_'}${pick(ALNUM, 36)}`;
}
