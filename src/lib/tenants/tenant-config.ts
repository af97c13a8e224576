import { z } from 'zod';
import { checkUrl, STRICT_URL_POLICY, type UrlPolicy } from '../net/url-policy';

/**
 * The v1 tenant config contract (docs/design.md §Contracts), stored as JSON at `tenantcfg:<tenantId>`.
 * Documents written by the original product must parse unchanged, so every object is passthrough
 * (unknown keys kept) and only the fields the runtime relies on are checked.
 */
const positiveInt = z.number().int().positive();

export const tenantConfigSchema = z
  .object({
    contractVersion: z.literal('v1'),
    tenantId: z.string().min(1),
    dids: z.array(z.string()).default([]),
    caps: z
      .object({
        maxConcurrentCallsTenant: positiveInt.optional(),
        maxCallsPerMinuteTenant: positiveInt.optional(),
        maxConcurrentCallsGlobal: positiveInt.optional(),
      })
      .passthrough()
      .default({}),
    stt: z
      .object({
        mode: z.enum(['whisper_http', 'http_wav_json', 'disabled']),
        whisperUrl: z.string().optional(), // checked by the URL policy (urlProblems)
        chunkMs: z.number().int().positive().optional(),
        language: z.string().optional(),
      })
      .passthrough()
      .optional(),
    /** Turn-taking for this tenant's callers (unset fields: the TURN_* environment defaults). */
    turnTaking: z
      .object({
        mode: z.enum(['transcript', 'silence']).optional(),
        completeSilenceMs: z.number().int().min(0).max(10_000).optional(),
        incompleteSilenceMs: z.number().int().min(0).max(10_000).optional(),
        speculativeReply: z.boolean().optional(),
        /** Words that leave a sentence unfinished ("… for"), added to the built-in list of the tenant's language. */
        trailingWords: z.array(z.string().regex(/^\S{1,40}$/, 'one word')).max(200).optional(),
        /** Whole answers that end a turn without punctuation ("yes please"), added likewise. */
        shortAnswers: z.array(z.string().min(1).max(80)).max(200).optional(),
        /** Words that, alone or in pairs, acknowledge without taking the turn ("ja", "genau"), added to the English list. */
        backchannels: z.array(z.string().regex(/^\S{1,40}$/, 'one word')).max(200).optional(),
      })
      .passthrough()
      .optional(),
    tts: z
      .object({
        mode: z.string(),
        kokoroUrl: z.string().optional(), // checked by the URL policy (urlProblems)
        voice: z.string().optional(),
        format: z.string().optional(),
        sampleRate: z.number().int().positive().optional(),
        rate: z.number().positive().optional(),
      })
      .passthrough()
      .optional(),
    audio: z.object({ publicBaseUrl: z.string().optional(), storageDir: z.string().optional() }).passthrough().optional(),
    greeting: z.string().optional(),
    quickReplies: z.array(z.object({ match: z.array(z.string()), reply: z.string() }).passthrough()).optional(),
    assistantContext: z.record(z.string(), z.unknown()).optional(),
    transferProfiles: z.array(z.unknown()).optional(),
    callForwarding: z.object({ enabled: z.boolean().optional(), destination: z.string().optional() }).passthrough().optional(),
    /**
     * Browser calls (/hd-call). Absent: allowed, with the WEBRTC_* env defaults. Their caps are
     * separate from `caps` (the phone line's), so browser traffic never takes a phone slot.
     */
    webrtc: z
      .object({
        /** false: every offer for this tenant is refused. */
        enabled: z.boolean().optional(),
        maxConcurrentCalls: positiveInt.optional(),
        maxCallsPerMinute: positiveInt.optional(),
        /** Offers must carry a join token signed with joinTokenSecret (default WEBRTC_REQUIRE_JOIN_TOKEN). */
        requireJoinToken: z.boolean().optional(),
        joinTokenSecret: z.string().optional(),
      })
      .passthrough()
      .optional(),
    webhookSecret: z.string().optional(),
    webhookSecretRef: z.string().optional(),
  })
  .passthrough();

export type TenantConfig = z.output<typeof tenantConfigSchema>;

export type TenantConfigParse = { ok: true; config: TenantConfig } | { ok: false; problems: string[] };

/** A key whose string value is a URL the runtime (or Telnyx, on its behalf) may fetch: `whisperUrl`, `webhookURL` … */
const URL_KEY = /url$/i;
/** Top-level keys holding free text for the brain, never fetched by the runtime. */
const NOT_FETCHED = new Set(['assistantContext', 'quickReplies', 'greeting']);
/** Deeper than any real document; bounds the walk over a hand-written one. */
const MAX_WALK_DEPTH = 16;

/**
 * Every URL field of the document (known ones like `stt.whisperUrl`, `tts.kokoroUrl`,
 * `audio.publicBaseUrl`, and any other key ending in "url" — other TTS modes' servers, future keys)
 * checked against the URL policy; one problem per refused field, named by its path.
 */
function urlProblems(json: unknown, policy: UrlPolicy): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (path.length > MAX_WALK_DEPTH || !value || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      if (path.length === 0 && NOT_FETCHED.has(key)) continue;
      const at = [...path, key];
      if (typeof v === 'string' && URL_KEY.test(key)) {
        const verdict = checkUrl(v, policy);
        if (!verdict.ok) problems.push(`${at.join('.')}: ${verdict.reason}`);
      } else visit(v, at);
    }
  };
  visit(json, []);
  return problems;
}

/**
 * Parses and checks a `tenantcfg:<id>` document: the schema, then every URL field against `urlPolicy`
 * (default: no host allowlisted). Every problem is reported at once, each naming its field.
 */
export function parseTenantConfig(raw: string, expectedTenantId: string, urlPolicy: UrlPolicy = STRICT_URL_POLICY): TenantConfigParse {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problems: ['not valid JSON'] };
  }
  const parsed = tenantConfigSchema.safeParse(json);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  problems.push(...urlProblems(json, urlPolicy));
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  if (parsed.data.tenantId !== expectedTenantId) {
    return { ok: false, problems: [`tenantId "${parsed.data.tenantId}" does not match key tenant "${expectedTenantId}"`] };
  }
  return { ok: true, config: parsed.data };
}
