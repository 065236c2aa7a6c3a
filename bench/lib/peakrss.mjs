// Peak resident memory of one library doing T3 on one (large) input, in a fresh process.
//   node bench/lib/peakrss.mjs <lib> <input path>
// process.resourceUsage().maxRSS is the high-water mark in KiB, so each figure is the
// peak up to that point.
import fs from 'node:fs';

import { TASKS, loadAdapter } from './specs.mjs';

const [lib, inputPath] = process.argv.slice(2);
const mb = () => (process.resourceUsage().maxRSS * 1024) / 1e6;
const r = { bareMB: mb() };
const adapter = await loadAdapter(lib);
const bytes = new Uint8Array(fs.readFileSync(inputPath));
r.afterInitMB = mb();
await adapter.transform(bytes, TASKS.T3);
r.after1MB = mb();
for (let i = 0; i < 4; i++) await adapter.transform(bytes, TASKS.T3);
r.after5MB = mb();
process.stdout.write(`${JSON.stringify(r)}\n`);
process.exit(0);
