// The EMF rules a log line must follow (CloudWatch Embedded Metric Format specification):
// shared by the tests that capture handler log lines.

import assert from 'node:assert/strict';

import { NAMESPACE } from '../../lambda-common/log.mjs';

/** Checks one parsed log line against the EMF specification's rules. */
export function assertEmf(line) {
  const meta = line._aws;
  assert.equal(typeof meta?.Timestamp, 'number');
  assert.ok(Array.isArray(meta.CloudWatchMetrics) && meta.CloudWatchMetrics.length === 1);
  const [directive] = meta.CloudWatchMetrics;
  assert.equal(directive.Namespace, NAMESPACE);
  assert.ok(directive.Dimensions.some((set) => ['function', 'action', 'format', 'statusClass'].every((d) => set.includes(d))));
  for (const set of directive.Dimensions) {
    assert.ok(set.length >= 1 && set.length <= 30);
    for (const name of set) assert.ok(typeof line[name] === 'string' && line[name].length > 0, `dimension ${name} is a non-empty string`);
  }
  assert.ok(directive.Metrics.length >= 1 && directive.Metrics.length <= 100);
  for (const { Name, Unit } of directive.Metrics) {
    assert.equal(typeof line[Name], 'number', `metric ${Name} has a number value`);
    assert.ok(['Count', 'Milliseconds', 'Bytes'].includes(Unit));
  }
}
