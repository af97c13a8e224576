import { openScratch } from './run-scratch';

/** Unit tests need no Redis: only the run's scratch temp dir (run-scratch.ts). */
export default function unitGlobalSetup(): void {
  openScratch();
}
