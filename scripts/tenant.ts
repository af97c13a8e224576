/**
 * npm run tenant -- add|show|list|remove|caps|webrtc-token — manages tenants in Redis with the runtime's key layout
 * (docs/design.md §Contracts): `tenantcfg:<id>` (JSON, validated with the runtime's own schema), `${TENANTMAP_PREFIX}:did:<E.164>`
 * → tenant id, and the cap overrides `${TENANTMAP_PREFIX}:tenant:<id>:cap:concurrency|rpm`.
 *
 * Reads only REDIS_URL (and the REDIS_SENTINEL* variables), TENANTMAP_PREFIX and TENANT_URL_ALLOWED_HOSTS (environment, then `.env`), parsed
 * with the runtime's config schema; no other runtime variable is needed. URL fields are checked with the
 * runtime's URL policy, so a document the runtime would refuse is never stored. Never uses KEYS (SCAN only). Writes are atomic (WATCH/MULTI).
 * Exit codes: 0 ok, 1 failed (not found, conflict, Redis error), 2 bad usage or invalid tenant config.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import { Redis } from 'ioredis';
import { configSchema } from '../src/lib/config';
import { describeTarget, redisTarget, sentinelOptions, type RedisTarget } from '../src/lib/redis';
import { createUrlPolicy, type UrlPolicy } from '../src/lib/net/url-policy';
import { normalizeE164 } from '../src/lib/tenants/e164';
import { parseTenantConfig } from '../src/lib/tenants/tenant-config';
import { tenantKeys } from '../src/lib/tenants/tenant-keys';
import { JOIN_TOKEN_MAX_TTL_SEC, mintJoinToken } from '../src/lib/webrtc/join-token';

const HELP = `npm run tenant -- <command> [options]

Commands:
  add <tenantId> --did <E.164> [--did …] [--force]
        [--config file.json | --greeting "…" --max-concurrent N --max-per-minute N
         --whisper-url URL --kokoro-url URL --voice NAME --language CODE --chunk-ms N]
      Writes tenantcfg:<tenantId> (validated: an invalid document is refused with the reasons) and maps
      each DID (normalized to E.164) to the tenant. Flags given with --config override its fields; the
      DIDs are the union of --did and the document's "dids". Refuses a DID mapped to another tenant and
      an existing tenant unless --force (which replaces the config, takes the DIDs over and drops this
      tenant's old DID mappings that are no longer listed).
  show <tenantId | DID> [--json]
      Prints the tenant config, its DID mappings and cap overrides.
  list [--json]
      Lists tenants (configs and DID mappings found with SCAN) with their DIDs.
  remove <tenantId>
      Deletes the config, every DID mapped to the tenant and its cap overrides.
  caps <tenantId> [--concurrency N|none] [--rpm N|none] [--force]
      Sets (or with "none" deletes) the cap override keys, which win over the config and env defaults.
      Refuses an unknown tenant unless --force.
  webrtc-token <tenantId> [--origin https://shop.example.com] [--ttl SECONDS]
      Prints a join token for the tenant's browser calls (/hd-call?tenant_id=…&join_token=…), signed
      with the config's webrtc.joinTokenSecret; valid --ttl seconds (default and max ${JOIN_TOKEN_MAX_TTL_SEC}), bound to
      --origin if given. Format: v1.<exp>.<nonce>.<sig>, sig = base64url(HMAC-SHA256(secret,
      "v1\\n<tenantId>\\n<exp>\\n<nonce>\\n<origin or empty>")) — web sites mint their own the same way.

Environment (or .env): REDIS_URL (required), TENANTMAP_PREFIX (default tenantmap), TENANT_URL_ALLOWED_HOSTS
(hosts that tenant URLs may name although loopback/private, as for the runtime; default none); with Redis
Sentinel also REDIS_SENTINELS, REDIS_SENTINEL_NAME and REDIS_SENTINEL_PASSWORD, as for the runtime.
Exit codes: 0 ok, 1 failed (not found, conflict, Redis error), 2 bad usage or invalid tenant config.`;

/** An operator-facing failure: message printed as-is, with its exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}
const usage = (msg: string) => new CliError(`${msg}\n(npm run tenant -- --help for usage)`, 2);

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

function checkTenantId(id: string | undefined, cmd: string): string {
  if (!id) throw usage(`${cmd}: missing <tenantId>`);
  if (!TENANT_ID.test(id)) {
    throw usage(`${cmd}: invalid tenant id "${id}": letters, digits, ".", "_", "@", "-" (max 128, no spaces or ":")`);
  }
  return id;
}

function positiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
    throw usage(`--${flag} must be a positive integer, got "${v}"`);
  }
  return Number(v);
}

/**
 * A DID as an operator types it: E.164 only (`+`, country code, 8–15 digits in all), spaces, dots, dashes and
 * parentheses allowed as separators. Stricter than the runtime's lookup (which also takes SIP URIs and national
 * numbers from trunks): a number stored wrongly here would silently never match a call.
 */
