/**
 * One dependency-check run shared by every caller: while a run is in flight, callers join it, and
 * its result is reused for `ttlMs` after it finished. So a burst of probes (several load balancers,
 * a curl loop, an attacker) costs at most one check per dependency per `ttlMs`.
 */
export class CachedRun<T> {
  private inFlight: Promise<T> | undefined;
  private last: { at: number; value: T } | undefined;

  constructor(
    private readonly run: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    if (this.last && this.now() - this.last.at < this.ttlMs) return Promise.resolve(this.last.value);
    this.inFlight ??= this.run().then(
      (value) => {
        this.last = { at: this.now(), value };
        this.inFlight = undefined;
        return value;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        throw err;
      },
    );
    return this.inFlight;
  }
}
