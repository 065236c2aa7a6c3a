// The config baked into the bundle (Lambda@Edge has no environment variables, so this
// file is the only knob). Read once per container, at module load.
//
// In the repo this is `config/default.json`; `scripts/package` writes the chosen config
// to the same relative path inside each zip, so the path works in both places.

import { readFileSync } from 'node:fs';

export const configJson = readFileSync(new URL('../config/default.json', import.meta.url), 'utf8');

// Defaults and rules are the core's: `shim.configure(configJson)` returns the effective
// config (see lambda-common/wasm.mjs), so nothing here reads or repeats a field.
