// V8 flags for the wasm core, chosen per handler and set before its module is compiled
// (call `applyV8Flags` before `loadShim`). Measured on Node 20 / V8 11.3 (bench notes,
// "Cold start"); the deployed nodejs22.x (V8 12.4) has the same defaults: lazy
// compilation, Liftoff first, dynamic tier-up to TurboFan on background threads.
import v8 from 'node:v8';

/**
 * viewer-request: `--liftoff-only`. Its calls are a few microseconds of URL rules, so
 * optimised code never pays back, while TurboFan's tier-up compiles compete for the CPU
 * of a 128 MB function (a small CPU share): ~15 % less CPU for a cold container doing
 * 200 requests, the same per-request time once warm.
 */
export const VIEWER_V8_FLAGS = ['--liftoff-only'];

/**
 * origin-response: V8's defaults. `--liftoff-only` cuts the first T2 in a fresh process
 * (no tier-up compiles) but leaves every later image ~35 % slower; `--no-liftoff` and
 * `--no-wasm-lazy-compilation` compile far more at init than one image uses; a lower or
 * higher `--wasm-tiering-budget` measured no better than the default.
 */
export const ORIGIN_V8_FLAGS = [];

/** Sets `flags` once per process; must run before the wasm module is compiled. */
export function applyV8Flags(flags) {
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}
