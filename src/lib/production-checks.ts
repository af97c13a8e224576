/**
 * Rules that hold only with NODE_ENV=production: no published example value and no short secret
 * guards a production deployment, /metrics is never open, and the local test switches stay off.
 * Pure: gets the raw environment strings, so these problems are reported even when other variables
 * fail to parse (one pass fixes a deployment).
 */

/**
 * Every secret-looking value published in `.env.example`, `.env.development.example` and the
 * README's smoke-test instructions. The one list: tests/integration/production-safety.test.ts checks
 * that every secret in both example files is on it.
 */
export const EXAMPLE_SECRET_VALUES: readonly string[] = [
  'KEY_placeholder_replace_me', // TELNYX_API_KEY
  // TELNYX_PUBLIC_KEY of the examples and tests: a valid Ed25519 key that is not Telnyx's.
  'ISxjlWQt9WmNqc4z4f9CNAmm08YM0FkAB7NR0oN7MTs=',
  // TELNYX_PUBLIC_KEY that `npm run load-test:calls` prints for a runtime you start yourself: its private key is
  // derived from a seed written in that script, so anyone can sign webhooks for it.
  'uEd1CjfiyYQI7FSFvyCEt+XIAgvXH4h1H8gbI8ocxMw=',
  'devtoken-change-me', // MEDIA_STREAM_TOKEN
  'devtoken', // MEDIA_STREAM_TOKEN in the smoke-test instructions
  'devsecret', // TELNYX_WEBHOOK_SECRET
  'change-me', // ADMIN_PASSWORD
  'metrics-token-change-me', // METRICS_TOKEN
];

/** A value that still says "change me" was never replaced, whatever else was appended to it. */
const PLACEHOLDER_WORDS = /change[-_ ]?me|replace[-_ ]?me|placeholder/i;

/**
 * 32 characters: `openssl rand -hex 16` (128 bits), the least a bearer secret reachable from the
 * internet should have; `openssl rand -hex 32` gives 64.
 */
export const PRODUCTION_SECRET_MIN_LENGTH = 32;

/** Checked against the example list and placeholder words. */
const SECRET_VARS = ['TELNYX_API_KEY', 'TELNYX_PUBLIC_KEY', 'MEDIA_STREAM_TOKEN', 'TELNYX_WEBHOOK_SECRET', 'ADMIN_PASSWORD', 'METRICS_TOKEN'] as const;
/** Ours to choose (Telnyx issues the API key and the public key), so also held to the length rule. */
const OWN_SECRETS: ReadonlySet<string> = new Set(['MEDIA_STREAM_TOKEN', 'TELNYX_WEBHOOK_SECRET', 'ADMIN_PASSWORD', 'METRICS_TOKEN']);

const GENERATE = 'e.g. openssl rand -hex 32';

export interface ProductionInputs {
  /** Raw environment; blank values count as unset. */
  env: Readonly<Record<string, string | undefined>>;
  /** TELNYX_WEBHOOK_HMAC_ENABLED as parsed (the local HMAC scheme). */
  hmacWebhooksEnabled: boolean;
}

/** One problem per variable, `NAME: reason`, in the ConfigError style. */
export function productionProblems({ env, hmacWebhooksEnabled }: ProductionInputs): string[] {
  const problems: string[] = [];
  for (const name of SECRET_VARS) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (EXAMPLE_SECRET_VALUES.includes(value) || PLACEHOLDER_WORDS.test(value)) {
      const fix = OWN_SECRETS.has(name) ? `a random secret (${GENERATE})` : 'the value from the Telnyx portal';
      problems.push(`${name}: is an example placeholder value; production needs ${fix}`);
    } else if (OWN_SECRETS.has(name) && value.length < PRODUCTION_SECRET_MIN_LENGTH) {
      problems.push(`${name}: too short for production (>= ${PRODUCTION_SECRET_MIN_LENGTH} chars, ${GENERATE})`);
    }
  }
  if (!env.METRICS_TOKEN?.trim()) {
    problems.push(`METRICS_TOKEN: required in production (bearer token of /metrics and of the /health details, ${GENERATE})`);
  }
  if (hmacWebhooksEnabled) {
    problems.push('TELNYX_WEBHOOK_HMAC_ENABLED: not allowed in production (the local HMAC scheme is for tests and smoke scripts; Telnyx signs with Ed25519)');
  }
  return problems;
}
