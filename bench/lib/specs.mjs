// What is measured: the four tasks, the inputs, the libraries. Shared by the runner,
// the per-library worker processes and the report.

import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_DIR = path.resolve(BENCH_DIR, '..');
export const CORPUS_DIR = path.resolve(REPO_DIR, '../shared/corpus');

/**
 * Each task: fit mode and box, output format and quality. AVIF speed is aom's cpu-used
 * 5 in every library that lets us choose it (sharp/libvips effort 4 maps to it).
 */
export const TASKS = {
  T1: { id: 'T1', title: 'thumbnail: cover 150x150 -> JPEG q85', fit: 'cover', width: 150, height: 150, format: 'jpeg', quality: 85 },
  T2: { id: 'T2', title: 'medium: inside 600x600 -> WebP q80 (lossy, effort/method 4)', fit: 'inside', width: 600, height: 600, format: 'webp', quality: 80 },
  T3: { id: 'T3', title: 'large: inside 1200x1200 -> JPEG q85', fit: 'inside', width: 1200, height: 1200, format: 'jpeg', quality: 85 },
  T4: { id: 'T4', title: 'avif: inside 600x600 -> AVIF q50 (aom speed 5 where settable), 4:2:0', fit: 'inside', width: 600, height: 600, format: 'avif', quality: 50 },
};

/**
 * The upload pipeline (issue 13's default eager set): four variants of one 12 MP JPEG.
 * The three presets as their legacy (JPEG, default q80) renditions, and `compressed`
 * exactly as configured (`w=1200&h=1200&fm=webp&q=80`; our default fit is inside).
 */
export const UPLOAD = {
  input: 'photos/dog_exif_extended_xmp_icc.jpg',
  variants: [
    { name: 'thumbnail', fit: 'cover', width: 150, height: 150, format: 'jpeg', quality: 80 },
    { name: 'medium', fit: 'inside', width: 600, height: 600, format: 'jpeg', quality: 80 },
    { name: 'large', fit: 'inside', width: 1200, height: 1200, format: 'jpeg', quality: 80 },
    { name: 'compressed', fit: 'inside', width: 1200, height: 1200, format: 'webp', quality: 80 },
  ],
};

/** Inputs, relative to the corpus. The first three are required by the issue. */
export const DEFAULT_INPUTS = [
  'photos/hato.jpg',
  'photos/HMD_Nokia_8.3_5G.jpg',
  'exif-orientation/Landscape_6.jpg',
  'photos/dog_exif_extended_xmp_icc.jpg',
  'photos/xmp_test_adobergb.jpg',
  'photos/GreenMeadow_progressive.jpg',
];

/**
 * Library ids -> adapter module and options. `ours` first so a broken build shows up
 * early; sharp-c1 is the baseline every ratio is computed against.
 */
export const LIBRARIES = {
  ours: { adapter: 'ours', options: {} },
  'sharp-c1': { adapter: 'sharp', options: { concurrency: 1 } },
  // sharp's default is 1 on glibc Linux (as on Lambda) and the core count elsewhere.
  'sharp-default': { adapter: 'sharp', options: { concurrency: null } },
  'sharp-c2': { adapter: 'sharp', options: { concurrency: 2 } },
  'wasm-vips': { adapter: 'wasm-vips', options: { concurrency: null } },
  'wasm-vips-c1': { adapter: 'wasm-vips', options: { concurrency: 1 } },
  jsquash: { adapter: 'jsquash', options: {} },
  photon: { adapter: 'photon', options: {} },
};

export const BASELINE = 'sharp-c1';

// `--compare REF` (bench/run.mjs): a second build of our core, from a git ref, runs as
// library `ours@REF`. Set through the environment so the worker processes see it too.
if (process.env.BENCH_COMPARE_PKG) {
  LIBRARIES[`ours@${process.env.BENCH_COMPARE_REF ?? 'ref'}`] = {
    adapter: 'ours',
    options: { pkgDir: process.env.BENCH_COMPARE_PKG, ref: process.env.BENCH_COMPARE_REF },
  };
}

/** Our query grammar for a task (see README "URL grammar"). */
export function taskQuery(spec) {
  return `w=${spec.width}&h=${spec.height}&fit=${spec.fit}&fm=${spec.format}&q=${spec.quality}`;
}

export async function loadAdapter(libId) {
  const lib = LIBRARIES[libId];
  if (!lib) throw new Error(`unknown library ${libId}; known: ${Object.keys(LIBRARIES).join(', ')}`);
  const mod = await import(new URL(`../adapters/${lib.adapter}.mjs`, import.meta.url));
  const adapter = await mod.create(lib.options);
  return { id: libId, ...adapter };
}
