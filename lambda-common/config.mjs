// The config baked into the bundle (Lambda@Edge has no environment variables, so this
// file is the only knob). Read once per container, at module load.
//
// In the repo this is `config/default.json`; `scripts/package` writes the chosen config
// to the same relative path inside each zip, so the path works in both places.

import { readFileSync } from 'node:fs';

export const configJson = readFileSync(new URL('../config/default.json', import.meta.url), 'utf8');

const config = JSON.parse(configJson);

/** Prefix of every derived key (`policy.derivedPrefix`, default `_derived/`). */
export const derivedPrefix = config.policy?.derivedPrefix ?? '_derived/';

/** Largest original the origin handler downloads (`limits.maxInputBytes`). */
export const maxInputBytes = config.limits?.maxInputBytes ?? 40 * 1024 * 1024;

/** The whole parsed config, for settings the handlers read themselves (e.g. `api`). */
export const bakedConfig = config;
