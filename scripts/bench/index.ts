/**
 * npm run bench — the whole benchmark suite and one table with the bars of docs/design.md §Bars beside the
 * measured values. Runs, one after the other, each as its own child process with `--json FILE`:
 *
 *   setup    npm run bench:setup   webhook → Telnyx `answer` request latency at 20 setups/s
 *   media    npm run bench:media   concurrent PCMU calls on one runtime process, RSS per call
 *   turn     npm run bench:turn    turn latency and barge-in reaction (stream mode, instant fakes)
 *   turn-taking  npm run bench:turn-taking  voice-to-voice, cut-offs, backchannels, interruptions, STT audio and
 *            brain requests per turn with realistic service latencies (one call, real time)
 *   webhook  npm run load-test     signed webhook throughput and acknowledgement latency: this script
 *            starts a private redis-server, a local Telnyx Call Control API (scripts/sim) and the runtime
 *            (src/main.ts, child process, NODE_ENV=production, LOG_LEVEL=info, PROCESS_ROLE=all — one
 *            process doing ingress and workers; --webhook-role api: ingress only, the events wait in
 *            the queue) on 127.0.0.1, seeds a tenant, and runs load-test
 *            against it for --webhook-duration seconds, offering the bar's rate (--webhook-rps,
 *            default 3000 req/s) over --webhook-concurrency (64) keep-alive connections. A runtime
 *            that keeps up is measured at exactly that load; one that cannot is saturated, and its
 *            acks/s is its ceiling. The generator shares the machine's cores with the runtime.
 *
 * Each benchmark's own output goes to a log file (--verbose also streams it), in --log-dir DIR when given
 * (kept), else in a temp dir that is removed at the end unless a benchmark crashed (then it is printed).
 *
 * Usage: npm run bench -- [--quick] [--only setup,media,turn,turn-taking,webhook] [--strict] [--out FILE]
 *          [--verbose] [--log-dir DIR] [--webhook-duration 10] [--webhook-concurrency 64]
 *          [--webhook-rps 3000] [--webhook-role all|api] [--setup-args=ARGS] [--media-args=ARGS] [--turn-args=ARGS] [--turn-taking-args=ARGS] [--webhook-args=ARGS]
 *   --quick        shorter runs (bench:setup 10 s; bench:media steps 100,200 held 5 s, no micro section;
 *                  bench:turn 2 calls × 2 turns + 2 barge-ins; bench:turn-taking 4 turns, 2 of each other
 *                  scenario; webhook 5 s): ~3 minutes on a 2-core box
 *                  instead of ~3 (longer where bench:media passes more of its steps, up to its 290 s limit)
 *   --only LIST    run only these benchmarks (the others show as SKIP)
 *   --X-args=ARGS  extra options for one benchmark, appended after the defaults (they win), e.g.
 *                  --media-args='--steps 200,300 --hold 10' or --webhook-args='--concurrency 64'
 *   --out FILE     also write every result and the table rows as JSON
 *   --strict       exit 1 when a bar is not met (default: the table is a report, exit 0)
 * Exit code: 0 when every benchmark that ran produced its result, whether or not the bars were met;
 * 1 when a benchmark crashed, timed out or wrote no result (its rows read ERROR; the others are
 * still reported), or with --strict when a bar failed; 2 on bad usage.
 *
 * Everything listens on 127.0.0.1 only. Each benchmark has a time limit; each runs in its own
 * process group, so on a time-out or Ctrl-C exactly that group (the benchmark and what it started)
 * is signalled — nothing else on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { startCallControlApi, type CallControlApi } from '../sim/call-control-api';
import { freePort, startRedisServer, type RedisServerHandle } from '../sim/redis-server';
import { demoTenantConfig } from '../sim/script';
import { generateTestKeyPair } from '../sim/signing';
import { REPO_ROOT, spawnRuntime, type RuntimeProcess } from '../lib/runtime-process';
import { BENCHES, buildRows, exitCodeFor, parseResult, renderTable, totals, type BenchName, type BenchOutcome } from './report';

const HELP = readFileSync(__filename, 'utf8').match(/\/\*\*([\s\S]*?)\*\//)![1]!.replace(/^ \* ?/gm, '').trim();

class UsageError extends Error {}

interface Options {
  quick: boolean;
  only: Set<BenchName>;
  strict: boolean;
  verbose: boolean;
  out?: string;
  logDir?: string;
  webhookDurationSec: number;
  webhookConcurrency: number;
  webhookRps: number;
  webhookRole: 'all' | 'api';
  extra: Record<BenchName, string[]>;
}

const splitArgs = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

function positive(name: string, v: string | undefined, def: number | undefined): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

function parseOptions(argv: string[]): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        strict: { type: 'boolean' },
        verbose: { type: 'boolean' },
        out: { type: 'string' },
        'log-dir': { type: 'string' },
        'webhook-duration': { type: 'string' },
        'webhook-concurrency': { type: 'string' },
        'webhook-rps': { type: 'string' },
        'webhook-role': { type: 'string' },
        'setup-args': { type: 'string' },
        'media-args': { type: 'string' },
        'turn-args': { type: 'string' },
        'turn-taking-args': { type: 'string' },
        'webhook-args': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const only = new Set<BenchName>();
  for (const b of splitArgs(values.only?.replace(/,/g, ' '))) {
    if (!(BENCHES as readonly string[]).includes(b)) throw new UsageError(`--only: unknown benchmark "${b}" (one of ${BENCHES.join(', ')})`);
    only.add(b as BenchName);
  }
  const quick = Boolean(values.quick);
  const role = values['webhook-role'] ?? 'all';
  if (role !== 'all' && role !== 'api') throw new UsageError(`--webhook-role must be all or api, got "${role}"`);
  return {
    quick,
    only: only.size ? only : new Set(BENCHES),
    strict: Boolean(values.strict),
    verbose: Boolean(values.verbose),
    out: values.out,
    logDir: values['log-dir'],
    webhookDurationSec: positive('webhook-duration', values['webhook-duration'], quick ? 5 : 10)!,
    webhookConcurrency: Math.round(positive('webhook-concurrency', values['webhook-concurrency'], 64)!),
    webhookRps: positive('webhook-rps', values['webhook-rps'], 3000)!,
    webhookRole: role,
    extra: {
      setup: splitArgs(values['setup-args']),
      media: splitArgs(values['media-args']),
      turn: splitArgs(values['turn-args']),
      'turn-taking': splitArgs(values['turn-taking-args']),
      webhook: splitArgs(values['webhook-args']),
    },
  };
}

/** Default options of each benchmark in full and --quick mode (the user's --X-args come after). */
const DEFAULT_ARGS: Record<Exclude<BenchName, 'webhook'>, { full: string[]; quick: string[] }> = {
  setup: { full: [], quick: ['--duration', '10'] },
  media: { full: [], quick: ['--steps', '100,200', '--hold', '5', '--no-micro'] },
  turn: { full: [], quick: ['--calls', '2', '--turns', '2', '--barges', '2'] },
  'turn-taking': { full: [], quick: ['--turns', '4', '--hesitations', '2', '--backchannels', '2', '--interruptions', '2'] },
};

