// Peak resident memory of one library doing T3 on one (large) input, in a fresh process.
//   node bench/lib/peakrss.mjs <lib> <input path>
// Each figure is the high-water mark of resident memory up to that point. On Linux it is
// VmHWM from /proc/self/status: process.resourceUsage().maxRSS (getrusage) also carries
// the peak of the process that spawned this one (Linux keeps it across fork + exec), so
// a big parent would set a floor under every child's figure.
import fs from 'node:fs';

import { TASKS, loadAdapter } from './specs.mjs';

const [lib, inputPath] = process.argv.slice(2);
const mb = () => {
  try {
    const kib = fs.readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    if (kib) return (Number(kib[1]) * 1024) / 1e6;
  } catch {
    // not Linux
  }
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
};
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
