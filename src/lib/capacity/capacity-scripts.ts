/**
 * Loads the capacity Lua scripts and registers them on an ioredis client with defineCommand, so
 * calls go out as EVALSHA (ioredis falls back to EVAL once per connection on NOSCRIPT).
 * The file suffix is the number of KEYS (BullMQ convention); defineCommand needs it.
 */
import type { Redis } from 'ioredis';
import { defineLuaCommands } from '../lua';

const SCRIPTS = {
  capacityAcquire: 'capacity-acquire-3.lua',
  capacityCancel: 'capacity-cancel-3.lua',
  capacityRefresh: 'capacity-refresh-2.lua',
  capacityRelease: 'capacity-release-2.lua',
  capacityUsage: 'capacity-usage-3.lua',
} as const;

const READ_ONLY: ReadonlySet<string> = new Set(['capacityUsage']);

type Arg = string | number;

/** Typed view of the commands defineCommand adds (ioredis cannot type them itself). */
export interface CapacityCommands {
  capacityAcquire(globalKey: string, tenantKey: string, rateKey: string, ...argv: Arg[]): Promise<number>;
  capacityCancel(globalKey: string, tenantKey: string, rateKey: string, callId: string): Promise<number>;
  capacityRefresh(globalKey: string, tenantKey: string, leaseMs: number, ...callIds: string[]): Promise<string[]>;
  capacityRelease(globalKey: string, tenantKey: string, callId: string): Promise<number>;
  capacityUsage(globalKey: string, tenantKey: string, rateKey: string, windowMs: number): Promise<[number, number, number]>;
}

export function defineCapacityCommands(redis: Redis): CapacityCommands {
  // __dirname works from src/ (ts) and dist/ (the build copies *.lua next to the js).
  defineLuaCommands(redis, __dirname, SCRIPTS, READ_ONLY);
  return redis as unknown as CapacityCommands;
}
