import { closeScratch } from './run-scratch';

export default function unitGlobalTeardown(): void {
  closeScratch();
}