export function strictE164(raw: string): string | undefined {
  const s = raw.trim().replace(/[\s.()-]/g, '');
  return /^\+[1-9]\d{7,14}$/.test(s) ? s : undefined;
}

function normalizeDids(raw: readonly string[]): string[] {
  const bad: string[] = [];
  const out: string[] = [];
  for (const r of raw) {
    const n = strictE164(r);
    if (!n) bad.push(r);
    else if (!out.includes(n)) out.push(n);
  }
  if (bad.length) {
    const hint = (b: string) => {
      const digits = b.replace(/[\s.()-]/g, '');
      return /^\d{10}$/.test(digits) ? ` (a US number? +1${digits})` : '';
    };
    throw usage(`not an E.164 number (a + then the country code, e.g. +15551234567): ${bad.map((b) => `"${b}"${hint(b)}`).join(', ')}`);
  }
  return out;
}

/** node:util parseArgs errors in this tool's own words. */
function optionError(err: Error & { code?: string }): string {
  const name = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? 'an option';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /does not take an argument/.test(err.message) ? `option ${name} takes no value` : `option ${name} needs a value`;
  }
  return err.message;
}

const maskUrl = (u: string) => u.replace(/\/\/([^@/]*)@/, '//***@');

// ---------------------------------------------------------------------------------------------
// Redis helpers

type Keys = ReturnType<typeof tenantKeys>;

interface Ctx {
  redis: Redis;
  keys: Keys;
  prefix: string;
  urlPolicy: UrlPolicy;
}

/** SCAN MATCH pattern for a literal prefix (glob characters escaped). */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, '\\$&');

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    for (const k of batch) out.add(k);
    cursor = next;
  } while (cursor !== '0');
  return [...out];
}

/** Every DID mapping under the prefix: E.164 → tenant id. */
async function allDidMappings(ctx: Ctx): Promise<Map<string, string>> {
  const head = ctx.keys.did('');
  const keys = await scanKeys(ctx.redis, `${globEscape(head)}*`);
  const map = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const values = await ctx.redis.mget(...batch);
    batch.forEach((k, j) => {
      const v = values[j]?.trim();
      if (v) map.set(k.slice(head.length), v);
    });
  }
  return map;
}

async function didsOf(ctx: Ctx, tenantId: string): Promise<string[]> {
  const out: string[] = [];
  for (const [did, t] of await allDidMappings(ctx)) if (t === tenantId) out.push(did);
  return out.sort();
}

/** Deletes the key only while it still maps to the tenant (a concurrent remap is not undone). */
const DEL_IF_EQUAL = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

