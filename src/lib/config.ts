/**
 * The one place that reads the environment (and the one that sets a process-wide switch in it, see
 * disableOnnxTelemetry). Parsed once with zod into a frozen object; every problem is reported at once
 * so an operator fixes a bad deployment in one pass.
 */
import { z } from 'zod';
import { parseTrustProxy, TRUST_PROXY_DEFAULT } from './trust-proxy';
import { productionProblems } from './production-checks';

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on']);
const BOOL_FALSE = new Set(['false', '0', 'no', 'off']);

/** Empty strings count as "not set" so `FOO=` in a .env file falls back to the default. */
const blankToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const bool = (def: boolean) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        const s = v.trim().toLowerCase();
        if (BOOL_TRUE.has(s)) return true;
        if (BOOL_FALSE.has(s)) return false;
        ctx.addIssue({ code: 'custom', message: `must be one of true/false/1/0/yes/no/on/off, got "${v}"` });
        return z.NEVER;
      }),
  );

const int = (opts: { min?: number; max?: number; def?: number }) => {
  const base = z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be an integer') })
    .transform((v, ctx) => {
      const s = v.trim();
      if (!/^-?\d+$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: `must be an integer, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(s);
      if (opts.min !== undefined && n < opts.min) {
        ctx.addIssue({ code: 'custom', message: `must be >= ${opts.min}, got ${n}` });
        return z.NEVER;
      }
      if (opts.max !== undefined && n > opts.max) {
        ctx.addIssue({ code: 'custom', message: `must be <= ${opts.max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });
  return z.preprocess(blankToUndefined, opts.def === undefined ? base : base.optional().transform((n) => n ?? opts.def!));
};

const requiredString = (what = 'is required') =>
  z.preprocess(blankToUndefined, z.string({ error: () => what }).min(1, what));

const urlString = (protocols: readonly string[]) =>
  z.string({ error: () => 'is required' }).refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a ${protocols.map((p) => p.replace(':', '')).join('/')} URL` },
  );
const url = (protocols: readonly string[]) => z.preprocess(blankToUndefined, urlString(protocols));
const optionalUrl = (protocols: readonly string[]) => z.preprocess(blankToUndefined, urlString(protocols).optional());
const defaultUrl = (protocols: readonly string[], def: string) =>
  z.preprocess(blankToUndefined, urlString(protocols).default(def));

const HTTP = ['http:', 'https:'] as const;

/** Telnyx publishes the webhook key as base64 of the RAW 32-byte Ed25519 public key (docs/design.md §Telnyx). */
const ed25519PublicKey = requiredString().refine(
  (v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v.trim()) && Buffer.from(v.trim(), 'base64').length === 32,
  { message: 'must be the base64 of a raw 32-byte Ed25519 public key (as shown in the Telnyx portal)' },
);

const optionalString = z.preprocess(blankToUndefined, z.string().optional());

const list = z.preprocess(
  blankToUndefined,
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
);

export const configSchema = z.object({
  NODE_ENV: z.preprocess(blankToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  PORT: int({ min: 0, max: 65535 }),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** all = HTTP/WS ingress + queue workers; api = ingress only; worker = queue workers only. */
  PROCESS_ROLE: z.preprocess(blankToUndefined, z.enum(['all', 'api', 'worker']).default('all')),

  // Telnyx
  TELNYX_API_KEY: requiredString(),
  TELNYX_PUBLIC_KEY: ed25519PublicKey,
  TELNYX_API_BASE_URL: defaultUrl(HTTP, 'https://api.telnyx.com/v2'),
  TELNYX_API_TIMEOUT_MS: int({ min: 100, def: 5000 }),
  /** Secret of the local HMAC webhook scheme (tests, smoke and load scripts); used only with the switch below. */
  TELNYX_WEBHOOK_SECRET: optionalString,
  /** Accept HMAC-signed webhooks (header telnyx-signature). Never in production. */
  TELNYX_WEBHOOK_HMAC_ENABLED: bool(false),
  TELNYX_STREAM_CODEC: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toUpperCase() : undefined),
    z.enum(['PCMU', 'PCMA', 'G722', 'OPUS', 'AMR-WB', 'L16']).default('PCMU'),
  ),
  MEDIA_STREAM_TOKEN: requiredString(),
  PUBLIC_BASE_URL: optionalUrl(HTTP),
  TELNYX_INGEST_HEALTH_GRACE_MS: int({ min: 0, def: 1200 }),
  TELNYX_INGEST_HEALTH_ENABLED: bool(true),
  TELNYX_INGEST_HEALTH_RESTART_ENABLED: bool(true),
  TELNYX_INGEST_POST_PLAYBACK_GRACE_MS: int({ min: 0, def: 1200 }),
  TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END: int({ min: 0, def: 2000 }),
  TELNYX_AMRWB_MIN_DECODED_BYTES: int({ min: 0, def: 320 }),
  TELNYX_INGEST_DECODE_FAILURES_BEFORE_FALLBACK: int({ min: 1, def: 3 }),

  // Audio files
  AUDIO_PUBLIC_BASE_URL: url(HTTP),
  AUDIO_STORAGE_DIR: requiredString(),
  AUDIO_CLEANUP_HOURS: int({ min: 1, def: 24 }),
  PLAYBACK_MODE: z.preprocess(blankToUndefined, z.enum(['url', 'stream']).default('stream')),

  // Speech
  WHISPER_URL: url(HTTP),
  KOKORO_URL: url(HTTP),
  KOKORO_VOICE: z.preprocess(blankToUndefined, z.string().default('af_heart')),
  TTS_SAMPLE_RATE: int({ min: 8000, max: 48000, def: 24000 }),
  GREETING_TEXT: optionalString,
  STT_CHUNK_MS: int({ min: 100 }),
  STT_SILENCE_MS: int({ min: 50 }),
  STT_PRE_ROLL_MS: int({ min: 0, def: 300 }),
  STT_PARTIAL_MIN_MS: int({ min: 0, def: 600 }),
  /** transcript = end of turn from what was said (src/lib/stt/end-of-turn.ts); silence = STT_SILENCE_MS only. */
  TURN_END_MODE: z.preprocess(blankToUndefined, z.enum(['transcript', 'silence']).default('transcript')),
  TURN_COMPLETE_SILENCE_MS: int({ min: 0, def: 200 }),
  TURN_INCOMPLETE_SILENCE_MS: int({ min: 0, max: 10000, def: 1500 }),
  /** Start the reply on a tentative end of turn (TURN_END_MODE=transcript), play it once the turn is certain. */
  TURN_SPECULATIVE_REPLY: bool(true),
  STT_HIGHPASS_ENABLED: bool(true),
  STT_HIGHPASS_CUTOFF_HZ: int({ min: 10, max: 4000, def: 100 }),
  STT_DEBUG_DUMP_WHISPER_WAVS: bool(false),
  STT_DEBUG_DUMP_PCM16: bool(false),
  STT_DEBUG_DIR: optionalString,
  /** silero = Silero VAD v5 on onnxruntime (energy-gated); energy = adaptive energy VAD only. */
  VAD_MODE: z.preprocess(blankToUndefined, z.enum(['silero', 'energy']).default('silero')),
  /**
   * Worker threads running the speech front end (resample, high-pass, VAD, endpointer) of the
   * calls; 0 = on the main thread; auto (default) = one per core but one (at least one).
   */
  MEDIA_WORKERS: z.preprocess((v) => blankToUndefined(v) ?? 'auto', z.union([z.literal('auto'), int({ min: 0, max: 64 })])),
  STT_TIMEOUT_MS: int({ min: 500, def: 10000 }),
  STT_MAX_CONCURRENT: int({ min: 1, def: 32 }),
  STT_MAX_UTTERANCE_MS: int({ min: 2000, max: 120000, def: 30000 }),
  /** RTP L16 is network byte order (big-endian, RFC 3551); `le` for peers that send little-endian. */
  TELNYX_L16_BYTE_ORDER: z.preprocess(blankToUndefined, z.enum(['be', 'le', 'auto']).default('be')),
  AMRWB_DEBUG_DIR: optionalString,
  DEAD_AIR_MS: int({ min: 1000 }),
  MAX_CALL_DURATION_MS: int({ min: 1000, def: 3_600_000 }),

  // Brain
  BRAIN_URL: optionalUrl(HTTP),
  BRAIN_TIMEOUT_MS: int({ min: 100, def: 8000 }),
  BRAIN_STREAMING_ENABLED: bool(true),
  BRAIN_STREAM_PATH: z.preprocess(blankToUndefined, z.string().startsWith('/', 'must start with "/"').default('/reply/stream')),
  BRAIN_STREAM_PING_MS: int({ min: 100, def: 15000 }),
  BRAIN_STREAM_FIRST_AUDIO_MAX_MS: int({ min: 0, def: 2000 }),
  BRAIN_STREAM_SEGMENT_MIN_CHARS: int({ min: 1, def: 120 }),
  BRAIN_STREAM_FIRST_CLAUSE_MIN_CHARS: int({ min: 0, max: 1000, def: 4 }),
  BRAIN_STREAM_SEGMENT_NEXT_CHARS: int({ min: 1, def: 180 }),

  // Transport
  TRANSPORT_MODE: z.preprocess(blankToUndefined, z.enum(['pstn', 'webrtc_hd']).default('pstn')),
  WEBRTC_PORT: int({ min: 0, max: 65535, def: 0 }),
  WEBRTC_ALLOWED_ORIGINS: list,
  // WebRTC admission: browser calls have their own caps (never the phone line's), a per-client-IP
  // offer rate, and optional per-tenant join tokens (tenant config `webrtc`, which wins).
  WEBRTC_OFFERS_PER_MIN_PER_IP: int({ min: 1, def: 10 }),
  WEBRTC_GLOBAL_CONCURRENCY_CAP: int({ min: 1, def: 20 }),
  WEBRTC_TENANT_CONCURRENCY_CAP_DEFAULT: int({ min: 1, def: 5 }),
  WEBRTC_TENANT_CALLS_PER_MIN_CAP_DEFAULT: int({ min: 1, def: 10 }),
  WEBRTC_REQUIRE_JOIN_TOKEN: bool(false),
  /** Whose X-Forwarded-For gives a client's address (lib/trust-proxy.ts). */
  TRUST_PROXY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default(TRUST_PROXY_DEFAULT)
      .transform((v, ctx) => {
        const r = parseTrustProxy(v);
        if (r.ok) return r.value;
        ctx.addIssue({ code: 'custom', message: r.message });
        return z.NEVER;
      }),
  ),

  // Redis, tenants, capacity
  /** With REDIS_SENTINELS: only its credentials, database and scheme (rediss = TLS) are used (lib/redis.ts). */
  REDIS_URL: url(['redis:', 'rediss:']),
  /** Redis Sentinel: comma list of sentinel `host:port`; the primary is asked of them, never configured. */
  REDIS_SENTINELS: list.transform((entries, ctx) => {
    const out: { host: string; port: number }[] = [];
    for (const e of entries) {
      const r = parseHostPort(e);
      if (r) out.push(r);
      else ctx.addIssue({ code: 'custom', message: `"${e}" is not host:port (e.g. 10.0.0.5:26379 or [::1]:26379)` });
    }
    return out;
  }),
  /** The sentinels' name of the monitored primary (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: optionalString,
  REDIS_SENTINEL_PASSWORD: optionalString,
  TENANTMAP_PREFIX: z.preprocess(blankToUndefined, z.string().default('tenantmap')),
  CAP_PREFIX: z.preprocess(blankToUndefined, z.string().default('cap')),
  QUEUE_PREFIX: z.preprocess(blankToUndefined, z.string().default('bull')),
  /** Prefix of the runtime's own per-call keys (call state, event dedupe, ordering counters). */
  STATE_PREFIX: z.preprocess(blankToUndefined, z.string().default('veralux')),
  GLOBAL_CONCURRENCY_CAP: int({ min: 1 }),
  TENANT_CONCURRENCY_CAP_DEFAULT: int({ min: 1 }),
  TENANT_CALLS_PER_MIN_CAP_DEFAULT: int({ min: 1 }),
  CAPACITY_TTL_SECONDS: int({ min: 5 }),
  TENANT_CACHE_TTL_MS: int({ min: 0, def: 5000 }),
  /**
   * Hosts that URLs in tenant configs (Redis) and brain transfer audio URLs may name although they are
   * loopback/private/link-local (e.g. an in-cluster Whisper): comma list of `host`, `host:port`,
   * `IP`, `[IPv6]:port`. Empty (default): no such host (see src/lib/net/url-policy.ts).
   */
  TENANT_URL_ALLOWED_HOSTS: list.superRefine((entries, ctx) => {
    // The shapes createUrlPolicy (src/lib/net/url-policy.ts) reads: host[:port], [IPv6][:port], bare IPv6.
    const hostPort = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i;
    const bareIpv6 = /^[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*$/i;
    for (const e of entries) {
      const port = hostPort.exec(e)?.[2];
      const ok = bareIpv6.test(e) || (hostPort.test(e) && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535)));
      if (!ok) ctx.addIssue({ code: 'custom', message: `"${e}" is not a host, host:port or IP address` });
    }
  }),

  // Operations
  ADMIN_USER: optionalString,
  ADMIN_PASSWORD: optionalString,
  /** bull-board shows everything but may only retry failed jobs; false = its full UI (add, clean, empty…). */
  ADMIN_QUEUES_READ_ONLY: bool(true),
  METRICS_TOKEN: optionalString,
  HEALTH_CHECK_TIMEOUT_MS: int({ min: 50, def: 1500 }),
  SHUTDOWN_TIMEOUT_MS: int({ min: 1000, max: 60000, def: 10000 }),
  /** SIGTERM: how long live calls may keep this instance up (handed off, or served here when no other instance is alive). */
  DRAIN_TIMEOUT_MS: int({ min: 0, max: 86_400_000, def: 120_000 }),
  /** SIGTERM: not-ready this long before the first handoff, so the load balancer sends the moved streams elsewhere. */
  DRAIN_HANDOFF_DELAY_MS: int({ min: 0, max: 60_000, def: 2000 }),
  /** A live call's owner lease: another instance takes the call over this long after its owner stopped refreshing. */
  CALL_OWNER_LEASE_MS: int({ min: 1500, max: 60_000, def: 4500 }),
});

/** PUBLIC_BASE_URL is always set after loading (defaulted from AUDIO_PUBLIC_BASE_URL). */
export type Config = Readonly<Omit<z.output<typeof configSchema>, 'PUBLIC_BASE_URL'> & { PUBLIC_BASE_URL: string }>;

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    hint?: string,
  ) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}` +
        (hint ? `\n${hint}` : ''),
    );
    this.name = 'ConfigError';
  }
}

