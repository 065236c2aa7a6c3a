// Writes V8's compilation-hints section into a wasm module: the named functions are
// compiled by TurboFan on background threads from the moment the module is compiled,
// instead of after V8's tier-up budget runs out mid-image (lambda-common/v8-flags.mjs,
// EAGER_TOP_TIER_FUNCTIONS, says which and why). V8 reads the section only under
// --experimental-wasm-compilation-hints (set by the package glue); other engines, and V8
// without the flag, skip it as an unknown custom section.
//
//   node scripts/lib/wasm-hints.mjs FILE.wasm    rewrites FILE.wasm in place
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SECTION_NAME = 'compilationHints';

/**
 * One byte per declared function (V8's module-decoder.cc): bits 0-1 the strategy, 2-3
 * the baseline tier, 4-5 the top tier. 0x23: strategy 3, "lazy baseline, eager top
 * tier" (Liftoff only if called before TurboFan is done), baseline tier default, top
 * tier 2, optimised. 0x00 leaves a function to V8's defaults.
 */
export const EAGER_TOP_TIER = 0x23;

const SECTION = { custom: 0, import: 2, function: 3, code: 10 };

function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    if (b === undefined || shift > 28) throw new Error('wasm: truncated or overlong LEB128');
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

function u32(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return out;
}

function readName(bytes, at) {
  const [len, start] = readU32(bytes, at);
  return [Buffer.from(bytes.subarray(start, start + len)).toString('utf8'), start + len];
}

/** The module's sections: id, custom name, payload bounds, whole-section bounds. */
export function sections(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('wasm: not a WebAssembly module');
  }
  const out = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, payload] = readU32(bytes, at + 1);
    const end = payload + size;
    if (end > bytes.length) throw new Error('wasm: section runs past the end');
    const name = id === SECTION.custom ? readName(bytes, payload)[0] : null;
    out.push({ id, name, start: at, payload, end });
    at = end;
  }
  return out;
}

/** Imported and declared function counts; names from the `name` section, by function index. */
export function functionTable(bytes) {
  const all = sections(bytes);
  let imported = 0;
  let declared = 0;
  const names = new Map();
  for (const s of all) {
    if (s.id === SECTION.import) {
      let [count, at] = readU32(bytes, s.payload);
      for (; count > 0; count--) {
        [, at] = readName(bytes, at);
        [, at] = readName(bytes, at);
        const kind = bytes[at++];
        if (kind !== 0) throw new Error('wasm: only function imports are expected (wasm-bindgen output)');
        [, at] = readU32(bytes, at);
        imported++;
      }
    } else if (s.id === SECTION.function) {
      [declared] = readU32(bytes, s.payload);
    } else if (s.name === 'name') {
      let [, at] = readName(bytes, s.payload);
      while (at < s.end) {
        const kind = bytes[at];
        const [size, sub] = readU32(bytes, at + 1);
        if (kind === 1) {
          let [count, p] = readU32(bytes, sub);
          for (; count > 0; count--) {
            let index;
            let name;
            [index, p] = readU32(bytes, p);
            [name, p] = readName(bytes, p);
            names.set(index, name);
          }
        }
        at = sub + size;
      }
    }
  }
  return { imported, declared, names, sections: all };
}

/**
 * A Rust symbol as written in source: the name section (demangled by wasm-bindgen) with
 * the trailing `::h<hash>` and crate disambiguators `[<hash>]` removed, so the list
 * survives rebuilds.
 */
export function sourceName(name) {
  return name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');
}

/**
 * `bytes` with a compilation-hints section marking every function whose source name is
 * in `wanted` (all its monomorphised copies). Replaces an earlier hints section; throws
 * when a wanted name matches no function, so a rename cannot drop a hint unnoticed.
 */
export function addCompilationHints(bytes, wanted) {
  const { imported, declared, names, sections: all } = functionTable(bytes);
  const hints = new Uint8Array(declared);
  const hinted = [];
  const unmatched = new Set(wanted);
  for (const [index, name] of names) {
    const source = sourceName(name);
    if (index < imported || !wanted.includes(source)) continue;
    hints[index - imported] = EAGER_TOP_TIER;
    hinted.push({ index, name: source });
    unmatched.delete(source);
  }
  if (unmatched.size) throw new Error(`wasm hints: no function named ${[...unmatched].join(', ')}`);
  const code = all.find((s) => s.id === SECTION.code);
  if (!code || !all.some((s) => s.id === SECTION.function)) throw new Error('wasm: no function or code section');
  // V8 reads the section only between the function and code sections.
  const nameBytes = [...Buffer.from(SECTION_NAME)];
  const payload = [...u32(nameBytes.length), ...nameBytes, ...u32(declared), ...hints];
  const section = Uint8Array.from([SECTION.custom, ...u32(payload.length), ...payload]);
  const parts = [];
  let at = 0;
  for (const s of all) {
    if (s.name === SECTION_NAME) {
      parts.push(bytes.subarray(at, s.start));
      at = s.end;
    } else if (s === code) {
      parts.push(bytes.subarray(at, s.start), section);
      at = s.start;
    }
  }
  parts.push(bytes.subarray(at));
  return { bytes: Buffer.concat(parts), hinted };
}

/**
 * The hint byte of each function with one (function index → byte), read back from the
 * module's hints section; an empty map when it has none.
 */
export function readCompilationHints(bytes) {
  const { imported, declared, sections: all } = functionTable(bytes);
  const section = all.find((s) => s.name === SECTION_NAME);
  const hints = new Map();
  if (!section) return hints;
  // The payload ends with one byte per declared function (after the name and the count).
  const marks = bytes.subarray(section.end - declared, section.end);
  marks.forEach((hint, i) => hint && hints.set(imported + i, hint));
  return hints;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node scripts/lib/wasm-hints.mjs FILE.wasm');
    process.exit(2);
  }
  const { EAGER_TOP_TIER_FUNCTIONS } = await import('../../lambda-common/v8-flags.mjs');
  const { bytes, hinted } = addCompilationHints(fs.readFileSync(file), EAGER_TOP_TIER_FUNCTIONS);
  fs.writeFileSync(file, bytes);
  console.error(`build: ${hinted.length} functions compiled by TurboFan from the start (${file})`);
}
