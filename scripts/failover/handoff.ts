/**
 * Deploy and crash scenarios on a two-instance fleet (fleet.ts): callers in the middle of a
 * conversation, then one instance gets SIGTERM (deploy) or SIGKILL (crash). Each call must move to
 * the surviving instance and its next turn must be answered with the history from before.
 *
 * Every caller is a pausedCaller (scripts/sim/paused-caller.ts): silent from its first answer until
 * the move is over, then a second brain turn.
 */
import { pausedCaller } from '../sim/paused-caller';
import { CALLER_LINES, DEMO_DID } from '../sim/script';
import type { SimCall, SimEvent } from '../sim/simulator';
import type { Fleet, FleetInstance } from './fleet';

export type HandoffKind = 'deploy' | 'crash';

export interface CallOutcome {
  callControlId: string;
  from: string;
  moved: boolean;
  /**
   * Deploy: the last caller frame sent on the old media socket → the first one sent on the new socket.
   * Crash: SIGKILL → the new stream connected. ms
   */
  gapMs?: number;
  nextTurnAnswered: boolean;
  /** The brain request of the turn after the move carried the turn before it. */
  historyKept: boolean;
  endedBy?: 'caller' | 'runtime';
}

export interface HandoffResult {
  kind: HandoffKind;
  calls: CallOutcome[];
  /** Calls on the stopped instance. */
  onStopped: number;
  /** Exit code of the stopped instance (0 for a clean drain; 137 for SIGKILL). */
  exitCode: number;
  /** SIGTERM/SIGKILL → the process exited (deploy), ms. */
  exitMs: number;
  /** Capacity slots held after every call ended. */
  slotsAfter: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export async function runHandoff(fleet: Fleet, kind: HandoffKind, callCount = 4): Promise<HandoffResult> {
  const gate = { open: false };
  const firstReplyHeard = new Set<string>();
  const script = (id: () => string) => pausedCaller(gate, () => firstReplyHeard.add(id()));

  // Per call: when a new stream connected (a crash's gap runs from the kill to it).
  const reconnectedAt = new Map<string, number>();
  const off = fleet.sim.onEvent((e: SimEvent) => {
    if (e.type === 'media_connected' && e.restart && !reconnectedAt.has(e.call.id)) reconnectedAt.set(e.call.id, performance.now());
  });

  const calls: SimCall[] = [];
  try {
    for (let i = 0; i < callCount; i += 1) {
      // The script asks for its call's id only after the first reply, long after placeCall resolved.
      const ref: { call?: SimCall } = {};
      ref.call = await fleet.sim.placeCall({ to: DEMO_DID, codec: 'PCMU', callerAudio: { script: script(() => ref.call!.id) } });
      calls.push(ref.call);
    }
    await waitFor(() => calls.every((c) => firstReplyHeard.has(c.id)), 60_000, 'every caller to hear its first reply');

    // The instance holding the most calls is the one that goes away.
    const holders = new Map<FleetInstance, string[]>();
    for (const c of calls) {
      const inst = fleet.instanceOf(c.id);
      if (inst) holders.set(inst, [...(holders.get(inst) ?? []), c.id]);
    }
    const [victim, victimCalls] = [...holders.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    const brainBefore = fleet.stand.brain.requests.length;
    // A call's stream may have switched before (a stall, a codec fallback): the move's gap is the next one.
    const switchesBefore = new Map(calls.map((c) => [c.id, c.streamSwitchGapsMs.length]));
    const t0 = performance.now();
    if (kind === 'crash') process.kill(victim.process.pid, 'SIGKILL');
    else process.kill(victim.process.pid, 'SIGTERM');
    const exitCode = await victim.process.exited;
    const exitMs = performance.now() - t0;

    await waitFor(() => victimCalls.every((id) => reconnectedAt.has(id)), 30_000, 'the moved calls to reconnect').catch(() => undefined);
    gate.open = true;
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(calls.map((c) => c.ended)), new Promise((r) => (bound = setTimeout(r, 60_000)))]);
    clearTimeout(bound);

    const afterMove = fleet.stand.brain.requests.slice(brainBefore);
    const outcomes: CallOutcome[] = calls.map((c) => {
      const moved = victimCalls.includes(c.id);
      const req = afterMove.find((r) => r.body.callControlId === c.id);
      const history = Array.isArray(req?.body.history) ? (req!.body.history as { role: string; content: string }[]) : [];
      const r = reconnectedAt.get(c.id);
      const gapMs = kind === 'crash' ? (r !== undefined ? r - t0 : undefined) : c.streamSwitchGapsMs[switchesBefore.get(c.id) ?? 0];
      return {
        callControlId: c.id,
        from: moved ? victim.name : (fleet.instanceOf(c.id)?.name ?? '?'),
        moved,
        gapMs: moved ? gapMs : undefined,
        nextTurnAnswered: fleet.stand.brainReplies.some((b) => b.callControlId === c.id && b.transcript === CALLER_LINES[2]) && agentSpokeAfter(c, 2),
        historyKept: history.some((h) => h.role === 'user' && h.content === CALLER_LINES[0]) && history.some((h) => h.role === 'assistant'),
        endedBy: c.endedBy,
      };
    });
    // Slots are released when the hangup webhooks are processed.
    await waitFor(async () => (await fleet.slotsHeld()) === 0, 15_000, 'capacity slots to be released').catch(() => undefined);
    return { kind, calls: outcomes, onStopped: victimCalls.length, exitCode, exitMs, slotsAfter: await fleet.slotsHeld() };
  } finally {
    off();
    gate.open = true;
  }
}

/** The agent became audible after the caller finished utterance `index`. */
export function agentSpokeAfter(c: SimCall, index: number): boolean {
  const u = c.utterances.find((x) => x.index === index);
  return u?.endAt !== undefined && c.agentSpurts.some((t) => t > u.endAt!);
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
