// The deployment: infra/template.yaml wiring, cfn-lint, scripts/deploy, bundle sizes.
// Nothing here talks to AWS: the template is read and checked, cfn-lint validates it
// against the CloudFormation schemas, and scripts/deploy runs with --dry-run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CfnYamlError, parseCfnYaml } from '../infra/cfn-template.mjs';
import { buildConfig, stackParameters, UsageError } from '../infra/deploy.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATE_PATH = join(REPO, 'infra/template.yaml');
const TEMPLATE_TEXT = readFileSync(TEMPLATE_PATH, 'utf8');
const T = parseCfnYaml(TEMPLATE_TEXT);
const DEFAULT_CONFIG = JSON.parse(readFileSync(join(REPO, 'config/default.json'), 'utf8'));
const CFN_LINT = join(REPO, '.tools/venv/bin/cfn-lint');
const VENV_PYTHON = join(REPO, '.tools/venv/bin/python');

const resourcesOfType = (type) => Object.entries(T.Resources).filter(([, r]) => r.Type === type);
const onlyResource = (type) => {
  const found = resourcesOfType(type);
  assert.equal(found.length, 1, `exactly one ${type}`);
  return found[0];
};
const asList = (v) => (Array.isArray(v) ? v : [v]);
/** The text of a !Sub (plain or list form) or a plain string. */
const subText = (v) => {
  if (typeof v === 'string') return v;
  assert.ok(v && 'Fn::Sub' in v, `expected !Sub, got ${JSON.stringify(v)}`);
  return asList(v['Fn::Sub'])[0];
};
const isRef = (v, name) => v && typeof v === 'object' && v.Ref === name;

/** cfn-lint, installed on demand; null when Python is absent (the test then skips loudly). */
function ensureCfnLint() {
  if (existsSync(CFN_LINT)) return CFN_LINT;
  if (spawnSync('python3', ['--version']).status !== 0) return null;
  const setup = spawnSync('bash', [join(REPO, 'scripts/lib/setup-cfn-lint.sh')], { encoding: 'utf8' });
  assert.equal(setup.status, 0, `scripts/lib/setup-cfn-lint.sh failed:\n${setup.stdout}${setup.stderr}`);
  return CFN_LINT;
}
const PYTHON_MISSING =
  'SKIPPED LOUDLY: python3 is not installed, so cfn-lint (PyPI) cannot run; install python3 and python3-venv';