/** The last value of `--name` in an argument list (as the benchmarks' parsers read it). */
function argValue(args: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === `--${name}`) v = args[i + 1];
    else if (args[i]!.startsWith(`--${name}=`)) v = args[i]!.slice(name.length + 3);
  }
  return v;
}

/** Time limit of one benchmark: its own bound plus a margin for start-up and teardown. */
function timeLimitMs(bench: BenchName, args: readonly string[]): number {
  const n = (name: string, def: number) => {
    const v = Number(argValue(args, name));
    return Number.isFinite(v) && v > 0 ? v : def;
  };
  switch (bench) {
    case 'setup':
      return (n('duration', 30) + 120) * 1000;
    case 'media':
      return (n('max-seconds', 290) + 60) * 1000; // bench:media stops itself at --max-seconds
    case 'turn':
      return 240_000; // bench:turn has a hard deadline of 170 s
    case 'turn-taking':
      return 300_000; // bench:turn-taking has a hard deadline of 240 s
    case 'webhook':
      return (n('duration', 10) + 120) * 1000;
  }
}

// ------------------------------------------------------------------------------------------ children

let current: ChildProcess | undefined;

/** Signals the process group of a benchmark child (it was spawned detached: the group is its own). */
function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* the group is gone */
  }
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  seconds: number;
}

