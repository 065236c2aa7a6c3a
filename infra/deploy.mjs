// scripts/deploy: bake the image policy into the bundles, upload them and deploy the
// CloudFormation stack in us-east-1, then print the CloudFront URL. See docs/deploy.md.
//
// Lambda@Edge has no environment variables, so the image policy (widths, qualities,
// formats, ...) is a config JSON inside both zips. This script is the one place that
// turns the user's flags into that JSON *and* into the matching stack parameters, so the
// stack always records what the code was built with.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const REGION = 'us-east-1'; // Lambda@Edge functions can only be created here.
const TEMPLATE = 'infra/template.yaml';

const HELP = `usage: scripts/deploy --artifacts-bucket BUCKET [options]
       scripts/deploy --delete [--stack NAME]

Builds dist/viewer-request.zip and dist/origin-response.zip with the image policy baked
in (scripts/package --config), uploads them (aws cloudformation package) and deploys the
stack ${TEMPLATE} in ${REGION} (aws cloudformation deploy). Prints the CloudFront URL.

Deployment:
  --stack NAME                stack name, also prefixes the function names
                              (default: edge-resizer; env EDGE_RESIZER_STACK)
  --artifacts-bucket BUCKET   existing S3 bucket for the function zips, required
                              (env EDGE_RESIZER_ARTIFACTS_BUCKET)
  --artifacts-prefix PREFIX   key prefix in that bucket (default: the stack name)
  --profile NAME              AWS CLI profile
  --dry-run                   print the generated config and the commands, run nothing
  --delete                    delete the stack (Lambda@Edge replicas make the first
                              attempt fail for a few hours; run it again later)
  -h, --help                  this text

Image policy (baked into the code; flags override the --config file):
  --config FILE               base config JSON (default: config/default.json)
  --widths LIST               allowed widths, e.g. 320,640,960,1280 ("" = any)
  --heights LIST              allowed heights ("" = any)
  --size-mode reject|snap     what to do with a size not in the lists
  --max-width N, --max-height N
  --quality N                 default JPEG and WebP quality (1-100)
  --jpeg-quality N, --webp-quality N, --avif-quality N
  --formats LIST              output formats the core may produce (default: all)
  --auto-format, --no-auto-format
                              negotiate the format from Accept even without fm=auto
                              (default on; fm=source keeps the original's format)
  --derived-prefix PREFIX     key prefix of generated variants (default _derived/)

Stack (unset ones keep their current value on an update, template default on create):
  --derived-expiry-days N     delete generated variants N days after they were written
  --price-class 100|200|All   CloudFront price class
  --origin-memory MB          origin-response memory, 128-10240 (default 1536)
  --existing-bucket NAME      serve originals from this bucket instead of a new one
  --existing-bucket-region R  its region (default us-east-1)
  --manage-bucket-policy      let the stack own (replace) the existing bucket's policy
  --domain NAME               custom domain for the distribution (with --certificate-arn)
  --certificate-arn ARN       ACM certificate in us-east-1 for --domain
`;

export class UsageError extends Error {}

// kind: 'value' takes an argument (--x V or --x=V), 'flag' does not.
const OPTIONS = {
  '--stack': 'value',
  '--artifacts-bucket': 'value',
  '--artifacts-prefix': 'value',
  '--profile': 'value',
  '--dry-run': 'flag',
  '--delete': 'flag',
  '--help': 'flag',
  '-h': 'flag',
  '--config': 'value',
  '--widths': 'value',
  '--heights': 'value',
  '--size-mode': 'value',
  '--max-width': 'value',
  '--max-height': 'value',
  '--quality': 'value',
  '--jpeg-quality': 'value',
  '--webp-quality': 'value',
  '--avif-quality': 'value',
  '--formats': 'value',
  '--auto-format': 'flag',
  '--no-auto-format': 'flag',
  '--derived-prefix': 'value',
  '--derived-expiry-days': 'value',
  '--price-class': 'value',
  '--origin-memory': 'value',
  '--existing-bucket': 'value',
  '--existing-bucket-region': 'value',
  '--manage-bucket-policy': 'flag',
  '--domain': 'value',
  '--certificate-arn': 'value',
};

