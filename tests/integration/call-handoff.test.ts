/**
 * Calls survive a deploy and a crash: two real runtime processes on one Redis behind a loopback load
 * balancer, callers in mid-conversation (scripts/failover/handoff.ts). SIGTERM on the instance holding
 * calls hands each one to the other instance; SIGKILL lets the other instance take them over when
 * their owner leases lapse. Either way the next caller turn is answered with the history from before,
 * and no capacity slot is left held.
 */
import { startFleet, type Fleet } from '../../scripts/failover/fleet';
import { agentSpokeAfter, percentile, runHandoff, waitFor } from '../../scripts/failover/handoff';
import { pausedCaller } from '../../scripts/sim/paused-caller';
import { DEMO_DID } from '../../scripts/sim/script';
import type { SimCall } from '../../scripts/sim/simulator';
import { testRedisUrl } from '../support/test-config';

jest.setTimeout(240_000);

describe.each(['deploy', 'crash'] as const)('live calls across a %s', (kind) => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ redisUrl: testRedisUrl(), instances: 2 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('moves every call of the stopped instance, answers its next turn with the old history, and leaks no slot', async () => {
    const r = await runHandoff(fleet, kind, 4);
    const moved = r.calls.filter((c) => c.moved);
    const gaps = moved.map((c) => c.gapMs).filter((g): g is number => g !== undefined);
    process.stdout.write(`${kind}: ${JSON.stringify({ onStopped: r.onStopped, exitCode: r.exitCode, exitMs: Math.round(r.exitMs), gaps: gaps.map(Math.round) })}\n`);
    expect(r.onStopped).toBeGreaterThan(0);
    // Every call: not dropped (the caller hung up at the end of its script), answered after the move, with its history.
    for (const c of r.calls) {
      expect({ id: c.callControlId, endedBy: c.endedBy, answered: c.nextTurnAnswered, history: c.historyKept }).toEqual({
        id: c.callControlId,
        endedBy: 'caller',
        answered: true,
        history: true,
      });
    }
    expect(gaps).toHaveLength(moved.length);
    if (kind === 'deploy') {
      expect(r.exitCode).toBe(0);
      // Drained by handing the calls off, not by running into DRAIN_TIMEOUT_MS (30 s in the fleet).
      expect(r.exitMs).toBeLessThan(15_000);
      expect(percentile(gaps, 95)).toBeLessThanOrEqual(1500);
    } else {
      // Re-homed within 8 s of the crash.
      expect(Math.max(...gaps)).toBeLessThanOrEqual(8000);
    }
    expect(r.slotsAfter).toBe(0);
  });
});

/** A caller that heard its first reply and stays silent until `gate.open`, then takes its second turn. */
async function pausedCallAfterFirstReply(fleet: Fleet): Promise<{ call: SimCall; gate: { open: boolean } }> {
  const gate = { open: false };
  let firstReply = false;
  const call = await fleet.sim.placeCall({ to: DEMO_DID, codec: 'PCMU', callerAudio: { script: pausedCaller(gate, () => (firstReply = true)) } });
  await waitFor(() => firstReply, 60_000, 'the first reply');
  return { call, gate };
}

describe('a deploy with no other instance alive', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ redisUrl: testRedisUrl(), instances: 1 });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('says not-ready at once, serves its live call to the end, then exits 0', async () => {
    const { call, gate } = await pausedCallAfterFirstReply(fleet);
    const only = fleet.instances[0]!;
    process.kill(only.process.pid, 'SIGTERM');
    // Still listening, but the load balancer is told to send nothing new.
    await waitFor(async () => (await fetch(`${only.url}/health/ready`).then((r) => r.status).catch(() => 0)) === 503, 10_000, 'not-ready');
    gate.open = true;
    await call.ended;
    expect(call.endedBy).toBe('caller');
    expect(call.unexpectedCloses).toEqual([]);
    expect(agentSpokeAfter(call, 2)).toBe(true);
    expect(await only.process.exited).toBe(0);
  });
});

describe('a deploy with no other instance alive, past DRAIN_TIMEOUT_MS', () => {
  const DRAIN_MS = 3000;
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ redisUrl: testRedisUrl(), instances: 1, env: { DRAIN_TIMEOUT_MS: String(DRAIN_MS) } });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it('exits 0 once the timeout passes, leaving the call to the next instance, which takes it over', async () => {
    const { call, gate } = await pausedCallAfterFirstReply(fleet);
    const only = fleet.instances[0]!;
    const t0 = performance.now();
    process.kill(only.process.pid, 'SIGTERM');
    expect(await only.process.exited).toBe(0);
    const exitMs = performance.now() - t0;
    // Served until the timeout (the caller stayed silent and on the line), then shut down: not at once, not forever.
    expect(exitMs).toBeGreaterThanOrEqual(DRAIN_MS);
    expect(exitMs).toBeLessThan(DRAIN_MS + 12_000);
    // The runtime did not hang up on the caller: the call is still up with Telnyx.
    expect(call.isUp).toBe(true);
    expect(call.commands.filter((c) => c.action === 'hangup')).toEqual([]);

    // The replacement instance (a rolling deploy's next one) finds the call's owner lease lapsed and takes it over.
    await fleet.addInstance();
    await waitFor(() => call.streamSwitchGapsMs.length > 0, 30_000, 'the call to be re-homed');
    gate.open = true;
    await call.ended;
    expect(call.endedBy).toBe('caller');
    expect(agentSpokeAfter(call, 2)).toBe(true);
    await waitFor(async () => (await fleet.slotsHeld()) === 0, 15_000, 'the capacity slot to be released');
  });
});
