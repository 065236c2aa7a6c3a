// Loads a wasm-pack package of edge-shim, configures it with the baked config, and keeps
// it usable after a trap.
//
// A wasm trap (`WebAssembly.RuntimeError`: `unreachable` from a Rust panic or abort, an
// out-of-bounds access, a failed allocation in wasm-bindgen's glue) leaves the instance in
// an unknown state: the shadow stack pointer is not unwound and the input copied into
// linear memory is never freed, so a trapped instance leaks and eventually fails every
// call. The wrapper returned here answers the trapping call with an `HttpError` 500
// `internal` and replaces the instance with a fresh one, made from the already compiled
// `WebAssembly.Module` (no recompilation), before the next call.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compileFunction } from 'node:vm';

import { configJson } from './config.mjs';
import { HttpError } from './http.mjs';

/** Thrown for a call that trapped; the shim has already been re-instantiated. */
export class WasmTrapError extends HttpError {
  constructor(fn, cause, panic) {
    super(500, 'internal', 'internal error');
    this.trap = true;
    // For the log line only (one line): never sent to the client.
    this.detail = `wasm trap in ${fn}: ${oneLine(cause?.message ?? String(cause))}${panic ? `; panic: ${panic}` : ''}`;
  }
}

// The edge-shim panic hook stores its one-line message here (see edge-shim/src/lib.rs)
// instead of printing a multi-line report to stderr.
const PANIC_SLOT = '__edgeShimPanic';

/** Whether `err` means the instance can no longer be trusted. */
export function isTrap(err) {
  return (
    err instanceof WebAssembly.RuntimeError ||
    // wasm-bindgen's termination guard (panic=unwind builds with `schedule_reinit`).
    (err instanceof Error && err.message === 'Module terminated')
  );
}

/**
 * Import the wasm-pack package (`--target nodejs`) in directory `dirUrl` (a `file:` URL
 * ending in `/`) and `configure()` it. Returns an object with every function the package
 * exports, each guarded against traps, plus:
 * - `wasmMemoryBytes()`: current size of the instance's linear memory;
 * - `stats()`: `{ instances, traps }` since load.
 * `options.onInstance(instance)` is called with each new `WebAssembly.Instance` (tests and
 * the soak run use it to read or fill the memory; the handlers pass nothing).
 */
export async function loadShim(dirUrl, options = {}) {
  return (await loadConfiguredShim(dirUrl, options)).shim;
}

/**
 * `loadShim`, also returning what `configure()` answered (the core's effective config
 * once branch `recut` makes it return one; undefined before).
 */
export async function loadConfiguredShim(dirUrl, options = {}) {
  // One instance per package per process, as `import()` of the package would give: a
  // handler and a test (or two handlers in one bundle) share it and its configuration.
  // A caller watching instances (`onInstance`) gets its own.
  if (options.onInstance) return load(dirUrl, options);
  const key = new URL(dirUrl).href;
  if (!loaded.has(key)) loaded.set(key, load(dirUrl, options));
  return loaded.get(key);
}

const loaded = new Map();

async function load(dirUrl, options) {
  const meta = JSON.parse(readFileSync(new URL('package.json', dirUrl), 'utf8'));
  const entry = meta.main ?? meta.module;
  if (typeof entry !== 'string') throw new Error(`no entry point in ${dirUrl}package.json`);
  const entryPath = fileURLToPath(new URL(entry, dirUrl));
  const glue = compileGlue(entryPath);
  const state = { compiled: undefined, exports: undefined, instance: undefined, instances: 0, traps: 0 };

  const instantiate = () => {
    state.exports = undefined;
    const { exports, instance, compiled } = glue(state.compiled, options.onInstance);
    state.compiled = compiled;
    state.instance = instance;
    const config = exports.configure(configJson);
    // A fresh instance after a trap keeps what was configured since (a test's or a
    // deploy's `configure()` call), not just the baked config.
    if (state.configured !== undefined) exports.configure(state.configured);
    state.config ??= config;
    state.exports = exports;
    state.instances += 1;
  };
  instantiate();

  const shim = {
    wasmMemoryBytes: () => state.instance?.exports.memory?.buffer.byteLength ?? 0,
    stats: () => ({ instances: state.instances, traps: state.traps }),
  };
  for (const [name, value] of Object.entries(state.exports)) {
    if (typeof value !== 'function' || name.startsWith('__') || name === 'initSync') continue;
    shim[name] = (...args) => {
      // A failed re-instantiation after a trap is retried here, before the next call.
      if (!state.exports) instantiate();
      try {
        const result = state.exports[name](...args);
        if (name === 'configure') state.configured = args[0];
        return result;
      } catch (err) {
        if (!isTrap(err)) throw err;
        state.traps += 1;
        const panic = takePanic();
        try {
          instantiate();
        } catch {
          // Left undefined: the next call tries again.
        }
        throw new WasmTrapError(name, err, panic);
      }
    };
  }
  return { shim, config: state.config };
}

/**
 * Compile the glue file once into a function that evaluates it afresh each call (new
 * heap tables, new memory views) with `WebAssembly.Module` answering the cached compiled
 * module, so re-instantiation costs an instantiation, not a compilation.
 */
function compileGlue(entryPath) {
  const source = readFileSync(entryPath, 'utf8');
  if (!source.includes('new WebAssembly.Module(')) {
    throw new Error(`${entryPath}: not a wasm-bindgen --target nodejs module`);
  }
  const run = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname', 'WebAssembly'], {
    filename: entryPath,
  });
  const require = createRequire(entryPath);
  const dirname = fileURLToPath(new URL('.', `file://${entryPath}`));
  return (cachedModule, onInstance) => {
    let compiled = cachedModule;
    let instance;
    const scope = Object.create(WebAssembly, {
      Module: {
        value: function Module(bytes, ...rest) {
          compiled ??= new WebAssembly.Module(bytes, ...rest);
          return compiled;
        },
      },
      Instance: {
        value: function Instance(module, imports) {
          instance = new WebAssembly.Instance(module, imports);
          return instance;
        },
      },
    });
    const module = { exports: {} };
    run.call(module.exports, module.exports, require, module, entryPath, dirname.replace(/\/$/, ''), scope);
    onInstance?.(instance);
    return { exports: module.exports, instance, compiled };
  };
}

function takePanic() {
  const message = globalThis[PANIC_SLOT];
  delete globalThis[PANIC_SLOT];
  return typeof message === 'string' ? oneLine(message) : undefined;
}

function oneLine(text) {
  return text.replace(/\s*\n\s*/g, ' | ').slice(0, 500);
}
