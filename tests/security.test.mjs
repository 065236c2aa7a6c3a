// docs/security.md, enforced where a test can: the template's bucket, OAC, TLS-only
// policy, least-privilege role, nosniff headers policy, alarms and dashboard; SVG is
// never served from a resize request (an SVG original is rasterised); the derived prefix is no side door.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { parseCfnYaml } from '../infra/cfn-template.mjs';
import { loadConfiguredShim, loadShim } from '../lambda-common/wasm.mjs';
import { handleViewerRequest } from '../viewer-request/viewer.mjs';
import { viewerRequestEvent } from './lib/events.mjs';

// The core's effective config (every default filled in).
const { derivedPrefix } = (await loadConfiguredShim(new URL('../edge-shim/pkg/', import.meta.url))).config.policy;

const T = parseCfnYaml(readFileSync(new URL('../infra/template.yaml', import.meta.url), 'utf8'));
const R = T.Resources;
const corpus = new URL('../../shared/corpus/', import.meta.url);

const statements = (doc) => doc.Statement ?? [];
const actions = (s) => [s.Action].flat();

describe('the template', () => {
  test('CloudFront reaches S3 only through OAC; public access is blocked; non-TLS access is denied', () => {
    const block = R.ImageBucket.Properties.PublicAccessBlockConfiguration;
    // Everything blocked unless the operator opts into ResizeWebsite (main's api: the S3
    // website endpoint serves the derived prefix publicly).
    const unlessWebsite = (v) => (v?.['Fn::If']?.[0] === 'ResizeWebsiteOn' ? v['Fn::If'][2] : v);
    const blocked = Object.fromEntries(Object.entries(block).map(([k, v]) => [k, unlessWebsite(v)]));
    assert.deepEqual(blocked, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    assert.equal(R.OriginAccessControl.Properties.OriginAccessControlConfig.SigningBehavior, 'always');
    const [origin] = R.Distribution.Properties.DistributionConfig.Origins;
    assert.deepEqual(origin.OriginAccessControlId, { 'Fn::GetAtt': ['OriginAccessControl', 'Id'] });
    const policy = statements(R.ImageBucketPolicy.Properties.PolicyDocument);
    const deny = policy.find((s) => s.Effect === 'Deny');
    assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    assert.equal(deny.Principal, '*');
    // Every Allow is for the CloudFront service principal, tied to this distribution.
    for (const s of policy.filter((x) => x.Effect === 'Allow')) {
      assert.deepEqual(s.Principal, { Service: 'cloudfront.amazonaws.com' });
      assert.ok(s.Condition.StringEquals['AWS:SourceArn']);
    }
  });

  test('least privilege: the functions may read the bucket and write only the derived (or uploads) prefix', () => {
    const roles = Object.values(R).filter((r) => r.Type === 'AWS::IAM::Role');
    for (const role of roles) {
      for (const policy of role.Properties.Policies ?? []) {
        for (const s of statements(policy.PolicyDocument)) {
          for (const a of actions(s)) assert.ok(!a.endsWith(':*') && a !== '*', `${policy.PolicyName}: wildcard action ${a}`);
          if (actions(s).includes('s3:PutObject')) {
            // The derived prefix, or the uploads prefix (the API presigns uploads there).
            assert.match(JSON.stringify(s.Resource), /\$\{(DerivedPrefix|UploadsPrefix)\}\*/, 'PutObject only under the derived or uploads prefix');
          }
          assert.ok(!actions(s).includes('s3:DeleteObject'), 'no function deletes objects');
        }
      }
    }
  });

  test('nosniff and a no-script CSP on everything CloudFront serves', () => {
    const cfg = R.SecurityHeadersPolicy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    assert.equal(cfg.ContentTypeOptions.Override, true);
    assert.match(cfg.ContentSecurityPolicy.ContentSecurityPolicy, /sandbox/);
  });

  test('alarms: origin 5xx rate > 5 % / 5 min, p95 duration near the timeout, throttles; and a dashboard', () => {
    const rate = R.OriginErrorRateAlarm.Properties;
    assert.equal(rate.Threshold, 5);
    assert.ok(rate.Metrics.every((m) => !m.MetricStat || m.MetricStat.Period === 300));
    assert.match(rate.Metrics.find((m) => m.Expression).Expression, /100 \* FILL\(errors, 0\) \/ requests/);
    assert.equal(R.DistributionErrorRateAlarm.Properties.MetricName, '5xxErrorRate');
    const duration = R.OriginDurationAlarm.Properties;
    assert.equal(duration.ExtendedStatistic, 'p95');
    assert.ok(duration.Threshold < R.OriginResponseFunction.Properties.Timeout * 1000);
    for (const name of ['OriginThrottlesAlarm', 'ViewerThrottlesAlarm']) assert.equal(R[name].Properties.MetricName, 'Throttles');
    const body = R.Dashboard.Properties.DashboardBody['Fn::Sub'][0];
    for (const metric of ['TotalMs', 'TransformMs', 'DecodeMs', 'ResizeMs', 'EncodeMs', 'BytesIn', 'BytesOut', 'Requests']) {
      assert.ok(body.includes(`"${metric}"`), metric);
    }
    // The dashboard body is JSON once the ${...} references are filled in.
    JSON.parse(body.replace(/\$\{[^}]+\}/g, 'x'));
    // The upload pipeline: its DLQ alarm and its own dashboard (outcomes, time, DLQ depth).
    assert.equal(R.UploadDeadLetterAlarm.Properties.MetricName, 'ApproximateNumberOfMessagesVisible');
    const uploads = R.UploadDashboard;
    assert.equal(uploads.Condition, 'UploadPipelineOn');
    const uploadBody = uploads.Properties.DashboardBody['Fn::Sub'][0];
    for (const needle of ['"upload-processor"', '"TotalMs"', '"ApproximateNumberOfMessagesVisible"', '${DeadLetter}', '"Throttles"']) {
      assert.ok(uploadBody.includes(needle), needle);
    }
    JSON.parse(uploadBody.replace(/\$\{[^}]+\}/g, 'x'));
  });
});