function runChild(name: string, scriptPath: string, args: string[], o: { logFile: string; timeoutMs: number; verbose: boolean; env?: NodeJS.ProcessEnv }): Promise<ChildResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const env = { ...process.env, ...o.env };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--import', 'tsx', scriptPath, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: a time-out kills the benchmark and everything it started, nothing else
    });
    current = child;
    const log = createWriteStream(o.logFile);
    log.write(`$ ${path.relative(REPO_ROOT, scriptPath)} ${args.join(' ')}\n`);
    const relay = (stream: NodeJS.ReadableStream) =>
      stream.on('data', (c: Buffer) => {
        log.write(c);
        if (o.verbose) process.stdout.write(c.toString().replace(/^(?=.)/gm, `[${name}] `));
      });
    relay(child.stdout!);
    relay(child.stderr!);
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      timedOut = true;
      console.error(`bench: ${name} exceeded its ${Math.round(o.timeoutMs / 1000)} s limit: stopping it`);
      signalGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
    }, o.timeoutMs);
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      current = undefined;
      log.end();
      resolve({ code, signal, timedOut, seconds: (performance.now() - t0) / 1000 });
    };
    child.on('error', (err) => {
      log.write(`spawn error: ${err.message}\n`);
      finish(127, null);
    });
    // Anything the benchmark left behind in its group (a forked runtime or a redis-server after a crash)
    // goes when it exits; that also closes the output pipes such a leftover may hold open.
    child.on('exit', () => signalGroup(child, 'SIGKILL'));
    child.on('close', finish);
  });
}

function outcomeOf(bench: BenchName, r: ChildResult, jsonFile: string): BenchOutcome {
  let text: string | undefined;
  try {
    text = readFileSync(jsonFile, 'utf8');
  } catch {
    text = undefined;
  }
  const parsed = parseResult(bench, text);
  const how = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  if (r.timedOut || r.signal || !parsed.result) {
    return { bench, status: 'error', exitCode: r.code, seconds: r.seconds, error: `${how}${parsed.error ? `, ${parsed.error}` : ''}` };
  }
  // A benchmark exits 1 when its own bars fail; with a result file that is a measurement, not a crash.
  return { bench, status: 'ok', exitCode: r.code, seconds: r.seconds, result: parsed.result };
}

// ------------------------------------------------------------------------------------------ webhook run

const WEBHOOK_DID = '+15557008000';
const WEBHOOK_TENANT = 'bench-webhook';

let runtime: RuntimeProcess | undefined;
let redisServer: RedisServerHandle | undefined;

