// Cold start: a fresh process imports one library, initialises it, reads the input and
// does one T2, then exits. The parent measures spawn-to-exit; this prints the split.
//   node bench/lib/coldstart.mjs <lib> <input path>
import fs from 'node:fs';

import { TASKS, loadAdapter } from './specs.mjs';

const [lib, inputPath] = process.argv.slice(2);
const t0 = performance.now(); // ms since the process started (node bootstrap before it)
const adapter = await loadAdapter(lib);
const t1 = performance.now();
const out = await adapter.transform(new Uint8Array(fs.readFileSync(inputPath)), TASKS.T2);
const t2 = performance.now();
process.stdout.write(
  `${JSON.stringify({ bootMs: t0, importInitMs: t1 - t0, firstOpMs: t2 - t1, bytes: out.length })}\n`,
);
process.exit(0);
