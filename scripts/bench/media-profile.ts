/**
 * Summarises a V8 .cpuprofile (from the bench:media runtime, --profile): self time per function and
 * per source bucket (our src/ files, each node_modules package, node internals, GC, idle).
 * Usage as a script: npx tsx scripts/bench/media-profile.ts FILE.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface BusyStretch {
  startMs: number;
  ms: number;
  top: { name: string; where: string; ms: number }[];
  /** Most frequent leaf-to-root stack of the stretch (outermost 12 frames dropped). */
  stack: string[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** Busy time by pipeline stage: each sample goes to the innermost frame that names a stage. */
  stages: { stage: string; selfMs: number; pct: number }[];
  /** Longest runs of consecutive non-idle samples: what blocks the event loop. */
  stretches: BusyStretch[];
  top: { name: string; where: string; selfMs: number; pct: number }[];
  buckets: { bucket: string; selfMs: number; pct: number }[];
}

const ROOT = path.resolve(__dirname, '../..');

function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  if (u.startsWith(ROOT)) return path.relative(ROOT, u);
  return u;
}

export function summarizeProfile(file: string, topN = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i += 1) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = deltas[i + 1] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, dt));
  }
  const fnTotals = new Map<string, { name: string; where: string; us: number }>();
  const buckets = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') idle += us;
    const b = bucketOf(url, name);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
    const where = url ? `${bucketOf(url, name)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = fnTotals.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fnTotals.set(key, e);
  }
  const stretches = busyStretches(p, byId);
  const stages = stageTotals(p, byId);
  const busy = total - idle;
  const pct = (us: number) => (busy > 0 ? (100 * us) / busy : 0);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    stretches,
    stages: stages.filter(([st]) => st !== 'idle').map(([stage, us]) => ({ stage, selfMs: us / 1000, pct: pct(us) })),
    top: [...fnTotals.values()]
      .filter((e) => e.name !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: pct(e.us) })),
    buckets: [...buckets.entries()]
      .filter(([b]) => b !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([bucket, us]) => ({ bucket, selfMs: us / 1000, pct: pct(us) })),
  };
}

/** Stage of one frame, or undefined when the frame says nothing (node internals, natives). */
function stageOfFrame(fn: string, url: string): string | undefined {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (!url) return undefined;
  if (url.includes('onnxruntime-node') || url.includes('silero-model')) return 'Silero inference (onnxruntime, JS thread)';
  if (/stt\/|\/wav\.ts|axios|follow-redirects|form-data/.test(url)) return 'STT requests (WAV + multipart + axios + HTTP)';
  if (url.includes('resampler')) return 'resampler 8k→16k';
  if (url.includes('highpass')) return 'high-pass filter';
  if (/silero-vad|energy-vad|noise-floor|ring-buffer/.test(url)) return 'VAD (JS side: framing, gate, noise floor)';
  if (url.includes('endpointer')) return 'endpointer';
  if (url.includes('telnyx/media-protocol')) return 'protocol parse (JSON.parse + validation)';
  if (url.includes('codecs/')) return 'codec decode';
  if (/media-session|reorder-buffer|speech-pipeline|ingest-health|session-registry/.test(url)) return 'session glue (base64, reorder, pipeline, promises)';
  if (/media-ws|npm:ws|node_modules\/ws\//.test(url) || url.includes('/ws/lib/')) return 'WebSocket receive (ws)';
  if (/ioredis|bullmq|msgpackr|cluster-key-slot/.test(url)) return 'Redis/BullMQ (workers, leases)';
  if (/prom-client|metrics/.test(url)) return 'metrics';
  if (/pino|logger/.test(url)) return 'logging';
  if (/conversation|playout|brain|tts/.test(url)) return 'conversation layer';
  if (/scripts\/bench/.test(url)) return 'bench probes (IPC, profiler)';
  return undefined;
}

function stageTotals(p: CpuProfile, byId: Map<number, ProfileNode>): [string, number][] {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const stageOf = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    let st: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined && !st; cur = parent.get(cur)) {
      const c = byId.get(cur)!.callFrame;
      st = stageOfFrame(c.functionName, c.url);
    }
    const leaf = byId.get(id)!.callFrame;
    st ??= leaf.url.startsWith('node:') && /net|stream|_http|events|timers|task_queues/.test(leaf.url) ? 'node I/O, events, timers (no app frame)' : 'other / unattributed (native, program)';
    memo.set(id, st);
    return st;
  };
  const totals = new Map<string, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i += 1) {
    const st = stageOf(samples[i]!);
    totals.set(st, (totals.get(st) ?? 0) + Math.max(0, deltas[i + 1] ?? 0));
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

function busyStretches(p: CpuProfile, byId: Map<number, ProfileNode>, count = 3): BusyStretch[] {
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isIdle = (id: number) => {
    const f = byId.get(id)!.callFrame.functionName;
    return f === '(idle)' || f === 'poll' || f === 'epoll_wait';
  };
  const runs: { from: number; to: number; ms: number; startMs: number }[] = [];
  let t = 0;
  let from = -1;
  let runStart = 0;
  for (let i = 0; i < samples.length; i += 1) {
    t += deltas[i] ?? 0;
    if (!isIdle(samples[i]!)) {
      if (from < 0) {
        from = i;
        runStart = t;
      }
    } else if (from >= 0) {
      runs.push({ from, to: i, ms: (t - runStart) / 1000, startMs: runStart / 1000 });
      from = -1;
    }
  }
  if (from >= 0) runs.push({ from, to: samples.length, ms: (t - runStart) / 1000, startMs: runStart / 1000 });
  runs.sort((a, b) => b.ms - a.ms);
  return runs.slice(0, count).map((r) => {
    const fn = new Map<string, { name: string; where: string; ms: number }>();
    const stacks = new Map<number, number>();
    for (let i = r.from; i < r.to; i += 1) {
      const n = byId.get(samples[i]!)!;
      const name = n.callFrame.functionName || '(anonymous)';
      const where = n.callFrame.url ? `${bucketOf(n.callFrame.url, name)}:${n.callFrame.lineNumber + 1}` : '';
      const e = fn.get(`${name}@${where}`) ?? { name, where, ms: 0 };
      e.ms += (deltas[i + 1] ?? 0) / 1000;
      fn.set(`${name}@${where}`, e);
      stacks.set(samples[i]!, (stacks.get(samples[i]!) ?? 0) + 1);
    }
    const leaf = [...stacks.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const stack: string[] = [];
    for (let id: number | undefined = leaf; id !== undefined && stack.length < 12; id = parent.get(id)) {
      const c = byId.get(id)!.callFrame;
      if (c.functionName === '(root)') break;
      stack.push(`${c.functionName || '(anonymous)'} ${c.url ? bucketOf(c.url, c.functionName) : ''}`.trim());
    }
    return { startMs: r.startMs, ms: r.ms, top: [...fn.values()].sort((a, b) => b.ms - a.ms).slice(0, 6), stack };
  });
}

export function printProfile(s: ProfileSummary, label: string): void {
  const busy = s.totalMs - s.idleMs;
  console.log(`\n  CPU profile ${label}: ${(s.totalMs / 1000).toFixed(1)} s sampled, busy ${(busy / 1000).toFixed(1)} s (${((100 * busy) / s.totalMs).toFixed(0)} %), % below = share of busy time`);
  console.log('  by pipeline stage (innermost app frame of each sample):');
  for (const b of s.stages) console.log(`    ${b.pct.toFixed(1).padStart(5)} %  ${b.selfMs.toFixed(0).padStart(7)} ms  ${b.stage}`);
  console.log('  by source (self time):');
  for (const b of s.buckets.slice(0, 15)) console.log(`    ${b.pct.toFixed(1).padStart(5)} %  ${b.selfMs.toFixed(0).padStart(7)} ms  ${b.bucket}`);
  console.log('  top functions (self time):');
  for (const f of s.top) console.log(`    ${f.pct.toFixed(1).padStart(5)} %  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}`);
  console.log('  longest event-loop blocks (consecutive busy samples):');
  for (const b of s.stretches) {
    console.log(`    ${b.ms.toFixed(1)} ms at +${(b.startMs / 1000).toFixed(2)} s: ${b.top.map((f) => `${f.name} ${f.ms.toFixed(1)}`).join(', ')}`);
    console.log(`      hottest stack: ${b.stack.join(' < ')}`);
  }
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx scripts/bench/media-profile.ts FILE.cpuprofile [--top N]');
    process.exit(1);
  }
  const i = process.argv.indexOf('--top');
  printProfile(summarizeProfile(file, i > 0 ? Number(process.argv[i + 1]) : 30), path.basename(file));
}
