import { LoopLoad } from '../../src/lib/loop-load';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('reports how busy the event loop was over the last interval', async () => {
  const load = new LoopLoad(100);
  try {
    await sleep(250);
    expect(load.utilization).toBeLessThan(0.5); // idle: waiting on a timer
    // Busy: 30 ms blocks with barely a pause between them, for 400 ms.
    const until = Date.now() + 400;
    while (Date.now() < until) {
      const end = Date.now() + 30;
      while (Date.now() < end);
      await new Promise((r) => setImmediate(r));
    }
    expect(load.utilization).toBeGreaterThan(0.7);
  } finally {
    load.close();
  }
});