const PRODUCTION_HINT =
  'NODE_ENV=production refuses example and short secrets. For a local trial copy .env.development.example to .env (or set NODE_ENV=development).';

/** Parse an environment; throws ConfigError naming EVERY bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const result = configSchema.safeParse(env);
  const problems: string[] = [];
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  } else {
    const c = result.data;
    if ((c.ADMIN_USER === undefined) !== (c.ADMIN_PASSWORD === undefined)) {
      problems.push('ADMIN_USER/ADMIN_PASSWORD: set both or neither');
    }
    if (c.TELNYX_WEBHOOK_HMAC_ENABLED && c.TELNYX_WEBHOOK_SECRET === undefined) {
      problems.push('TELNYX_WEBHOOK_HMAC_ENABLED: needs TELNYX_WEBHOOK_SECRET');
    }
    problems.push(...sentinelProblems(c));
    if (c.BRAIN_STREAM_SEGMENT_NEXT_CHARS < c.BRAIN_STREAM_SEGMENT_MIN_CHARS) {
      problems.push('BRAIN_STREAM_SEGMENT_NEXT_CHARS: must be >= BRAIN_STREAM_SEGMENT_MIN_CHARS');
    }
  }
  // From the raw values, so they are reported even when another variable fails to parse.
  let productionHint: string | undefined;
  const nodeEnv = configSchema.shape.NODE_ENV.safeParse(env.NODE_ENV);
  if (nodeEnv.success && nodeEnv.data === 'production') {
    const hmac = configSchema.shape.TELNYX_WEBHOOK_HMAC_ENABLED.safeParse(env.TELNYX_WEBHOOK_HMAC_ENABLED);
    const found = productionProblems({ env, hmacWebhooksEnabled: hmac.success && hmac.data });
    problems.push(...found);
    if (found.length > 0) productionHint = PRODUCTION_HINT;
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems.sort(), productionHint);
  const data = result.data;
  const publicBase = data.PUBLIC_BASE_URL ?? new URL(data.AUDIO_PUBLIC_BASE_URL).origin;
  return Object.freeze({ ...data, PUBLIC_BASE_URL: publicBase.replace(/\/+$/, '') });
}

/** `host:port` or `[IPv6]:port`, port 1–65535; undefined for anything else. */
function parseHostPort(entry: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9_.-]+)):(\d{1,5})$/i.exec(entry);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** The Sentinel variables come as a set: a list without a name (or a name without a list) is a mistake. */
function sentinelProblems(c: { REDIS_SENTINELS: readonly unknown[]; REDIS_SENTINEL_NAME?: string; REDIS_SENTINEL_PASSWORD?: string }): string[] {
  const problems: string[] = [];
  const list = c.REDIS_SENTINELS.length > 0;
  if (list && c.REDIS_SENTINEL_NAME === undefined) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name of the primary the sentinels monitor)');
  if (!list && c.REDIS_SENTINEL_NAME !== undefined) problems.push('REDIS_SENTINELS: required with REDIS_SENTINEL_NAME (comma list of sentinel host:port)');
  if (!list && c.REDIS_SENTINEL_PASSWORD !== undefined) problems.push('REDIS_SENTINEL_PASSWORD: set without REDIS_SENTINELS (it is the password of the sentinels)');
  return problems;
}

/**
 * onnxruntime-node (the Silero VAD) ships usage telemetry, on by default: every process that loads it
 * writes `.ses` and `mat-debug-<pid>.log` into the temp dir (never removed) and uploads usage data.
 * The runtime does neither. The library reads this switch natively from the process environment when
 * it first starts, so it is set on the main thread (a worker thread's process.env is a copy native
 * code never sees) before any inference session exists: by SileroModel.load and SileroWorkerClient.start.
 */
export function disableOnnxTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
}