describe('template reader (yaml package + CloudFormation short tags)', () => {
  test('short tags map like CloudFormation long forms', () => {
    const doc = parseCfnYaml(`
A: !Ref Bucket
B: !GetAtt Dist.DomainName
C: !Sub "arn:\${AWS::Partition}:s3:::\${B}/*"
D: !If [HasAlias, [!Ref X], !Ref "AWS::NoValue"]
E: !Sub
  - "\${X}.s3"
  - X: !Select [0, !Split [",", !Ref L]]
F:
- !Equals [!Ref P, ""]
- { k: v, n: 3, t: true }
G: !Not [!Condition C1]
`);
    assert.deepEqual(doc, {
      A: { Ref: 'Bucket' },
      B: { 'Fn::GetAtt': ['Dist', 'DomainName'] },
      C: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${B}/*' },
      D: { 'Fn::If': ['HasAlias', [{ Ref: 'X' }], { Ref: 'AWS::NoValue' }] },
      E: { 'Fn::Sub': ['${X}.s3', { X: { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'L' }] }] } }] },
      F: [{ 'Fn::Equals': [{ Ref: 'P' }, ''] }, { k: 'v', n: 3, t: true }],
      G: { 'Fn::Not': [{ Condition: 'C1' }] },
    });
  });

  test('sequences of mappings, block scalars, quotes and comments', () => {
    const doc = parseCfnYaml(`# head
L:
  - a: 1   # trailing
    b: 'it''s # not a comment'
  - - x
    - y
Folded: >-
  one
  two
Literal: |
  keep
    indent
Q: "tab\\tquote\\""
`);
    assert.deepEqual(doc, {
      L: [{ a: 1, b: "it's # not a comment" }, ['x', 'y']],
      Folded: 'one two',
      Literal: 'keep\n  indent\n',
      Q: 'tab\tquote"',
    });
  });

  test('refuses what it would misread instead of guessing', () => {
    for (const bad of ['a: &x 1\nb: *x', 'a: 1\na: 2', '\ta: 1', 'a: !Bad-Tag x', 'a: "open', 'a: [1, 2']) {
      assert.throws(() => parseCfnYaml(bad), CfnYamlError, JSON.stringify(bad));
    }
  });

  test('reads the template exactly as cfn-lint does', (t) => {
    if (!ensureCfnLint()) return t.skip(PYTHON_MISSING);
    const py = spawnSync(
      VENV_PYTHON,
      ['-c', 'import json,sys; from cfnlint.decode import cfn_yaml; print(json.dumps(cfn_yaml.load(sys.argv[1])))', TEMPLATE_PATH],
      { encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    assert.deepEqual(T, JSON.parse(py.stdout));
  });
});

describe('template wiring', () => {
  const versions = Object.fromEntries(resourcesOfType('AWS::Lambda::Version'));
  // Lambda@Edge functions are the ones published as versions; regional functions (the
  // upload processor) have their own tests.
  const published = new Set(Object.values(versions).map((v) => v.Properties.FunctionName?.Ref));
  const functions = Object.fromEntries(resourcesOfType('AWS::Lambda::Function').filter(([name]) => published.has(name)));
  const [, dist] = onlyResource('AWS::CloudFront::Distribution');
  const behavior = dist.Properties.DistributionConfig.DefaultCacheBehavior;
  const associations = behavior.LambdaFunctionAssociations;

  /** The function resource behind an association: association -> Version -> Function. */
  const functionFor = (eventType) => {
    const assoc = associations.find((a) => a.EventType === eventType);
    assert.ok(assoc, `${eventType} association`);
    const versionName = assoc.LambdaFunctionARN?.Ref;
    assert.ok(versions[versionName], `${eventType} uses a numbered AWS::Lambda::Version (Ref), not $LATEST or an alias`);
    const functionName = versions[versionName].Properties.FunctionName?.Ref;
    assert.ok(functions[functionName], `${versionName} publishes one of our functions`);
    return { assoc, version: versions[versionName], versionName, fn: functions[functionName], functionName };
  };

  test('exactly the two events, each on a version of its own function and zip', () => {
    assert.deepEqual(associations.map((a) => a.EventType).sort(), ['origin-response', 'viewer-request']);
    const viewer = functionFor('viewer-request');
    const origin = functionFor('origin-response');
    assert.notEqual(viewer.functionName, origin.functionName);
    assert.equal(viewer.fn.Properties.Code, '../dist/viewer-request.zip');
    assert.equal(origin.fn.Properties.Code, '../dist/origin-response.zip');
    // Bodies are neither needed nor allowed to be replaced on origin-response.
    for (const { assoc } of [viewer, origin]) assert.ok(assoc.IncludeBody === undefined || assoc.IncludeBody === false);
  });

  test('functions follow the Lambda@Edge rules', () => {
    assert.equal(Object.keys(functions).length, 2);
    for (const [name, fn] of Object.entries(functions)) {
      const p = fn.Properties;
      assert.equal(p.Runtime, 'nodejs22.x', name);
      assert.deepEqual(p.Architectures, ['x86_64'], name);
      assert.equal(p.Handler, 'index.handler', name);
      for (const forbidden of ['Environment', 'VpcConfig', 'Layers', 'DeadLetterConfig', 'TracingConfig',
        'FileSystemConfigs', 'ReservedConcurrentExecutions', 'SnapStart', 'EphemeralStorage', 'ImageConfig']) {
        assert.equal(p[forbidden], undefined, `${name} must not set ${forbidden} (not allowed on Lambda@Edge)`);
      }
    }
    const viewer = functionFor('viewer-request').fn.Properties;
    assert.equal(viewer.MemorySize, 128);
    assert.ok(viewer.Timeout <= 5);
    const origin = functionFor('origin-response').fn.Properties;
    assert.ok(origin.Timeout <= 30 && origin.Timeout >= 10);
    assert.ok(isRef(origin.MemorySize, 'OriginMemorySize'));
    const mem = T.Parameters.OriginMemorySize;
    assert.equal(mem.Default, 1536);
    assert.ok(mem.MinValue >= 128 && mem.MaxValue <= 10240);
  });

  test('a new zip or memory size publishes a new version; old ones are kept for the replicas', () => {
    const viewer = functionFor('viewer-request');
    const origin = functionFor('origin-response');
    assert.match(subText(viewer.version.Properties.Description), /\$\{ViewerCodeSha256\}/);
    assert.match(subText(origin.version.Properties.Description), /\$\{OriginCodeSha256\}/);
    assert.match(subText(origin.version.Properties.Description), /\$\{OriginMemorySize\}/);
    for (const { version } of [viewer, origin]) assert.equal(version.UpdateReplacePolicy, 'Retain');
  });

  test('one role per function, trusted by lambda and edgelambda, least privilege', () => {
    const grants = (roleName, fnName) => {
      const role = T.Resources[roleName];
      assert.equal(role?.Type, 'AWS::IAM::Role', roleName);
      assert.deepEqual(functionFor(fnName).fn.Properties.Role, { 'Fn::GetAtt': [roleName, 'Arn'] }, fnName);
      const trust = role.Properties.AssumeRolePolicyDocument.Statement;
      assert.equal(trust.length, 1);
      assert.equal(trust[0].Effect, 'Allow');
      assert.equal(trust[0].Action, 'sts:AssumeRole');
      assert.deepEqual(asList(trust[0].Principal.Service).sort(), ['edgelambda.amazonaws.com', 'lambda.amazonaws.com']);
      assert.equal(role.Properties.ManagedPolicyArns, undefined, 'no broad managed policies');
      const byAction = {};
      for (const s of role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement)) {
        assert.equal(s.Effect, 'Allow');
        assert.equal(s.NotAction, undefined);
        assert.equal(s.NotResource, undefined);
        for (const action of asList(s.Action)) {
          assert.doesNotMatch(action, /\*/, `no wildcard action (${action})`);
          for (const resource of asList(s.Resource)) {
            assert.notEqual(resource, '*', `${action} on *`);
            (byAction[action] ??= []).push(subText(resource));
          }
        }
      }
      // Each function writes only its own logs.
      for (const action of ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents']) {
        for (const arn of byAction[action]) {
          assert.match(arn, new RegExp(`:log-group:/aws/lambda/(us-east-1\\.)?\\$\\{AWS::StackName\\}-${fnName}(:\\*)?$`), arn);
        }
      }
      return byAction;
    };
    const logs = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];
    // The viewer function only rewrites: no S3 at all.
    assert.deepEqual(Object.keys(grants('ViewerRequestRole', 'viewer-request')).sort(), logs);
    const origin = grants('OriginResponseRole', 'origin-response');
    assert.deepEqual(Object.keys(origin).sort(), [...logs, 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    // Writes only under the derived prefix; the originals are read-only.
    assert.deepEqual(origin['s3:PutObject'], ['arn:${AWS::Partition}:s3:::${Bucket}/${DerivedPrefix}*']);
    assert.deepEqual(origin['s3:GetObject'], ['arn:${AWS::Partition}:s3:::${Bucket}/*']);
    assert.deepEqual(origin['s3:ListBucket'], ['arn:${AWS::Partition}:s3:::${Bucket}']);
    // The function names the log ARNs assume are the ones the functions get.
    assert.equal(subText(functionFor('viewer-request').fn.Properties.FunctionName), '${AWS::StackName}-viewer-request');
    assert.equal(subText(functionFor('origin-response').fn.Properties.FunctionName), '${AWS::StackName}-origin-response');
  });

  test('the cache key is the URI only; HTTPS only; security headers', () => {
    assert.equal(behavior.ViewerProtocolPolicy, 'redirect-to-https');
    assert.deepEqual(behavior.AllowedMethods, ['GET', 'HEAD']);
    const [cacheName, cache] = onlyResource('AWS::CloudFront::CachePolicy');
    assert.ok(isRef(behavior.CachePolicyId, cacheName));
    assert.equal(behavior.ForwardedValues, undefined, 'legacy cache settings would override the policy');
    assert.equal(behavior.OriginRequestPolicyId, undefined);
    const key = cache.Properties.CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin;
    assert.equal(key.QueryStringsConfig.QueryStringBehavior, 'none');
    assert.equal(key.HeadersConfig.HeaderBehavior, 'none', 'Accept is folded into the URI, not the key');
    assert.equal(key.HeadersConfig.Headers, undefined);
    assert.equal(key.CookiesConfig.CookieBehavior, 'none');
    const [headersName, headers] = onlyResource('AWS::CloudFront::ResponseHeadersPolicy');
    assert.ok(isRef(behavior.ResponseHeadersPolicyId, headersName));
    assert.equal(headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentTypeOptions.Override, true);
    assert.ok(isRef(dist.Properties.DistributionConfig.PriceClass, 'PriceClass'));
  });

  test('origin access control to the bucket, no legacy OAI', () => {
    const [oacName, oac] = onlyResource('AWS::CloudFront::OriginAccessControl');
    const cfg = oac.Properties.OriginAccessControlConfig;
    assert.equal(cfg.OriginAccessControlOriginType, 's3');
    assert.equal(cfg.SigningBehavior, 'always');
    assert.equal(cfg.SigningProtocol, 'sigv4');
    const origins = dist.Properties.DistributionConfig.Origins;
    assert.equal(origins.length, 1);
    assert.deepEqual(origins[0].OriginAccessControlId, { 'Fn::GetAtt': [oacName, 'Id'] });
    assert.equal(origins[0].S3OriginConfig.OriginAccessIdentity, '');
    assert.equal(origins[0].OriginPath, undefined, 'the origin-response function maps URIs to keys 1:1');
    assert.equal(behavior.TargetOriginId, origins[0].Id);
    // The origin-response function recovers bucket and region from this host name.
    assert.match(subText(origins[0].DomainName), /^\$\{Bucket\}\.s3\.\$\{Region\}\.\$\{AWS::URLSuffix\}$/);
  });

  test('bucket: private, owner-enforced, encrypted, derived variants expire, kept on delete', () => {
    const [bucketName, bucket] = onlyResource('AWS::S3::Bucket');
    assert.equal(bucket.Condition, 'CreateBucket');
    assert.deepEqual(T.Conditions.CreateBucket, { 'Fn::Equals': [{ Ref: 'ExistingBucketName' }, ''] });
    assert.equal(bucket.DeletionPolicy, 'Retain');
    const p = bucket.Properties;
    // Private; only the api's optional S3 website (ResizeWebsite) opens the policy side.
    const privateUnlessWebsite = { 'Fn::If': ['ResizeWebsiteOn', false, true] };
    assert.deepEqual(p.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true, BlockPublicPolicy: privateUnlessWebsite, IgnorePublicAcls: true, RestrictPublicBuckets: privateUnlessWebsite,
    });
    assert.equal(T.Parameters.ResizeWebsite.Default, 'disabled');
    assert.deepEqual(p.OwnershipControls.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    assert.equal(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
    const expiring = p.LifecycleConfiguration.Rules.filter((r) => r.ExpirationInDays !== undefined);
    assert.equal(expiring.length, 1, 'only derived variants expire, never originals');
    assert.ok(isRef(expiring[0].Prefix, 'DerivedPrefix'));
    assert.ok(isRef(expiring[0].ExpirationInDays, 'DerivedExpirationDays'));
    assert.equal(expiring[0].Status, 'Enabled');
    assert.equal(T.Parameters.DerivedPrefix.Default, DEFAULT_CONFIG.policy.derivedPrefix);
    assert.ok(bucketName);
  });

  test('bucket policy: CloudFront of this distribution may GetObject and ListBucket', () => {
    const [, policy] = onlyResource('AWS::S3::BucketPolicy');
    const statements = policy.Properties.PolicyDocument.Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    const granted = {};
    for (const s of allows) {
      assert.deepEqual(s.Principal, { Service: 'cloudfront.amazonaws.com' }, 'only CloudFront is allowed');
      const sourceArn = subText(s.Condition.StringEquals['AWS:SourceArn']);
      assert.equal(sourceArn, 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}');
      for (const action of asList(s.Action)) granted[action] = asList(s.Resource).map(subText);
    }
    assert.deepEqual(granted, {
      's3:GetObject': ['arn:${AWS::Partition}:s3:::${Bucket}/*'],
      's3:ListBucket': ['arn:${AWS::Partition}:s3:::${Bucket}'],
    });
    for (const s of statements.filter((x) => x.Effect === 'Deny')) {
      assert.deepEqual(s.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    }
  });

  test('parameters users tune, with defaults equal to config/default.json', () => {
    const P = T.Parameters;
    const policy = DEFAULT_CONFIG.policy;
    assert.equal(P.Widths.Default, policy.widths.join(','));
    assert.equal(P.Heights.Default, policy.heights.join(','));
    assert.equal(P.SizeMode.Default, policy.sizeMode);
    assert.equal(P.MaxWidth.Default, policy.maxWidth);
    assert.equal(P.MaxHeight.Default, policy.maxHeight);
    assert.equal(P.JpegQuality.Default, policy.quality.jpeg);
    assert.equal(P.WebpQuality.Default, policy.quality.webp);
    assert.equal(P.AvifQuality.Default, policy.quality.avif);
    assert.equal(P.Formats.Default, policy.formats.join(','));
    assert.equal(P.AutoFormatByDefault.Default, String(policy.autoFormatByDefault));
    assert.deepEqual(P.PriceClass.AllowedValues, ['PriceClass_100', 'PriceClass_200', 'PriceClass_All']);
    assert.ok(P.DerivedExpirationDays.Default >= 1);
    assert.equal(P.ExistingBucketName.Default, '');
    // The derived prefix pattern the stack accepts must satisfy edge-core's rules.
    const re = new RegExp(P.DerivedPrefix.AllowedPattern);
    for (const ok of ['_derived/', 'cache/v2/']) assert.match(ok, re);
    for (const bad of ['/x/', 'x', '../', './', 'a//', '']) assert.doesNotMatch(bad, re);
  });

  test('outputs: URL, domain name, bucket, version ARNs', () => {
    const O = T.Outputs;
    assert.deepEqual(O.DistributionDomainName.Value, { 'Fn::GetAtt': ['Distribution', 'DomainName'] });
    assert.ok(O.BucketName && O.Url);
    assert.ok(isRef(O.ViewerRequestVersionArn.Value, functionFor('viewer-request').versionName));
    assert.ok(isRef(O.OriginResponseVersionArn.Value, functionFor('origin-response').versionName));
  });

  test('every reference names a parameter, resource, condition or pseudo parameter', () => {
    const names = new Set([...Object.keys(T.Parameters), ...Object.keys(T.Resources)]);
    const pseudo = /^AWS::(AccountId|NoValue|Partition|Region|StackName|StackId|URLSuffix|NotificationARNs)$/;
    const seen = [];
    const walk = (node, locals = new Set()) => {
      if (Array.isArray(node)) return node.forEach((n) => walk(n, locals));
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Ref') {
          assert.ok(names.has(v) || pseudo.test(v), `!Ref ${v}`);
          seen.push(v);
        } else if (k === 'Fn::GetAtt') {
          assert.ok(T.Resources[v[0]], `!GetAtt ${v.join('.')}`);
        } else if (k === 'Condition' && typeof v === 'string') {
          assert.ok(T.Conditions[v], `condition ${v}`);
        } else if (k === 'Fn::Sub') {
          const [text, vars = {}] = asList(v);
          const local = new Set(Object.keys(vars));
          for (const [, name] of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
            const base = name.split('.')[0];
            assert.ok(local.has(name) || names.has(base) || pseudo.test(name), `\${${name}} in ${text}`);
          }
          walk(vars, local);
          continue;
        }
        walk(v, locals);
      }
    };
    walk({ Resources: T.Resources, Outputs: T.Outputs, Conditions: T.Conditions });
    assert.ok(seen.length > 10);
  });
});

describe('cfn-lint', () => {
  test('cfn-lint infra/template.yaml exits 0 (no errors, no warnings)', (t) => {
    const lint = ensureCfnLint();
    if (!lint) {
      console.warn(`\n*** ${PYTHON_MISSING} ***\n`);
      return t.skip(PYTHON_MISSING);
    }
    const res = spawnSync(lint, ['--', TEMPLATE_PATH], { encoding: 'utf8', cwd: REPO });
    t.diagnostic(`${spawnSync(lint, ['--version'], { encoding: 'utf8' }).stdout.trim()}: exit ${res.status}`);
    assert.equal(res.status, 0, `cfn-lint found problems:\n${res.stdout}${res.stderr}`);
  });

  test('cfn-lint does catch a broken template (the check can fail)', (t) => {
    const lint = ensureCfnLint();
    if (!lint) return t.skip(PYTHON_MISSING);
    const dir = mkdtempSync(join(tmpdir(), 'infra-test-'));
    try {
      const broken = join(dir, 'template.yaml');
      writeFileSync(broken, TEMPLATE_TEXT.replace('Runtime: nodejs22.x', 'Runtime: nodejs9.x'));
      const res = spawnSync(lint, ['--', broken], { encoding: 'utf8' });
      assert.notEqual(res.status, 0, 'cfn-lint accepted an invalid runtime');
      assert.match(res.stdout, /nodejs9\.x/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/deploy', () => {
  const deploy = (...args) =>
    spawnSync(join(REPO, 'scripts/deploy'), args, {
      encoding: 'utf8',
      env: { ...process.env, EDGE_RESIZER_ARTIFACTS_BUCKET: '', EDGE_RESIZER_STACK: '' },
    });

  test('--help works and names the main flags', () => {
    const res = deploy('--help');
    assert.equal(res.status, 0, res.stderr);
    for (const flag of ['--stack', '--artifacts-bucket', '--widths', '--quality', '--formats', '--existing-bucket',
      '--price-class', '--origin-memory', '--derived-expiry-days', '--dry-run', '--delete']) {
      assert.ok(res.stdout.includes(flag), flag);
    }
  });

  test('--dry-run prints package, cloudformation package and deploy, with the baked config', () => {
    const res = deploy('--dry-run', '--stack', 'imgs', '--artifacts-bucket', 'my-artifacts',
      '--widths', '320,640,1280', '--quality', '70', '--avif-quality=45', '--formats', 'webp,jpeg',
      '--price-class', 'All', '--origin-memory', '2048', '--existing-bucket', 'photos-prod', '--derived-expiry-days', '7');
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.split('\n');
    const config = JSON.parse(lines.filter((l) => l.startsWith('#   ')).map((l) => l.slice(4)).join('\n'));
    assert.deepEqual(config.policy.widths, [320, 640, 1280]);
    assert.deepEqual(config.policy.quality, { jpeg: 70, webp: 70, avif: 45 });
    assert.deepEqual(config.policy.formats, ['webp', 'jpeg']);
    assert.deepEqual(config.limits, DEFAULT_CONFIG.limits);

    const commands = lines.filter((l) => l && !l.startsWith('#'));
    assert.equal(commands.length, 4);
    const [pkg, cfnPackage, cfnDeploy, describeStacks] = commands;
    assert.match(pkg, /^scripts\/package --config \S+config\.json$/);
    const configPath = pkg.split(' ')[2];
    assert.match(cfnPackage, /^aws cloudformation package /);
    assert.match(cfnPackage, /--template-file infra\/template\.yaml/);
    assert.match(cfnPackage, /--s3-bucket my-artifacts --s3-prefix imgs/);
    const packaged = /--output-template-file (\S+)/.exec(cfnPackage)[1];
    assert.ok(configPath.startsWith(packaged.replace(/packaged\.yaml$/, '')), 'both in the same work dir');
    assert.match(cfnDeploy, /^aws cloudformation deploy /);
    assert.ok(cfnDeploy.includes(`--template-file ${packaged}`));
    for (const part of ['--stack-name imgs', '--capabilities CAPABILITY_IAM', '--region us-east-1']) {
      assert.ok(cfnDeploy.includes(part), part);
    }
    assert.match(cfnPackage, /--region us-east-1/);
    assert.match(describeStacks, /^aws cloudformation describe-stacks --stack-name imgs /);

    // Every override is a template parameter; the baked ones match the config.
    const overrides = Object.fromEntries(
      [...cfnDeploy.split('--parameter-overrides ')[1].matchAll(/'([A-Za-z0-9]+)=([^']*)'|([A-Za-z0-9]+)=(\S*)/g)]
        .map((m) => (m[1] ? [m[1], m[2]] : [m[3], m[4]])),
    );
    for (const key of Object.keys(overrides)) assert.ok(T.Parameters[key], `unknown stack parameter ${key}`);
    assert.equal(overrides.Widths, '320,640,1280');
    assert.equal(overrides.JpegQuality, '70');
    assert.equal(overrides.AvifQuality, '45');
    assert.equal(overrides.Formats, 'webp,jpeg');
    assert.equal(overrides.PriceClass, 'PriceClass_All');
    assert.equal(overrides.OriginMemorySize, '2048');
    assert.equal(overrides.ExistingBucketName, 'photos-prod');
    assert.equal(overrides.DerivedExpirationDays, '7');
    assert.ok('ViewerCodeSha256' in overrides && 'OriginCodeSha256' in overrides);
    // Parameters that are not baked are left alone unless given (an update keeps them).
    const minimal = deploy('--dry-run', '--artifacts-bucket', 'b');
    assert.equal(minimal.status, 0, minimal.stderr);
    for (const key of ['ExistingBucketName', 'PriceClass', 'OriginMemorySize', 'DerivedExpirationDays']) {
      assert.ok(!minimal.stdout.includes(`${key}=`), key);
    }
    assert.match(minimal.stdout, /--stack-name edge-resizer /);
  });

  test('bad input is refused before anything runs', () => {
    const cases = [
      [],
      ['--artifacts-bucket', 'b', '--formats', 'bmp'],
      ['--artifacts-bucket', 'b', '--widths', '320,abc'],
      ['--artifacts-bucket', 'b', '--widths', '5000'],
      ['--artifacts-bucket', 'b', '--quality', '0'],
      ['--artifacts-bucket', 'b', '--price-class', '300'],
      ['--artifacts-bucket', 'b', '--origin-memory', '20000'],
      ['--artifacts-bucket', 'b', '--derived-prefix', '../x/'],
      ['--artifacts-bucket', 'b', '--stack', 'has_underscore'],
      ['--artifacts-bucket', 'b', '--domain', 'img.example.com'],
      ['--artifacts-bucket', 'b', '--existing-bucket', 'dotted.bucket'],
      ['--artifacts-bucket', 'b', '--bogus'],
    ];
    for (const args of cases) {
      const res = deploy('--dry-run', ...args);
      assert.equal(res.status, 2, `${args.join(' ')} should fail: ${res.stdout}`);
      assert.match(res.stderr, /^deploy: /);
      assert.equal(res.stdout, '');
    }
  });

  test('a real run (fake aws and package) bakes the config, hashes the zips, prints the URL', () => {
    // A copy of the deploy files next to stand-ins for scripts/package and the AWS CLI,
    // which record how they were called.
    const dir = mkdtempSync(join(tmpdir(), 'infra-deploy-'));
    try {
      for (const file of ['infra/deploy.mjs', 'infra/template.yaml', 'config/default.json', 'scripts/deploy']) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        copyFileSync(join(REPO, file), join(dir, file));
      }
      chmodSync(join(dir, 'scripts/deploy'), 0o755);
      // deploy validates the config with the core's request-only wasm.
      cpSync(join(REPO, 'edge-shim/pkg-request'), join(dir, 'edge-shim/pkg-request'), { recursive: true });
      const log = join(dir, 'calls.jsonl');
      const fake = (body) => `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ cmd: require('path').basename(process.argv[1]), args }) + '\\n');
${body}
`;
      writeFileSync(join(dir, 'scripts/package'), fake(`
const config = fs.readFileSync(args[args.indexOf('--config') + 1], 'utf8');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ config: JSON.parse(config) }) + '\\n');
fs.mkdirSync(${JSON.stringify(join(dir, 'dist'))}, { recursive: true });
fs.writeFileSync(${JSON.stringify(join(dir, 'dist/viewer-request.zip'))}, 'viewer zip');
fs.writeFileSync(${JSON.stringify(join(dir, 'dist/origin-response.zip'))}, 'origin zip');`), { mode: 0o755 });
      mkdirSync(join(dir, 'bin'));
      writeFileSync(join(dir, 'bin/aws'), fake(`
if (args[1] === 'describe-stacks') process.stdout.write('Url\\thttps://d111.cloudfront.net\\nBucketName\\timages-bucket-1\\n');`), { mode: 0o755 });

      const res = spawnSync(join(dir, 'scripts/deploy'), ['--stack', 'imgs', '--artifacts-bucket', 'art', '--widths', '100,200', '--formats', 'webp'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      });
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /CloudFront URL: https:\/\/d111\.cloudfront\.net/);
      const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(calls.map((c) => c.cmd ?? 'config'), ['package', 'config', 'aws', 'aws', 'aws']);
      assert.deepEqual(calls[1].config.policy.widths, [100, 200]);
      assert.deepEqual(calls[1].config.policy.formats, ['webp']);
      const [pack, deployCall, describeCall] = calls.slice(2).map((c) => c.args);
      assert.deepEqual(pack.slice(0, 2), ['cloudformation', 'package']);
      assert.deepEqual(deployCall.slice(0, 2), ['cloudformation', 'deploy']);
      assert.deepEqual(describeCall.slice(0, 2), ['cloudformation', 'describe-stacks']);
      const sha = (text) => createHash('sha256').update(text).digest('hex');
      assert.ok(deployCall.includes(`ViewerCodeSha256=${sha('viewer zip')}`));
      assert.ok(deployCall.includes(`OriginCodeSha256=${sha('origin zip')}`));
      assert.ok(deployCall.includes('Widths=100,200'));
      assert.equal(deployCall[deployCall.indexOf('--region') + 1], 'us-east-1');
      // The packaged template cloudformation package was told to write is what gets deployed.
      assert.equal(deployCall[deployCall.indexOf('--template-file') + 1], pack[pack.indexOf('--output-template-file') + 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--delete --dry-run deletes the stack and waits', () => {
    const res = deploy('--delete', '--dry-run', '--stack', 'imgs');
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(res.stdout.trim().split('\n'), [
      'aws cloudformation delete-stack --stack-name imgs --region us-east-1',
      'aws cloudformation wait stack-delete-complete --stack-name imgs --region us-east-1',
    ]);
  });

  test('config building: a --config file is the base, flags override, unknown fields are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-test-'));
    try {
      const file = join(dir, 'mine.json');
      writeFileSync(file, JSON.stringify({ policy: { widths: [100, 200], sizeMode: 'snap' }, limits: { maxInputBytes: 1000 } }));
      const cfg = buildConfig({ config: file, heights: '50' });
      assert.deepEqual(cfg.policy.widths, [100, 200]);
      assert.deepEqual(cfg.policy.heights, [50]);
      assert.equal(cfg.policy.sizeMode, 'snap');
      assert.equal(cfg.limits.maxInputBytes, 1000);
      assert.equal(cfg.limits.maxDecodeBytes, DEFAULT_CONFIG.limits.maxDecodeBytes);
      const params = stackParameters(cfg, {}, { viewer: 'v', origin: 'o' });
      assert.equal(params.Widths, '100,200');
      assert.equal(params.SizeMode, 'snap');
      writeFileSync(file, JSON.stringify({ policy: { maxWidht: 10 } }));
      assert.throws(() => buildConfig({ config: file }), UsageError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('configs scripts/deploy writes are accepted by the real wasm core', async (t) => {
    const pkgDir = new URL('../edge-shim/pkg-request/', import.meta.url);
    if (!existsSync(new URL('package.json', pkgDir)) || !existsSync(join(REPO, 'lambda-common/wasm.mjs'))) {
      return t.skip('edge-shim/pkg-request not built (scripts/build)');
    }
    const { loadShim } = await import('../lambda-common/wasm.mjs');
    const shim = await loadShim(pkgDir);
    try {
      for (const opts of [{}, { widths: '320,640', 'size-mode': 'snap', quality: '60', formats: 'webp', 'auto-format': true },
        { 'derived-prefix': 'cache/v2/', 'max-width': '2000', heights: '100,2000' }]) {
        const json = JSON.stringify(buildConfig(opts));
        assert.doesNotThrow(() => shim.configure(json), json);
      }
    } finally {
      shim.configure(JSON.stringify(DEFAULT_CONFIG));
    }
  });
});

describe('bundles within the Lambda@Edge limits', () => {
  const limits = [
    ['viewer-request', 1024 * 1024],
    ['origin-response', 50 * 1024 * 1024],
  ];
  for (const [name, limit] of limits) {
    test(`dist/${name}.zip <= ${limit} bytes, unzips and exports handler`, (t) => {
      const zip = join(REPO, 'dist', `${name}.zip`);
      if (!existsSync(zip)) return t.skip(`dist/${name}.zip not built (scripts/package)`);
      const size = statSync(zip).size;
      t.diagnostic(`${name}.zip: ${size} bytes`);
      assert.ok(size <= limit, `${name}.zip is ${size} bytes, over ${limit}`);
      const dir = mkdtempSync(join(tmpdir(), 'infra-zip-'));
      try {
        const unzip = spawnSync('unzip', ['-q', zip, '-d', dir], { encoding: 'utf8' });
        if (unzip.error) return t.skip('unzip is not installed');
        assert.equal(unzip.status, 0, unzip.stderr);
        // Lambda's own limit on the unzipped package.
        const du = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
        assert.ok(Number(du.stdout.split('\t')[0]) <= 250 * 1024 * 1024);
        const config = JSON.parse(readFileSync(join(dir, 'config/default.json'), 'utf8'));
        assert.ok(config.policy, 'the config is baked in');
        const load = spawnSync(process.execPath, ['--input-type=module', '-e',
          'const m = await import(process.argv[1]); if (typeof m.handler !== "function") process.exit(3);',
          join(dir, 'index.mjs')], { encoding: 'utf8', cwd: dir });
        assert.equal(load.status, 0, `bundle does not load: ${load.stderr}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
