// `scripts/sign`: see the usage there. Exit 2 on bad arguments, 1 when no key is found.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { sign } from '../../lambda-common/sign.mjs';

const USAGE = 'usage: scripts/sign URL [--key K] [--expires-in SECONDS] [--config FILE]';

function fail(code, message) {
  process.stderr.write(`sign: ${message}\n${USAGE}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
let url;
let key;
let expiresIn;
let configFile = fileURLToPath(new URL('../../config/default.json', import.meta.url));
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = () => (i + 1 < args.length ? args[++i] : fail(2, `${arg} needs a value`));
  if (arg === '--key') key = value();
  else if (arg === '--expires-in') expiresIn = value();
  else if (arg === '--config') configFile = value();
  else if (arg === '-h' || arg === '--help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (arg.startsWith('--')) fail(2, `unknown option ${arg}`);
  else if (url === undefined) url = arg;
  else fail(2, `unexpected argument ${arg}`);
}
if (url === undefined) fail(2, 'URL missing');
if (expiresIn !== undefined && !/^\d+$/.test(expiresIn)) {
  fail(2, `--expires-in must be a whole number of seconds (got ${JSON.stringify(expiresIn)})`);
}
key ??= process.env.EDGE_SIGNING_KEY || undefined;
if (key === undefined) {
  let config;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    fail(1, `cannot read ${configFile}: ${err.message}`);
  }
  key = config?.signing?.keys?.[0];
  if (typeof key !== 'string' || key === '') {
    fail(1, `no key: pass --key, set EDGE_SIGNING_KEY, or list signing.keys in ${configFile}`);
  }
}
const options = expiresIn === undefined ? {} : { expiresAt: Math.floor(Date.now() / 1000) + Number(expiresIn) };
try {
  process.stdout.write(`${sign(url, key, options)}\n`);
} catch (err) {
  fail(2, err.message);
}
