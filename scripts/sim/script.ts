/**
 * The demo conversation: what the simulated caller says (bundled audio of these lines lives in
 * scripts/sim/assets), the demo tenant (greeting + a quick reply) and what the scripted brain stand-in
 * answers. Shared by `npm run demo`, `npm run load-test:calls -- --speech` and their tests.
 */
import { normalizeForMatch } from '../../src/lib/brain/quick-replies';

export const CALLER_LINES: readonly string[] = [
  "Hi, I'd like to book a cleaning for next Tuesday.",
  'What are your opening hours?',
  'Two in the afternoon works for me, thank you.',
];

export const DEMO_TENANT_ID = 'demo-dental';
export const DEMO_DID = '+15551230000';
export const DEMO_CALLER = '+15550001111';
export const DEMO_GREETING = 'Thanks for calling Bright Smile Dental. How can I help you today?';
export const DEMO_HOURS_REPLY = "We're open Monday to Friday, from nine in the morning to five in the afternoon.";
export const DEMO_QUICK_REPLIES = [{ match: ['opening hours', 'hours', 'are you open'], reply: DEMO_HOURS_REPLY }];

/** The tenant document (`tenantcfg:<id>`, contractVersion v1) the demo and the load test seed. */
export function demoTenantConfig(opts: { tenantId?: string; did?: string; whisperUrl?: string; kokoroUrl?: string; maxConcurrent?: number; perMinute?: number } = {}): Record<string, unknown> {
  const tenantId = opts.tenantId ?? DEMO_TENANT_ID;
  return {
    contractVersion: 'v1',
    tenantId,
    dids: [opts.did ?? DEMO_DID],
    caps: { maxConcurrentCallsTenant: opts.maxConcurrent ?? 20, maxCallsPerMinuteTenant: opts.perMinute ?? 120 },
    stt: { mode: 'whisper_http', chunkMs: 1000, language: 'en', ...(opts.whisperUrl ? { whisperUrl: opts.whisperUrl } : {}) },
    tts: { mode: 'kokoro_http', ...(opts.kokoroUrl ? { kokoroUrl: opts.kokoroUrl } : {}) },
    greeting: DEMO_GREETING,
    quickReplies: DEMO_QUICK_REPLIES,
    assistantContext: { businessName: 'Bright Smile Dental', hours: 'Monday to Friday, nine to five' },
  };
}

export const BOOKING_REPLY =
  'Sure, I can help with that. Next Tuesday I have openings at ten in the morning and at two in the afternoon. Which would you prefer?';
export const CONFIRM_REPLY = "Perfect, you're booked for next Tuesday at two in the afternoon. See you then, goodbye!";

/** Everything the scripted agent says (the TTS stand-in can synthesize it ahead of time). */
export const SCRIPTED_AGENT_LINES: readonly string[] = [DEMO_GREETING, BOOKING_REPLY, CONFIRM_REPLY, DEMO_HOURS_REPLY];

/** The scripted brain stand-in: a reply for whatever the caller said (keywords, else an honest fallback). */
export function scriptedReply(transcript: string): string {
  const said = ` ${normalizeForMatch(transcript)} `;
  if (/ (book|booking|appointment|cleaning) /.test(said)) return BOOKING_REPLY;
  if (/ (two|afternoon|2) /.test(said)) return CONFIRM_REPLY;
  if (/ (hours|open) /.test(said)) return DEMO_HOURS_REPLY;
  if (said.trim() === '') return "Sorry, I didn't catch that. Could you say it again?";
  return `You said: ${transcript.trim().replace(/[.!?]+$/, '')}. I'm only a scripted stand-in brain, so that's all I can say.`;
}