async function webhookRun(o: Options, dir: string): Promise<BenchOutcome> {
  const jsonFile = path.join(dir, 'webhook.json');
  const logFile = path.join(dir, 'webhook.log');
  const runtimeLog = path.join(dir, 'webhook-runtime.log');
  let api: CallControlApi | undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-bench-webhook-'));
  try {
    redisServer = await startRedisServer();
    api = await startCallControlApi({ maxRecorded: 1000 });
    const keys = generateTestKeyPair();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    runtime = spawnRuntime({
      logFile: runtimeLog,
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        LOG_LEVEL: 'info',
        PROCESS_ROLE: o.webhookRole,
        TELNYX_API_KEY: api.apiKey,
        TELNYX_PUBLIC_KEY: keys.publicKeyB64,
        TELNYX_API_BASE_URL: api.baseUrl,
        MEDIA_STREAM_TOKEN: randomBytes(16).toString('hex'),
        METRICS_TOKEN: randomBytes(16).toString('hex'),
        PUBLIC_BASE_URL: origin,
        AUDIO_PUBLIC_BASE_URL: `${origin}/audio`,
        AUDIO_STORAGE_DIR: path.join(tmp, 'audio'),
        // No media stream connects in this run: speech services are never called.
        WHISPER_URL: 'http://127.0.0.1:9/v1/audio/transcriptions',
        KOKORO_URL: 'http://127.0.0.1:9/v1/audio/speech',
        STT_CHUNK_MS: '1000',
        STT_SILENCE_MS: '600',
        DEAD_AIR_MS: '15000',
        REDIS_URL: redisServer.url,
        GLOBAL_CONCURRENCY_CAP: '1000000',
        TENANT_CONCURRENCY_CAP_DEFAULT: '1000000',
        TENANT_CALLS_PER_MIN_CAP_DEFAULT: '1000000',
        CAPACITY_TTL_SECONDS: '60',
      },
    });
    await runtime.waitReady(60_000);
    const redis = createRedis(redisServer.url, 'request');
    try {
      await redis.set(`tenantmap:did:${WEBHOOK_DID}`, WEBHOOK_TENANT);
      await redis.set(`tenantcfg:${WEBHOOK_TENANT}`, JSON.stringify(demoTenantConfig({ tenantId: WEBHOOK_TENANT, did: WEBHOOK_DID, maxConcurrent: 1_000_000, perMinute: 1_000_000 })));
    } finally {
      await closeRedis(redis);
    }
    const seed = Buffer.from(keys.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('base64');
    const args = [
      '--url', `${runtime.url}/v1/telnyx/webhook`,
      '--to', WEBHOOK_DID,
      '--scheme', 'ed25519',
      '--duration', String(o.webhookDurationSec),
      '--concurrency', String(o.webhookConcurrency),
      '--rps', String(o.webhookRps),
      ...o.extra.webhook,
      '--json', jsonFile,
    ];
    rmSync(jsonFile, { force: true });
    const cpu0 = processCpuMs(runtime.pid);
    const main0 = processCpuMs(runtime.pid, runtime.pid);
    const r = await runChild('webhook', path.join(REPO_ROOT, 'scripts', 'load-test.ts'), args, {
      logFile,
      timeoutMs: timeLimitMs('webhook', args),
      verbose: o.verbose,
      // The key goes through the environment, not argv; TELNYX_PUBLIC_KEY matches it (no .env mismatch warning).
      env: { TELNYX_PRIVATE_KEY: seed, TELNYX_PUBLIC_KEY: keys.publicKeyB64 },
    });
    const out = outcomeOf('webhook', r, jsonFile);
    // The runtime's own CPU time for the run, once it is idle again (with PROCESS_ROLE=all its workers may
    // still be working off the events): CPU per acknowledged webhook does not depend on what else the
    // machine runs, unlike acks/s on a shared box.
    const cpuMs = cpu0 === undefined ? undefined : await cpuUntilIdle(runtime.pid, cpu0);
    const main1 = processCpuMs(runtime.pid, runtime.pid);
    const mainMs = main0 === undefined || main1 === undefined ? undefined : main1 - main0;
    if (out.status === 'ok') {
      const succeeded = (out.result as { succeeded?: number }).succeeded ?? 0;
      const runtimeCpu =
        cpuMs === undefined || succeeded === 0
          ? undefined
          : {
              cpuMs,
              msPer1000Acks: Math.round((cpuMs / succeeded) * 1000 * 10) / 10,
              acksPerCpuSecond: Math.round(succeeded / (cpuMs / 1000)),
              // The event loop's share: what bounds one process's rate (the rest ran on other threads).
              mainThreadMsPer1000Acks: mainMs === undefined ? undefined : Math.round((mainMs / succeeded) * 1000 * 10) / 10,
            };
      const lg = (out.result as { loadGeneratorCpuMs?: number; requests?: number }).loadGeneratorCpuMs;
      if (lg !== undefined) console.log(`\nbench: webhook load generator CPU ${lg} ms (separate process, same cores)`);
      if (runtimeCpu) console.log(`\nbench: webhook runtime CPU ${runtimeCpu.cpuMs} ms for ${succeeded} acks = ${runtimeCpu.msPer1000Acks} ms per 1,000 (main thread ${runtimeCpu.mainThreadMsPer1000Acks ?? '?'} ms; ${runtimeCpu.acksPerCpuSecond} acks per CPU-second, PROCESS_ROLE=${o.webhookRole})`);
      out.result = {
        ...(out.result as object),
        runtimeCpu,
        // As load-test read them (the user's --webhook-args win over the defaults).
        setup: {
          concurrency: Number(argValue(args, 'concurrency')),
          offeredRps: argValue(args, 'rps') === undefined ? null : Number(argValue(args, 'rps')),
          durationSec: Number(argValue(args, 'duration')),
          runtime: `src/main.ts child, NODE_ENV=production, LOG_LEVEL=info, PROCESS_ROLE=${o.webhookRole}`,
        },
      };
    }
    return out;
  } catch (err) {
    const tail = runtime ? `\n${runtime.tail(15).join('\n')}` : '';
    writeFileSync(logFile, `webhook run failed: ${(err as Error).stack ?? String(err)}${tail}\n`, { flag: 'a' });
    return { bench: 'webhook', status: 'error', error: (err as Error).message };
  } finally {
    if (runtime) {
      const code = await runtime.stop();
      if (code !== 0) console.error(`bench: the webhook run's runtime exited with code ${code} (log ${runtimeLog})`);
      runtime = undefined;
    }
    await api?.close().catch(() => undefined);
    await redisServer?.destroy().catch(() => undefined);
    redisServer = undefined;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * user + system CPU time of a process in ms (Linux /proc), undefined elsewhere; with `thread`, of that one
 * thread (the main thread's id is the pid: its event loop, without the thread pool and worker threads).
 */
function processCpuMs(pid: number, thread?: number): number | undefined {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU ms the process used since `from`, read once it spends under 10 % of a core for half a second (≤ 60 s). */
async function cpuUntilIdle(pid: number, from: number): Promise<number | undefined> {
  let last = processCpuMs(pid);
  for (let i = 0; i < 120 && last !== undefined; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const now = processCpuMs(pid);
    if (now === undefined) break;
    const busy = now - last;
    last = now;
    if (busy < 50) break;
  }
  return last === undefined ? undefined : last - from;
}

// ------------------------------------------------------------------------------------------ main

async function main(argv: string[]): Promise<number> {
  let o: Options;
  try {
    const parsed = parseOptions(argv);
    if (parsed === 'help') {
      console.log(HELP);
      return 0;
    }
    o = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n(npm run bench -- --help for usage)`);
    return 2;
  }
  const dir = o.logDir ? path.resolve(o.logDir) : mkdtempSync(path.join(os.tmpdir(), 'veralux-bench-'));
  mkdirSync(dir, { recursive: true });
  // The benchmarks' own temp files (and what their tools write to "the temp dir": tsx's cache, espeak-ng's
  // audio runtime dir) go in a scratch dir removed at the end, never straight into the system's.
  const scratch = mkdtempSync(path.join(dir, 'tmp-'));
  process.env.TMPDIR = scratch;
  process.env.PULSE_RUNTIME_PATH = path.join(scratch, 'pulse');
  const startedAt = new Date();
  const load0 = os.loadavg();
  console.log(
    `bench: ${o.quick ? 'quick' : 'full'} run of ${[...o.only].join(', ')} — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ` +
      `load average ${load0.map((x) => x.toFixed(2)).join(' ')}; logs in ${dir}`,
  );

  const outcomes: BenchOutcome[] = [];
  for (const bench of BENCHES) {
    if (!o.only.has(bench)) {
      outcomes.push({ bench, status: 'skipped' });
      continue;
    }
    const t0 = performance.now();
    process.stdout.write(`bench: ${bench} … `);
    let out: BenchOutcome;
    if (bench === 'webhook') out = await webhookRun(o, dir);
    else {
      const jsonFile = path.join(dir, `${bench}.json`);
      rmSync(jsonFile, { force: true });
      const args = [...DEFAULT_ARGS[bench][o.quick ? 'quick' : 'full'], ...o.extra[bench], '--json', jsonFile];
      const r = await runChild(bench, path.join(__dirname, `${bench}.ts`), args, { logFile: path.join(dir, `${bench}.log`), timeoutMs: timeLimitMs(bench, args), verbose: o.verbose });
      out = outcomeOf(bench, r, jsonFile);
    }
    out.seconds = (performance.now() - t0) / 1000;
    outcomes.push(out);
    console.log(`${out.status === 'ok' ? 'done' : `ERROR (${out.error})`} in ${out.seconds.toFixed(0)} s (log ${path.join(dir, `${bench}.log`)})`);
    if (interrupted) break;
  }

  const rows = buildRows(outcomes);
  const t = totals(rows);
  const load1 = os.loadavg();
  console.log(`\nBars (docs/design.md §Bars) — ${startedAt.toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, ${o.quick ? 'quick' : 'full'} run; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
  console.log(renderTable(rows));
  // A temp log dir of our own goes once every benchmark gave a result; a crash keeps it for its log.
  if (o.out) writeFileSync(o.out, `${JSON.stringify({ date: startedAt.toISOString(), quick: o.quick, cpus: os.cpus().length, node: process.version, loadavg: { start: load0, end: load1 }, outcomes, rows }, null, 2)}\n`);
  let keepLogs = Boolean(o.logDir) || t.error > 0 || interrupted;
  try {
    rmSync(keepLogs ? scratch : dir, { recursive: true, force: true });
  } catch (err) {
    keepLogs = true;
    console.error(`bench: could not remove ${keepLogs ? scratch : dir}: ${(err as Error).message}`);
  }
  console.log(
    `\n${t.pass} met, ${t.fail} not met${t.skip ? `, ${t.skip} not run` : ''}${t.error ? `, ${t.error} without a result (benchmark crashed — see its log)` : ''}. ` +
      (keepLogs ? `Logs and per-benchmark JSON: ${dir}` : 'Logs removed (--log-dir DIR keeps them).'),
  );
  if (o.out) console.log(`results written to ${o.out}`);
  return interrupted ? 130 : exitCodeFor(outcomes, rows, o.strict);
}

let interrupted = false;
function onSignal(sig: NodeJS.Signals): void {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error(`\nbench: ${sig}: stopping the running benchmark`);
  if (current) signalGroup(current, 'SIGTERM');
  void runtime?.stop(5000);
}

if (require.main === module) {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    if (current) signalGroup(current, 'SIGKILL');
    runtime?.killNow();
    if (redisServer && redisServer.pid > 0) {
      try {
        process.kill(redisServer.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