export function parseArgs(argv) {
  const opts = {};
  for (let k = 0; k < argv.length; k++) {
    let arg = argv[k];
    let inline;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const kind = OPTIONS[arg];
    if (!kind) throw new UsageError(`unknown argument ${argv[k]}`);
    const name = arg.replace(/^-+/, '');
    if (kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${arg} takes no value`);
      opts[name] = true;
    } else {
      if (inline === undefined) {
        if (k + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
        inline = argv[++k];
      }
      opts[name] = inline;
    }
  }
  return opts;
}

function intIn(flag, text, min, max) {
  if (!/^[0-9]+$/.test(String(text))) throw new UsageError(`${flag} must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag} must be within ${min}-${max}, got ${n}`);
  return n;
}

function sizeList(flag, text, max) {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => intIn(flag, part.trim(), 1, max));
}

const DERIVED_PREFIX = /^([A-Za-z0-9_-][A-Za-z0-9_.-]*\/)+$/; // = template AllowedPattern

/**
 * The config rules are the core's: the request-only wasm's validateConfig() checks a
 * config exactly as the edge will, and returns it with every default filled in.
 * Built by scripts/build (scripts/deploy builds it when missing).
 */
function coreShim() {
  const pkg = join(REPO, 'edge-shim/pkg-request/edge_shim.js');
  if (!existsSync(pkg)) run(['scripts/build']);
  return createRequire(import.meta.url)(pkg);
}

function validateWithCore(config) {
  try {
    return coreShim().validateConfig(JSON.stringify(config));
  } catch (err) {
    if (typeof err?.code !== 'string') throw err;
    throw new UsageError(err.message);
  }
}

/** The config to bake: defaults < --config file < flags. Throws UsageError when invalid. */
export function buildConfig(opts) {
  const defaults = JSON.parse(readFileSync(join(REPO, 'config/default.json'), 'utf8'));
  let base = defaults;
  if (opts.config) {
    try {
      base = JSON.parse(readFileSync(opts.config, 'utf8'));
    } catch (err) {
      throw new UsageError(`--config ${opts.config}: ${err.message}`);
    }
  }
  // Every field filled in by the core, so the stack parameters below are complete.
  const effective = validateWithCore(base);
  const { policy, limits } = effective;

  if (opts['max-width'] !== undefined) policy.maxWidth = intIn('--max-width', opts['max-width'], 1, 65535);
  if (opts['max-height'] !== undefined) policy.maxHeight = intIn('--max-height', opts['max-height'], 1, 65535);
  if (opts.widths !== undefined) policy.widths = sizeList('--widths', opts.widths, 99999);
  if (opts.heights !== undefined) policy.heights = sizeList('--heights', opts.heights, 99999);
  if (opts['size-mode'] !== undefined) {
    if (!['reject', 'snap'].includes(opts['size-mode'])) throw new UsageError('--size-mode must be reject or snap');
    policy.sizeMode = opts['size-mode'];
  }
  if (opts.quality !== undefined) {
    policy.quality.jpeg = policy.quality.webp = intIn('--quality', opts.quality, 1, 100);
  }
  for (const format of ['jpeg', 'webp', 'avif']) {
    const flag = `${format}-quality`;
    if (opts[flag] !== undefined) policy.quality[format] = intIn(`--${flag}`, opts[flag], 1, 100);
  }
  if (opts.formats !== undefined) {
    const formats = opts.formats.split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
    policy.formats = [...new Set(formats)]; // the core refuses unknown ones below
  }
  if (opts['auto-format'] && opts['no-auto-format']) throw new UsageError('--auto-format and --no-auto-format conflict');
  if (opts['auto-format']) policy.autoFormatByDefault = true;
  if (opts['no-auto-format']) policy.autoFormatByDefault = false;
  if (opts['derived-prefix'] !== undefined) policy.derivedPrefix = opts['derived-prefix'];

  // The template's pattern for the DerivedPrefix parameter; everything else is the core's.
  if (!DERIVED_PREFIX.test(policy.derivedPrefix)) {
    throw new UsageError(`derived prefix "${policy.derivedPrefix}" must look like _derived/ (letters, digits, _ - ., ending in /)`);
  }
  // Presets and signing keys go into the bundles as the core read them; they never
  // become stack parameters, so no secret reaches CloudFormation.
  return validateWithCore({ ...effective, policy, limits });

}

/** The config as JSON with every signing key replaced, for printing. */
function redactedJson(config) {
  const shown = structuredClone(config);
  if (Array.isArray(shown.signing?.keys)) shown.signing.keys = shown.signing.keys.map(() => '<redacted>');
  return `${JSON.stringify(shown, null, 2)}\n`;
}

/** Stack parameters: the baked policy always (it must match the code), others if given. */
export function stackParameters(config, opts, hashes) {
  const p = config.policy;
  const params = {
    DerivedPrefix: p.derivedPrefix,
    Widths: p.widths.join(','),
    Heights: p.heights.join(','),
    SizeMode: p.sizeMode,
    MaxWidth: String(p.maxWidth),
    MaxHeight: String(p.maxHeight),
    JpegQuality: String(p.quality.jpeg),
    WebpQuality: String(p.quality.webp),
    AvifQuality: String(p.quality.avif),
    Formats: p.formats.join(','),
    AutoFormatByDefault: String(p.autoFormatByDefault),
    ViewerCodeSha256: hashes.viewer,
    OriginCodeSha256: hashes.origin,
  };
  if (opts['derived-expiry-days'] !== undefined) {
    params.DerivedExpirationDays = String(intIn('--derived-expiry-days', opts['derived-expiry-days'], 1, 3650));
  }
  if (opts['price-class'] !== undefined) {
    const value = opts['price-class'].replace(/^PriceClass_/i, '');
    const match = ['100', '200', 'All'].find((c) => c.toLowerCase() === value.toLowerCase());
    if (!match) throw new UsageError('--price-class must be 100, 200 or All');
    params.PriceClass = `PriceClass_${match}`;
  }
  if (opts['origin-memory'] !== undefined) {
    params.OriginMemorySize = String(intIn('--origin-memory', opts['origin-memory'], 128, 10240));
  }
  if (opts['existing-bucket'] !== undefined) {
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(opts['existing-bucket'])) {
      throw new UsageError('--existing-bucket must be a bucket name without dots');
    }
    params.ExistingBucketName = opts['existing-bucket'];
  }
  if (opts['existing-bucket-region'] !== undefined) {
    if (!/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(opts['existing-bucket-region'])) {
      throw new UsageError('--existing-bucket-region must be a region name like eu-west-1');
    }
    params.ExistingBucketRegion = opts['existing-bucket-region'];
  }
  if (opts['manage-bucket-policy']) params.ManageExistingBucketPolicy = 'true';
  if ((opts.domain === undefined) !== (opts['certificate-arn'] === undefined)) {
    throw new UsageError('--domain and --certificate-arn go together');
  }
  if (opts.domain !== undefined) {
    params.AliasDomainName = opts.domain;
    params.AcmCertificateArn = opts['certificate-arn'];
  }
  return params;
}

function shellQuote(arg) {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The commands of one deployment, in order; `later` values are filled in after packaging. */
export function deployCommands(opts, configPath, workDir, params) {
  const stack = opts.stack;
  const aws = (...args) => ['aws', ...args, '--region', REGION, ...(opts.profile ? ['--profile', opts.profile] : [])];
  const packaged = join(workDir, 'packaged.yaml');
  return [
    ['scripts/package', '--config', configPath],
    aws('cloudformation', 'package',
      '--template-file', TEMPLATE,
      '--s3-bucket', opts['artifacts-bucket'],
      '--s3-prefix', opts['artifacts-prefix'] ?? stack,
      '--output-template-file', packaged),
    aws('cloudformation', 'deploy',
      '--template-file', packaged,
      '--stack-name', stack,
      '--capabilities', 'CAPABILITY_IAM',
      '--no-fail-on-empty-changeset',
      '--parameter-overrides', ...Object.entries(params).map(([k, v]) => `${k}=${v}`)),
    aws('cloudformation', 'describe-stacks',
      '--stack-name', stack,
      '--query', "Stacks[0].Outputs[?OutputKey=='Url' || OutputKey=='BucketName'].[OutputKey,OutputValue]",
      '--output', 'text'),
  ];
}

export function deleteCommands(opts) {
  const aws = (...args) => ['aws', ...args, '--region', REGION, ...(opts.profile ? ['--profile', opts.profile] : [])];
  return [
    aws('cloudformation', 'delete-stack', '--stack-name', opts.stack),
    aws('cloudformation', 'wait', 'stack-delete-complete', '--stack-name', opts.stack),
  ];
}

function sha256Hex(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(cmd, { capture = false } = {}) {
  console.error(`+ ${cmd.map(shellQuote).join(' ')}`);
  const res = spawnSync(cmd[0], cmd.slice(1), {
    cwd: REPO,
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (res.error) throw new Error(`${cmd[0]}: ${res.error.message}`);
  if (res.status !== 0) {
    const err = new Error(`${cmd.slice(0, 3).join(' ')} failed (exit ${res.status})`);
    err.status = res.status;
    throw err;
  }
  return res.stdout;
}

function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help || opts.h) {
    process.stdout.write(HELP);
    return 0;
  }
  opts.stack ??= process.env.EDGE_RESIZER_STACK || 'edge-resizer';
  // The function names are <stack>-origin-response and must fit Lambda's 64 characters.
  if (!/^[A-Za-z][A-Za-z0-9-]{0,47}$/.test(opts.stack)) {
    throw new UsageError('--stack must start with a letter, use letters, digits and -, at most 48 characters');
  }
  const dryRun = Boolean(opts['dry-run']);

  if (opts.delete) {
    for (const cmd of deleteCommands(opts)) {
      if (dryRun) {
        console.log(cmd.map(shellQuote).join(' '));
        continue;
      }
      try {
        run(cmd);
      } catch (err) {
        console.error(`deploy: ${err.message}
Lambda@Edge function replicas are removed only a few hours after the distribution is
gone; until then CloudFormation cannot delete the functions (DELETE_FAILED). Run
"scripts/deploy --delete --stack ${opts.stack}" again later. The image bucket is kept.`);
        return 1;
      }
    }
    if (!dryRun) console.log(`Stack ${opts.stack} deleted (the image bucket is retained).`);
    return 0;
  }

  opts['artifacts-bucket'] ??= process.env.EDGE_RESIZER_ARTIFACTS_BUCKET;
  if (!opts['artifacts-bucket']) {
    throw new UsageError('--artifacts-bucket (or EDGE_RESIZER_ARTIFACTS_BUCKET) is required: an S3 bucket for the function zips');
  }
  const config = buildConfig(opts);
  const configJson = `${JSON.stringify(config, null, 2)}\n`;

  if (dryRun) {
    const configPath = join(tmpdir(), 'edge-resizer-deploy', 'config.json');
    const params = stackParameters(config, opts, {
      viewer: '<sha256 of dist/viewer-request.zip>',
      origin: '<sha256 of dist/origin-response.zip>',
    });
    console.log(`# config baked into both bundles (${configPath}), signing keys redacted:`);
    for (const line of redactedJson(config).trimEnd().split('\n')) console.log(`#   ${line}`);
    for (const cmd of deployCommands(opts, configPath, join(tmpdir(), 'edge-resizer-deploy'), params)) {
      console.log(cmd.map(shellQuote).join(' '));
    }
    return 0;
  }

  // Check the stack parameters before spending minutes on a build.
  stackParameters(config, opts, { viewer: '', origin: '' });
  const workDir = mkdtempSync(join(tmpdir(), 'edge-resizer-deploy-'));
  const configPath = join(workDir, 'config.json');
  // Holds the signing keys: readable by this user only.
  writeFileSync(configPath, configJson, { mode: 0o600 });
  const [packageCmd] = deployCommands(opts, configPath, workDir, {});
  run(packageCmd);
  const zips = { viewer: join(REPO, 'dist/viewer-request.zip'), origin: join(REPO, 'dist/origin-response.zip') };
  for (const zip of Object.values(zips)) {
    if (!existsSync(zip)) throw new Error(`${zip} missing after scripts/package`);
  }
  const params = stackParameters(config, opts, { viewer: sha256Hex(zips.viewer), origin: sha256Hex(zips.origin) });
  const [, packCmd, deployCmd, outputsCmd] = deployCommands(opts, configPath, workDir, params);
  run(packCmd);
  run(deployCmd);
  const outputs = Object.fromEntries(
    run(outputsCmd, { capture: true }).trim().split('\n').map((line) => line.split('\t')),
  );
  console.log(`CloudFront URL: ${outputs.Url}
Image bucket:   ${outputs.BucketName}
Upload an original (e.g. aws s3 cp cat.jpg s3://${outputs.BucketName}/photos/cat.jpg) and open
${outputs.Url}/photos/cat.jpg?w=600&fm=auto
A new distribution or function version takes a few minutes to reach every edge location.`);
  return 0;
}

// Run only as a program (scripts/deploy), not when a test imports the helpers above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`deploy: ${err.message}\n(scripts/deploy --help for usage)`);
      process.exitCode = 2;
    } else {
      console.error(`deploy: ${err.message}`);
      process.exitCode = 1;
    }
  }
}
