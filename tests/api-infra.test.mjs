// infra/template.yaml, api block (issue 14): the HTTP API and its routes (the same as
// api/router.mjs), the JWT authorizer (own Cognito pool or issuer/audience parameters),
// the function's least-privilege role, the optional S3 website with the 404 → /resize
// routing rule, the API URL output. cfn-lint of the whole template runs in
// tests/infra.test.mjs; dist/api.zip is checked here when it has been built.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseCfnYaml } from '../infra/cfn-template.mjs';
import { routeTable } from '../api/router.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const T = parseCfnYaml(readFileSync(join(REPO, 'infra/template.yaml'), 'utf8'));
const R = T.Resources;
const asList = (v) => (Array.isArray(v) ? v : [v]);
const subText = (v) => (typeof v === 'string' ? v : asList(v['Fn::Sub'])[0]);
const isRef = (v, name) => v?.Ref === name;
const ofType = (type) => Object.entries(R).filter(([, r]) => r.Type === type);

describe('regional API in infra/template.yaml', () => {
  test('RegionalApi parameter (default enabled) guards every api resource', () => {
    assert.equal(T.Parameters.RegionalApi.Default, 'enabled');
    assert.deepEqual(T.Conditions.RegionalApiOn, { 'Fn::Equals': [{ Ref: 'RegionalApi' }, 'enabled'] });
    const api = Object.entries(R).filter(([id]) => id.startsWith('RegionalApi') || id === 'RegionalHttpApi');
    assert.ok(api.length >= 14, `${api.length} resources`);
    for (const [id, r] of api) {
      assert.ok(['RegionalApiOn', 'CreateApiUserPool'].includes(r.Condition), `${id}: ${r.Condition}`);
    }
    // It serves the upload pipeline's records.
    assert.deepEqual(T.Rules.RegionalApiNeedsUploadPipeline.Assertions[0].Assert, { 'Fn::Equals': [{ Ref: 'UploadPipeline' }, 'enabled'] });
  });

  test('an HTTP API whose routes and authorizers are those of api/router.mjs', () => {
    assert.equal(R.RegionalHttpApi.Type, 'AWS::ApiGatewayV2::Api');
    assert.equal(R.RegionalHttpApi.Properties.ProtocolType, 'HTTP');
    const integration = R.RegionalApiIntegration.Properties;
    assert.equal(integration.IntegrationType, 'AWS_PROXY');
    assert.equal(integration.PayloadFormatVersion, '2.0');
    assert.deepEqual(integration.IntegrationUri, { 'Fn::GetAtt': ['RegionalApiFunction', 'Arn'] });
    assert.ok(integration.TimeoutInMillis <= 30000);
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    const expected = routeTable({ transformRequiresAuth: false });
    assert.deepEqual(routes.map((r) => r.RouteKey).sort(), expected.map(([m, p]) => `${m} ${p}`).sort());
    for (const route of routes) {
      assert.ok(isRef(route.ApiId, 'RegionalHttpApi'));
      assert.equal(subText(route.Target), 'integrations/${RegionalApiIntegration}');
      const [, , { auth }] = expected.find(([m, p]) => `${m} ${p}` === route.RouteKey);
      if (route.RouteKey === 'POST /transform') {
        // Follows ApiTransformRequiresAuth, like api.transformRequiresAuth in the config.
        assert.deepEqual(route.AuthorizationType, { 'Fn::If': ['ApiTransformAuth', 'JWT', 'NONE'] });
        assert.equal(auth, false);
      } else if (auth) {
        assert.equal(route.AuthorizationType, 'JWT', route.RouteKey);
        assert.ok(isRef(route.AuthorizerId, 'RegionalApiAuthorizer'), route.RouteKey);
      } else {
        assert.equal(route.AuthorizationType, 'NONE', route.RouteKey);
      }
    }
    assert.ok(routeTable({ transformRequiresAuth: true }).find(([m, p]) => m === 'POST' && p === '/transform')[2].auth);
    const stage = R.RegionalApiStage.Properties;
    assert.equal(stage.StageName, '$default');
    assert.equal(stage.AutoDeploy, true);
    const permission = R.RegionalApiInvokePermission.Properties;
    assert.equal(permission.Principal, 'apigateway.amazonaws.com');
    assert.match(subText(permission.SourceArn), /:\$\{RegionalHttpApi\}\/\*$/);
  });

  test('JWT authorizer: a Cognito pool of this stack, or the issuer/audience parameters', () => {
    const auth = R.RegionalApiAuthorizer.Properties;
    assert.equal(auth.AuthorizerType, 'JWT');
    assert.deepEqual(auth.IdentitySource, ['$request.header.Authorization']);
    const [cond, poolIssuer, givenIssuer] = auth.JwtConfiguration.Issuer['Fn::If'];
    assert.equal(cond, 'CreateApiUserPool');
    assert.equal(subText(poolIssuer), 'https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${RegionalApiUserPool}');
    assert.ok(isRef(givenIssuer, 'ApiJwtIssuer'));
    const [, poolAudience, givenAudience] = auth.JwtConfiguration.Audience['Fn::If'];
    assert.deepEqual(poolAudience, [{ Ref: 'RegionalApiUserPoolClient' }]);
    assert.deepEqual(givenAudience, { 'Fn::Split': [',', { Ref: 'ApiJwtAudience' }] });
    assert.equal(R.RegionalApiUserPool.Condition, 'CreateApiUserPool');
    assert.equal(R.RegionalApiUserPoolClient.Properties.GenerateSecret, false, 'a browser app client');
    assert.deepEqual(T.Conditions.CreateApiUserPool, { 'Fn::And': [{ Condition: 'RegionalApiOn' }, { 'Fn::Equals': [{ Ref: 'ApiJwtIssuer' }, ''] }] });
  });

  test('the function: regular Lambda with the three environment variables and its own role', () => {
    const fn = R.RegionalApiFunction.Properties;
    assert.equal(fn.Runtime, 'nodejs22.x');
    assert.equal(fn.Handler, 'index.handler');
    assert.equal(fn.Code, '../dist/api.zip');
    assert.ok(fn.Timeout <= 30, 'within API Gateway 30 s integration timeout');
    assert.deepEqual(Object.keys(fn.Environment.Variables).sort(), ['CDN_BASE_URL', 'IMAGES_BUCKET', 'METADATA_TABLE']);
    assert.ok(isRef(fn.Environment.Variables.METADATA_TABLE, 'UploadMetadataTable'));
    const cdn = fn.Environment.Variables.CDN_BASE_URL['Fn::If'];
    assert.equal(cdn[0], 'ResizeWebsiteOn');
    assert.deepEqual(cdn[1], { 'Fn::GetAtt': ['ImageBucket', 'WebsiteURL'] });
    assert.deepEqual(fn.Role, { 'Fn::GetAtt': ['RegionalApiRole', 'Arn'] });
    assert.equal(subText(R.RegionalApiLogGroup.Properties.LogGroupName), '/aws/lambda/${AWS::StackName}-api');
    assert.equal(subText(fn.FunctionName), '${AWS::StackName}-api');
  });

  test('least privilege: presign PUT under uploads/, write _derived/, read objects, put/query the table', () => {
    const role = R.RegionalApiRole.Properties;
    assert.deepEqual(role.AssumeRolePolicyDocument.Statement.map((s) => s.Principal.Service), ['lambda.amazonaws.com']);
    assert.equal(role.ManagedPolicyArns, undefined);
    const grants = {};
    for (const s of role.Policies.flatMap((p) => p.PolicyDocument.Statement)) {
      assert.equal(s.Effect, 'Allow');
      for (const action of asList(s.Action)) {
        assert.doesNotMatch(action, /\*/);
        for (const resource of asList(s.Resource)) {
          assert.notEqual(resource, '*');
          (grants[action] ??= []).push(typeof resource === 'string' ? resource : resource['Fn::GetAtt'] ? resource['Fn::GetAtt'].join('.') : subText(resource));
        }
      }
    }
    assert.deepEqual(grants, {
      's3:PutObject': ['arn:${AWS::Partition}:s3:::${Bucket}/${UploadsPrefix}*', 'arn:${AWS::Partition}:s3:::${Bucket}/${DerivedPrefix}*'],
      's3:GetObject': ['arn:${AWS::Partition}:s3:::${Bucket}/*'],
      's3:ListBucket': ['arn:${AWS::Partition}:s3:::${Bucket}'],
      'dynamodb:PutItem': ['UploadMetadataTable.Arn'],
      'dynamodb:Query': ['UploadMetadataTable.Arn', '${UploadMetadataTable.Arn}/index/user-id-index'],
      'logs:CreateLogStream': ['RegionalApiLogGroup.Arn'],
      'logs:PutLogEvents': ['RegionalApiLogGroup.Arn'],
    });
  });

  test('optional S3 website (off by default): 404 and 403 redirect to the API /resize, derived prefix public', () => {
    assert.equal(T.Parameters.ResizeWebsite.Default, 'disabled');
    assert.deepEqual(T.Conditions.ResizeWebsiteOn['Fn::And'].slice(0, 2), [{ Condition: 'RegionalApiOn' }, { Condition: 'CreateBucket' }]);
    const [cond, website, off] = R.ImageBucket.Properties.WebsiteConfiguration['Fn::If'];
    assert.equal(cond, 'ResizeWebsiteOn');
    assert.ok(isRef(off, 'AWS::NoValue'));
    assert.deepEqual(website.RoutingRules.map((r) => r.RoutingRuleCondition.HttpErrorCodeReturnedEquals).sort(), ['403', '404']);
    for (const { RedirectRule: rule } of website.RoutingRules) {
      assert.equal(rule.ReplaceKeyPrefixWith, 'resize?key=');
      assert.equal(rule.Protocol, 'https');
      assert.equal(subText(rule.HostName), '${RegionalHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}');
    }
    const statements = R.ImageBucketPolicy.Properties.PolicyDocument.Statement;
    const publicRead = statements.find((s) => s['Fn::If']?.[0] === 'ResizeWebsiteOn')['Fn::If'][1];
    assert.equal(publicRead.Principal, '*');
    assert.equal(publicRead.Action, 's3:GetObject');
    assert.equal(subText(publicRead.Resource), 'arn:${AWS::Partition}:s3:::${ImageBucket}/${DerivedPrefix}*', 'only derived objects are public');
  });

  test('outputs: the API URL (and the user pool when created)', () => {
    assert.deepEqual(T.Outputs.RegionalApiUrl.Value, { 'Fn::GetAtt': ['RegionalHttpApi', 'ApiEndpoint'] });
    assert.equal(T.Outputs.RegionalApiUrl.Condition, 'RegionalApiOn');
    assert.equal(T.Outputs.RegionalApiUserPoolClientId.Condition, 'CreateApiUserPool');
  });

  test('dist/api.zip (scripts/package) loads and exports handler', (t) => {
    const zip = join(REPO, 'dist/api.zip');
    if (!existsSync(zip)) return t.skip('dist/api.zip not built (scripts/package)');
    assert.ok(statSync(zip).size < 50 * 1024 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'api-zip-'));
    try {
      assert.equal(spawnSync('python3', ['-m', 'zipfile', '-e', zip, dir]).status, 0);
      const check = spawnSync(process.execPath, ['--input-type=module', '-e', `
        const mod = await import(${JSON.stringify(join(dir, 'index.mjs'))});
        const res = await mod.handler({ version: '2.0', rawPath: '/resize', rawQueryString: 'key=abc', headers: {},
          requestContext: { http: { method: 'GET', path: '/resize' }, stage: '$default' } });
        if (res.statusCode !== 400 || JSON.parse(res.body).code !== 'invalid_parameter') throw new Error(JSON.stringify(res));
      `], { encoding: 'utf8', env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' } });
      assert.equal(check.status, 0, check.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