describe('requests', () => {
  test('SVG is never served from a resize request: an SVG original comes out rasterised, scripts dropped', async () => {
    const shim = await loadShim(new URL('../edge-shim/pkg/', import.meta.url));
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" onload="alert(1)"><script>alert(2)</script><rect width="40" height="20" fill="red"/></svg>');
    for (const [key, contentType] of [
      [`${derivedPrefix}a.svg/w_100.jpg`, 'image/jpeg'],
      [`${derivedPrefix}a.svg/w_100.source`, 'image/png'],
      [`${derivedPrefix}a.png/w_100.png`, 'image/png'],
    ]) {
      const out = shim.transformDerived(svg, key);
      assert.equal(out.contentType, contentType, key);
      assert.equal(out.width, 100, key);
      const text = Buffer.from(out.body).toString('latin1');
      assert.ok(!/<svg|<script|alert\(/i.test(text), `${key}: markup in the output`);
    }
    // An SVG-looking JPEG with script text after the image still comes out as a JPEG.
    const jpeg = readFileSync(new URL('photos/progressive_3.jpg', corpus));
    const out = shim.transformDerived(Buffer.concat([jpeg, svg]), `${derivedPrefix}a.jpg/w_100.jpg`);
    assert.equal(out.contentType, 'image/jpeg');
  });

  test('the derived prefix is no side door: traversal and non-canonical derived keys are 400', async () => {
    const shim = await loadShim(new URL('../edge-shim/pkg-request/', import.meta.url));
    for (const [uri, querystring] of [
      [`/${derivedPrefix}../secret.jpg/w_100.jpg`, ''],
      ['/a/../../etc/passwd', 'w=100'],
      ['/a%2f..%2fb.jpg', 'w=100'],
      [`/${derivedPrefix}a.jpg/w_100.jpg`, 'w=200'],
    ]) {
      const result = handleViewerRequest(viewerRequestEvent({ uri, querystring }), shim);
      if (result.status) {
        assert.equal(result.status, '400', uri);
        assert.equal(result.headers['x-content-type-options'][0].value, 'nosniff');
      } else {
        // Passed through: then it names a derived key exactly, which the origin checks.
        assert.ok(result.uri.startsWith(`/${derivedPrefix}`) && !result.uri.includes('..'), result.uri);
      }
    }
  });
});
