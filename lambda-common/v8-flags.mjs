// V8 flags for the wasm core, chosen per handler and set before its module is compiled
// (call `applyV8Flags` before `loadShim`). Measured on Node 20 / V8 11.3 (bench notes,
// "Cold start"); the deployed nodejs22.x (V8 12.4) has the same defaults: lazy
// compilation, Liftoff first, dynamic tier-up to TurboFan on background threads.
import v8 from 'node:v8';

/**
 * Set by the package glue itself, before it compiles its module: `scripts/build` writes
 * these into the glue of `edge-shim/pkg` and `pkg-request`, so every consumer of the
 * package (the handlers, the upload processor, the API, scripts/transform, a benchmark)
 * compiles it the same way. `--wasm-lazy-validation`: each function is validated at its
 * first compile instead of all 4 MB up front, 13 ms less import on Node 20 and 22
 * (tests/v8flags.test.mjs checks that the module still validates whole).
 * `--experimental-wasm-compilation-hints`: reads the hints section below. Without a
 * hints section (`pkg-request`) it changes nothing; with a malformed one V8 would reject
 * the module, so tests/wasm-hints.test.mjs checks the section the build writes.
 */
export const PACKAGE_V8_FLAGS = ['--wasm-lazy-validation', '--experimental-wasm-compilation-hints'];

/**
 * The functions `scripts/build` marks in `edge-shim/pkg`'s compilation-hints section
 * (scripts/lib/wasm-hints.mjs), read under `--experimental-wasm-compilation-hints`
 * (V8 11.3 and 12.4 both have it): TurboFan compiles them on background threads from
 * module compile on, so the first image's JPEG decode and resize run optimised code
 * after a few ms instead of baseline (Liftoff) code until V8's tier-up budget runs out.
 * The inner loops every first request runs whatever the output: JPEG entropy decoding
 * and block reconstruction, 4:2:0 upsampling and YCbCr conversion, both Lanczos passes
 * (names as in the source; every monomorphised copy is marked).
 *
 * Measured 2026-12-01, fresh processes, import + one transform of hato.jpg, 25-40
 * interleaved runs, medians. Node 20, 2 cores: T1 -5 ms, T2 -4 to -8 ms (four runs),
 * T3 -12 ms; one core (`taskset`): T1 -4, T2 -6, T3 -6 ms; Node 22: within 1.5 ms
 * (its larger budget tiers these up early anyway). Import is 8-10 ms longer (the
 * background compiles share the cores with it), the transform 12-20 ms shorter.
 * Not marked:
 * - the WebP encoder's kernels (all 51 that tier up in a cold T2: T2 -12 to -17 ms, but
 *   T1 +15 and T3 +8 ms, their compiles competing for nothing; only the 28 under 1 KB:
 *   T2 -3, T1 +4 ms against this list), the JPEG encoder's, rav1e's (173 functions,
 *   324 KB);
 * - setup code that tiers up only because it loops (Lanczos weights, Huffman tables,
 *   the allocator): no gain;
 * - hint 0x29 instead (TurboFan at the first call, on the main thread): T2 +6 ms.
 */
export const EAGER_TOP_TIER_FUNCTIONS = [
  'jpeg_decoder::huffman::HuffmanDecoder::decode',
  'jpeg_decoder::huffman::HuffmanDecoder::read_bits_slow',
  'jpeg_decoder::decoder::Decoder<R>::decode_mcu_row',
  'jpeg_decoder::worker::immediate::ImmediateWorker::append_row_immediate',
  'jpeg_decoder::decoder::color_convert_line_ycbcr',
  '<jpeg_decoder::upsampler::UpsamplerH2V2 as jpeg_decoder::upsampler::Upsample>::upsample_row',
  'edge_core::image::resize::lanczos::vertical_pass',
  'edge_core::image::resize::lanczos::simd128::Prepared::horizontal_pass',
  'edge_core::image::resize::lanczos::simd128::RgbPairs::outputs',
];

/**
 * viewer-request: nothing beyond the package's. `--liftoff-only` measured ~15 % less CPU
 * for a cold container doing 200 requests (its calls are microseconds of URL rules, so
 * TurboFan never pays back), but flags are per process and `scripts/dev` and the handler
 * tests load both handlers in one: it would make the origin's images 1.9x slower there.
 */
export const VIEWER_V8_FLAGS = [];

/**
 * origin-response: nothing beyond the package's, otherwise V8's defaults (tiering budget
 * 1.8 M on Node 20, 13 M on Node 22). Measured again after the decoder was shaped for
 * tier-up (fresh processes, import + one T2, 15-25 interleaved runs each): 13 M on Node
 * 20, smaller budgets (0.15-0.9 M: more functions optimised, and those compiles compete
 * with the main thread on 2 cores, +10-40 ms), `--no-wasm-loop-unrolling` / `-peeling`:
 * none beat the defaults. Earlier measurements, per-request CPU of T2 (hato.jpg) in one
 * process, requests 1, 2, 3 and the steady state: default 255, 86, 61, 51 ms;
 * `--liftoff-only` 115, 97, 96, 97 ms (the first request's TurboFan compiles gone, but
 * every later image 1.9x slower: a container serves many); a 500x larger
 * `--wasm-tiering-budget` 208, 99, 100, 53 ms. `--no-liftoff` and
 * `--no-wasm-lazy-compilation` compile far more at init than one image uses.
 * Measured 2026-12-01 (fresh processes, import + one T2, 20-40 interleaved runs, Node 20
 * and 22 on 2 cores, and on one core with `taskset`, closer to a Lambda at 1,536 MB with
 * ~0.9 vCPU): `--wasm-num-compilation-tasks=1` 8-9 ms faster on Node 20 and 1 ms on Node
 * 22 with 2 cores, but 14 and 6.5 ms slower on one core, where fewer compile threads get
 * a smaller share of it; `--turboshaft-wasm` (Node 22) 2 ms, within the spread;
 * `--no-wasm-dynamic-tiering` 110-130 ms slower; `--wasm-sync-tier-up` (Node 22, a
 * testing flag) had not finished after 20 s; budgets of 4 M and 1.8 M on Node 22 10-15
 * ms slower.
 */
export const ORIGIN_V8_FLAGS = [];

/** Sets `flags` once per process; must run before the wasm module is compiled. */
export function applyV8Flags(flags) {
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}
