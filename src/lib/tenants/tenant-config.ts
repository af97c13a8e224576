import { z } from 'zod';

/**
 * The v1 tenant config contract (design.md §3), stored as JSON at `tenantcfg:<tenantId>`.
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
        whisperUrl: z.string().url().optional(),
        chunkMs: z.number().int().positive().optional(),
        language: z.string().optional(),
      })
      .passthrough()
      .optional(),
    tts: z
      .object({
        mode: z.string(),
        kokoroUrl: z.string().url().optional(),
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

export function parseTenantConfig(raw: string, expectedTenantId: string): TenantConfigParse {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problems: ['not valid JSON'] };
  }
  const parsed = tenantConfigSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  }
  if (parsed.data.tenantId !== expectedTenantId) {
    return { ok: false, problems: [`tenantId "${parsed.data.tenantId}" does not match key tenant "${expectedTenantId}"`] };
  }
  return { ok: true, config: parsed.data };
}