function parseJsonObject(raw: string | null): Record<string, unknown> | undefined {
  if (raw === null) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function configDids(doc: Record<string, unknown> | undefined): string[] {
  const dids = doc?.dids;
  if (!Array.isArray(dids)) return [];
  return dids.filter((d): d is string => typeof d === 'string').map((d) => normalizeE164(d) ?? d);
}

// ---------------------------------------------------------------------------------------------
// Commands

type Values = Record<string, string | boolean | string[] | undefined>;
const str = (v: Values, k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);

/** Builds the tenant document from --config and/or flags (not yet validated). */
function buildDoc(tenantId: string, v: Values): Record<string, unknown> {
  let doc: Record<string, unknown>;
  const file = str(v, 'config');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw usage(`cannot read --config ${file}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CliError(`--config ${file} is not valid JSON: ${(err as Error).message}`, 2);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new CliError(`--config ${file}: must be a JSON object`, 2);
    doc = { ...(json as Record<string, unknown>) };
    if (doc.tenantId === undefined) doc.tenantId = tenantId;
  } else {
    doc = { contractVersion: 'v1', tenantId, dids: [], caps: {}, stt: { mode: 'whisper_http' }, tts: { mode: 'kokoro_http' } };
  }
  const obj = (k: string): Record<string, unknown> => {
    const cur = doc[k];
    const o = cur && typeof cur === 'object' && !Array.isArray(cur) ? { ...(cur as Record<string, unknown>) } : {};
    doc[k] = o;
    return o;
  };
  const greeting = str(v, 'greeting');
  if (greeting !== undefined) doc.greeting = greeting;
  const maxConcurrent = str(v, 'max-concurrent');
  if (maxConcurrent !== undefined) obj('caps').maxConcurrentCallsTenant = positiveInt('max-concurrent', maxConcurrent);
  const maxPerMinute = str(v, 'max-per-minute');
  if (maxPerMinute !== undefined) obj('caps').maxCallsPerMinuteTenant = positiveInt('max-per-minute', maxPerMinute);
  const whisperUrl = str(v, 'whisper-url');
  const language = str(v, 'language');
  const chunkMs = str(v, 'chunk-ms');
  if (whisperUrl !== undefined || language !== undefined || chunkMs !== undefined) {
    const stt = obj('stt');
    stt.mode ??= 'whisper_http';
    if (whisperUrl !== undefined) stt.whisperUrl = whisperUrl;
    if (language !== undefined) stt.language = language;
    if (chunkMs !== undefined) stt.chunkMs = positiveInt('chunk-ms', chunkMs);
  }
  const kokoroUrl = str(v, 'kokoro-url');
  const voice = str(v, 'voice');
  if (kokoroUrl !== undefined || voice !== undefined) {
    const tts = obj('tts');
    tts.mode ??= 'kokoro_http';
    if (kokoroUrl !== undefined) tts.kokoroUrl = kokoroUrl;
    if (voice !== undefined) tts.voice = voice;
  }
  return doc;
}

async function cmdAdd(ctx: Ctx, args: string[], v: Values): Promise<void> {
  const tenantId = checkTenantId(args[0], 'add');
  if (args.length > 1) throw usage(`add: unexpected argument "${args[1]}"`);
  const doc = buildDoc(tenantId, v);
  const docDids = Array.isArray(doc.dids) ? doc.dids.filter((d): d is string => typeof d === 'string') : [];
  const dids = normalizeDids([...docDids, ...((v.did as string[] | undefined) ?? [])]);
  if (dids.length === 0) throw usage('add: at least one --did is required (or "dids" in the --config document)');
  doc.dids = dids;
  const raw = JSON.stringify(doc);
  const parsed = parseTenantConfig(raw, tenantId, ctx.urlPolicy);
  if (!parsed.ok) {
    throw new CliError(`add: invalid tenant config for "${tenantId}", nothing written:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`, 2);
  }
  const force = v.force === true;
  const { redis, keys } = ctx;

  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const didKeys = dids.map((d) => keys.did(d));
    await redis.watch(keys.config(tenantId), ...didKeys);
    const existingRaw = await redis.get(keys.config(tenantId));
    if (existingRaw !== null && !force) {
      await redis.unwatch();
      throw new CliError(`add: tenant "${tenantId}" already exists (npm run tenant -- show ${tenantId}); use --force to replace its config`, 1);
    }
    const owners = await redis.mget(...didKeys);
    const conflicts = dids.map((d, i) => ({ did: d, owner: owners[i]?.trim() })).filter((c) => c.owner && c.owner !== tenantId);
    if (conflicts.length && !force) {
      await redis.unwatch();
      throw new CliError(
        `add: refusing, DID${conflicts.length > 1 ? 's' : ''} already mapped to another tenant (use --force to take ${conflicts.length > 1 ? 'them' : 'it'} over):\n` +
          conflicts.map((c) => `  - ${c.did} → ${c.owner}`).join('\n'),
        1,
      );
    }
    // Old DIDs of this tenant that the new document no longer lists: unmap them (only if still ours).
    const stale = configDids(parseJsonObject(existingRaw)).filter((d) => !dids.includes(d));
    const staleKeys = stale.map((d) => keys.did(d));
    if (staleKeys.length) await redis.watch(...staleKeys);
    const staleOwners = staleKeys.length ? await redis.mget(...staleKeys) : [];
    // Other tenants losing a DID: drop it from their documents' "dids" too, so show/list stay truthful.
    const losers = [...new Set(conflicts.map((c) => c.owner!))];
    const loserDocs = new Map<string, Record<string, unknown>>();
    for (const other of losers) {
      await redis.watch(keys.config(other));
      const otherDoc = parseJsonObject(await redis.get(keys.config(other)));
      if (otherDoc && Array.isArray(otherDoc.dids)) {
        const taken = new Set(conflicts.filter((c) => c.owner === other).map((c) => c.did));
        otherDoc.dids = otherDoc.dids.filter((d) => !(typeof d === 'string' && taken.has(normalizeE164(d) ?? d)));
        loserDocs.set(other, otherDoc);
      }
    }
    const tx = redis.multi().set(keys.config(tenantId), raw);
    for (const k of didKeys) tx.set(k, tenantId);
    stale.forEach((_d, i) => {
      if (staleOwners[i]?.trim() === tenantId) tx.del(staleKeys[i]!);
    });
    for (const [other, otherDoc] of loserDocs) tx.set(keys.config(other), JSON.stringify(otherDoc));
    const res = await tx.exec();
    if (res === null) continue; // a watched key changed meanwhile: re-check and retry
    const failed = res.find(([err]) => err);
    if (failed) throw failed[0]!;
    console.log(`${existingRaw === null ? 'added' : 'replaced'} tenant ${tenantId} (${keys.config(tenantId)})`);
    for (const d of dids) {
      const c = conflicts.find((x) => x.did === d);
      console.log(`  ${keys.did(d)} → ${tenantId}${c ? `  (taken over from ${c.owner})` : ''}`);
    }
    stale.forEach((d, i) => {
      if (staleOwners[i]?.trim() === tenantId) console.log(`  ${keys.did(d)} removed (no longer in the config)`);
    });
    return;
  }
  throw new CliError('add: the keys kept changing concurrently; nothing written, try again', 1);
}

interface TenantView {
  tenantId: string;
  exists: boolean;
  valid: boolean;
  problems?: string[];
  config?: unknown;
  dids: string[];
  configDids: string[];
  capOverrides: { concurrency: string | null; rpm: string | null };
}

async function viewTenant(ctx: Ctx, tenantId: string): Promise<TenantView> {
  const { redis, keys } = ctx;
  const [raw, concurrency, rpm] = await redis.mget(keys.config(tenantId), keys.capOverrideConcurrency(tenantId), keys.capOverrideRpm(tenantId));
  const view: TenantView = {
    tenantId,
    exists: raw !== null,
    valid: false,
    dids: await didsOf(ctx, tenantId),
    configDids: [],
    capOverrides: { concurrency: concurrency ?? null, rpm: rpm ?? null },
  };
  if (raw !== null) {
    const parsed = parseTenantConfig(raw, tenantId, ctx.urlPolicy);
    view.valid = parsed.ok;
    if (!parsed.ok) view.problems = parsed.problems;
    try {
      view.config = JSON.parse(raw) as unknown;
    } catch {
      view.config = raw;
    }
    view.configDids = configDids(parseJsonObject(raw));
  }
  return view;
}

async function cmdShow(ctx: Ctx, args: string[], v: Values): Promise<void> {
  const arg = args[0];
  if (!arg) throw usage('show: missing <tenantId | DID>');
  if (args.length > 1) throw usage(`show: unexpected argument "${args[1]}"`);
  const { redis, keys } = ctx;
  let tenantId: string | undefined;
  const looksLikeNumber = /^(\+|sips?:|tel:)/i.test(arg) || /^[\d\s().-]{7,}$/.test(arg);
  if (!looksLikeNumber && TENANT_ID.test(arg)) tenantId = arg;
  else {
    const did = normalizeE164(arg);
    if (!did) throw usage(`show: "${arg}" is neither a tenant id nor a phone number`);
    const mapped = (await redis.get(keys.did(did)))?.trim();
    if (mapped) tenantId = mapped;
    else if (TENANT_ID.test(arg) && (await redis.exists(keys.config(arg)))) tenantId = arg;
    else throw new CliError(`show: ${did} is not mapped to any tenant (${keys.did(did)} not set)`, 1);
  }
  const view = await viewTenant(ctx, tenantId);
  if (!view.exists && view.dids.length === 0 && !view.capOverrides.concurrency && !view.capOverrides.rpm) {
    throw new CliError(`show: no tenant "${tenantId}" (${keys.config(tenantId)} not set, no DID maps to it)`, 1);
  }
  if (v.json === true) {
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  console.log(`tenant:        ${view.tenantId}`);
  console.log(`config:        ${keys.config(tenantId)} ${view.exists ? (view.valid ? '(valid)' : '(INVALID)') : '(MISSING: calls to its DIDs hear "not fully configured")'}`);
  for (const p of view.problems ?? []) console.log(`                 - ${p}`);
  console.log(`DIDs (mapped): ${view.dids.join(', ') || '-'}`);
  const unmapped = view.configDids.filter((d) => !view.dids.includes(d));
  if (unmapped.length) console.log(`               listed in the config but not mapped to this tenant: ${unmapped.join(', ')}`);
  console.log(`cap overrides: concurrency=${view.capOverrides.concurrency ?? '-'}  rpm=${view.capOverrides.rpm ?? '-'}`);
  if (view.exists) console.log(JSON.stringify(view.config, null, 2));
}

async function cmdList(ctx: Ctx, args: string[], v: Values): Promise<void> {
  if (args.length) throw usage(`list: unexpected argument "${args[0]}"`);
  const { redis, keys } = ctx;
  const cfgHead = keys.config('');
  const cfgKeys = await scanKeys(redis, `${globEscape(cfgHead)}*`);
  const tenants = new Map<string, { dids: string[]; config: boolean; valid?: boolean }>();
  for (let i = 0; i < cfgKeys.length; i += 500) {
    const batch = cfgKeys.slice(i, i + 500);
    const values = await redis.mget(...batch);
    batch.forEach((k, j) => {
      const id = k.slice(cfgHead.length);
      const raw = values[j];
      if (raw === null || raw === undefined) return;
      tenants.set(id, { dids: [], config: true, valid: parseTenantConfig(raw, id, ctx.urlPolicy).ok });
    });
  }
  for (const [did, id] of await allDidMappings(ctx)) {
    const t = tenants.get(id) ?? { dids: [], config: false };
    t.dids.push(did);
    tenants.set(id, t);
  }
  const rows = [...tenants].sort(([a], [b]) => a.localeCompare(b)).map(([tenantId, t]) => ({ tenantId, ...t, dids: t.dids.sort() }));
  if (v.json === true) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log(`no tenants (no ${cfgHead}* keys, no ${keys.did('')}* mappings)`);
    return;
  }
  const width = Math.max(...rows.map((r) => r.tenantId.length), 6);
  for (const r of rows) {
    const note = !r.config ? '  [config missing]' : r.valid === false ? '  [config invalid]' : '';
    console.log(`${r.tenantId.padEnd(width)}  ${r.dids.join(', ') || '(no DIDs mapped)'}${note}`);
  }
  console.log(`${rows.length} tenant${rows.length === 1 ? '' : 's'}`);
}

async function cmdRemove(ctx: Ctx, args: string[]): Promise<void> {
  const tenantId = checkTenantId(args[0], 'remove');
  if (args.length > 1) throw usage(`remove: unexpected argument "${args[1]}"`);
  const { redis, keys } = ctx;
  const raw = await redis.get(keys.config(tenantId));
  const dids = new Set([...(await didsOf(ctx, tenantId)), ...configDids(parseJsonObject(raw))]);
  let removedDids = 0;
  const removedList: string[] = [];
  for (const d of dids) {
    const n = Number(await redis.eval(DEL_IF_EQUAL, 1, keys.did(d), tenantId));
    if (n > 0) {
      removedDids += 1;
      removedList.push(d);
    }
  }
  const removedCfg = await redis.del(keys.config(tenantId));
  const removedCaps = await redis.del(keys.capOverrideConcurrency(tenantId), keys.capOverrideRpm(tenantId));
  if (removedCfg + removedDids + removedCaps === 0) throw new CliError(`remove: no tenant "${tenantId}" (nothing to delete)`, 1);
  console.log(
    `removed tenant ${tenantId}: config ${removedCfg ? 'deleted' : 'was missing'}, ` +
      `${removedDids} DID mapping${removedDids === 1 ? '' : 's'}${removedList.length ? ` (${removedList.sort().join(', ')})` : ''}, ` +
      `${removedCaps} cap override${removedCaps === 1 ? '' : 's'}`,
  );
}

async function cmdCaps(ctx: Ctx, args: string[], v: Values): Promise<void> {
  const tenantId = checkTenantId(args[0], 'caps');
  if (args.length > 1) throw usage(`caps: unexpected argument "${args[1]}"`);
  const concurrency = str(v, 'concurrency');
  const rpm = str(v, 'rpm');
  if (concurrency === undefined && rpm === undefined) throw usage('caps: give --concurrency N and/or --rpm N (N = "none" deletes the override)');
  const value = (flag: string, s: string) => (s.trim().toLowerCase() === 'none' ? null : positiveInt(flag, s));
  const c = concurrency === undefined ? undefined : value('concurrency', concurrency);
  const r = rpm === undefined ? undefined : value('rpm', rpm);
  const { redis, keys } = ctx;
  if (v.force !== true && !(await redis.exists(keys.config(tenantId))) && (await didsOf(ctx, tenantId)).length === 0) {
    throw new CliError(`caps: no tenant "${tenantId}" (use --force to set overrides anyway)`, 1);
  }
  const tx = redis.multi();
  if (c !== undefined) {
    if (c === null) tx.del(keys.capOverrideConcurrency(tenantId));
    else tx.set(keys.capOverrideConcurrency(tenantId), String(c));
  }
  if (r !== undefined) {
    if (r === null) tx.del(keys.capOverrideRpm(tenantId));
    else tx.set(keys.capOverrideRpm(tenantId), String(r));
  }
  const res = await tx.exec();
  const failed = res?.find(([err]) => err);
  if (failed) throw failed[0]!;
  const [cNow, rNow] = await redis.mget(keys.capOverrideConcurrency(tenantId), keys.capOverrideRpm(tenantId));
  console.log(`cap overrides for ${tenantId}: concurrency=${cNow ?? '-'}  rpm=${rNow ?? '-'}`);
}

async function cmdWebrtcToken(ctx: Ctx, args: string[], v: Values): Promise<void> {
  const tenantId = checkTenantId(args[0], 'webrtc-token');
  if (args.length > 1) throw usage(`webrtc-token: unexpected argument "${args[1]}"`);
  const ttl = str(v, 'ttl');
  const ttlSec = ttl === undefined ? JOIN_TOKEN_MAX_TTL_SEC : positiveInt('ttl', ttl);
  if (ttlSec > JOIN_TOKEN_MAX_TTL_SEC) throw usage(`--ttl must be at most ${JOIN_TOKEN_MAX_TTL_SEC} seconds`);
  const raw = await ctx.redis.get(ctx.keys.config(tenantId));
  if (raw === null) throw new CliError(`webrtc-token: no tenant "${tenantId}" (${ctx.keys.config(tenantId)} not set)`, 1);
  const parsed = parseTenantConfig(raw, tenantId, ctx.urlPolicy);
  if (!parsed.ok) throw new CliError(`webrtc-token: the config of "${tenantId}" is invalid:\n  - ${parsed.problems.join('\n  - ')}`, 1);
  const secret = parsed.config.webrtc?.joinTokenSecret;
  if (!secret) throw new CliError(`webrtc-token: "${tenantId}" has no webrtc.joinTokenSecret in its config`, 1);
  try {
    console.log(mintJoinToken({ secret, tenantId, origin: str(v, 'origin'), ttlSec }));
  } catch (err) {
    throw new CliError(`webrtc-token: ${(err as Error).message}`, 2);
  }
}

// ---------------------------------------------------------------------------------------------

function loadEnv(): { redis: RedisTarget; prefix: string; urlPolicy: UrlPolicy } {
  dotenv.config({ quiet: true });
  // The runtime's own schema for these variables; nothing else is required.
  const parsed = configSchema
    .pick({ REDIS_URL: true, REDIS_SENTINELS: true, REDIS_SENTINEL_NAME: true, REDIS_SENTINEL_PASSWORD: true, TENANTMAP_PREFIX: true, TENANT_URL_ALLOWED_HOSTS: true })
    .safeParse(process.env);
  const fail = (problems: string[]) => new CliError(`configuration (environment or .env):\n${problems.map((p) => `  - ${p}`).join('\n')}`, 2);
  if (!parsed.success) throw fail(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  if ((parsed.data.REDIS_SENTINELS.length > 0) !== (parsed.data.REDIS_SENTINEL_NAME !== undefined)) {
    throw fail(['REDIS_SENTINELS/REDIS_SENTINEL_NAME: set both or neither']);
  }
  let urlPolicy: UrlPolicy;
  try {
    urlPolicy = createUrlPolicy(parsed.data.TENANT_URL_ALLOWED_HOSTS);
  } catch (err) {
    throw fail([(err as Error).message]);
  }
  return { redis: redisTarget(parsed.data), prefix: parsed.data.TENANTMAP_PREFIX, urlPolicy };
}

async function connect(target: RedisTarget): Promise<Redis> {
  const giveUp = (n: number) => (n > 2 ? null : 200);
  const options = { lazyConnect: true, connectTimeout: 3000, commandTimeout: 10_000, maxRetriesPerRequest: 1, retryStrategy: giveUp };
  const redis = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...sentinelOptions(target), ...options, sentinelRetryStrategy: giveUp });
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new CliError(`cannot connect to Redis at ${typeof target === 'string' ? maskUrl(target) : describeTarget(target)}: ${(lastError ?? (err as Error)).message}`, 1);
  }
  return redis;
}

export async function main(argv: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: true,
        options: {
          did: { type: 'string', multiple: true },
          config: { type: 'string' },
          greeting: { type: 'string' },
          'max-concurrent': { type: 'string' },
          'max-per-minute': { type: 'string' },
          'whisper-url': { type: 'string' },
          'kokoro-url': { type: 'string' },
          voice: { type: 'string' },
          language: { type: 'string' },
          'chunk-ms': { type: 'string' },
          concurrency: { type: 'string' },
          rpm: { type: 'string' },
          origin: { type: 'string' },
          ttl: { type: 'string' },
          force: { type: 'boolean' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      throw usage(optionError(err as Error & { code?: string }));
    }
    const [cmd, ...args] = positionals;
    if (values.help === true || cmd === 'help') {
      console.log(HELP);
      return 0;
    }
    const commands: Record<string, (ctx: Ctx, args: string[], v: Values) => Promise<void>> = {
      add: cmdAdd,
      show: cmdShow,
      list: cmdList,
      remove: cmdRemove,
      caps: cmdCaps,
      'webrtc-token': cmdWebrtcToken,
    };
    if (!cmd) throw usage('missing command: add | show | list | remove | caps | webrtc-token');
    const run = commands[cmd];
    if (!run) throw usage(`unknown command "${cmd}": add | show | list | remove | caps | webrtc-token`);
    const env = loadEnv();
    const redis = await connect(env.redis);
    try {
      await run({ redis, keys: tenantKeys(env.prefix), prefix: env.prefix, urlPolicy: env.urlPolicy }, args, values);
    } finally {
      redis.disconnect();
    }
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`tenant: ${err.message}`);
      return err.exitCode;
    }
    console.error(`tenant: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
