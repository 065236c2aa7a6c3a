// The local upload stack, made from infra/template.yaml itself so the local wiring and
// the deployed wiring cannot drift: the template's upload block plus the image bucket
// (with its upload notification), deployed on the local AWS's CloudFormation engine.
//
// Left out locally, because they need what only AWS has: the Lambda function, its SQS
// event source mapping and the two alarms on its metrics (the function's code is a local
// zip path that `aws cloudformation package` rewrites to S3). dev/upload-poller.mjs
// stands in for the event source mapping and runs the handler in-process.

import { readFileSync } from 'node:fs';

import { parseCfnYaml } from '../infra/cfn-template.mjs';

const TEMPLATE = new URL('../infra/template.yaml', import.meta.url);
export const AWS_ONLY = ['UploadProcessorFunction', 'UploadProcessorEventSource', 'UploadErrorRateAlarm', 'UploadDurationAlarm'];

/** The local template: upload resources + ImageBucket, upload outputs + BucketName. */
export function localUploadTemplate(text = readFileSync(TEMPLATE, 'utf8')) {
  const t = parseCfnYaml(text);
  const resources = {};
  for (const [id, r] of Object.entries(t.Resources)) {
    if (id === 'ImageBucket' || (r.Condition === 'UploadPipelineOn' && !AWS_ONLY.includes(id))) resources[id] = r;
  }
  const outputs = {};
  for (const [id, o] of Object.entries(t.Outputs)) {
    if (id === 'BucketName' || (o.Condition === 'UploadPipelineOn' && id !== 'UploadProcessorFunctionName')) outputs[id] = o;
  }
  return {
    AWSTemplateFormatVersion: t.AWSTemplateFormatVersion,
    Description: 'edge-resizer upload pipeline (local subset of infra/template.yaml)',
    Parameters: t.Parameters,
    Conditions: t.Conditions,
    Resources: resources,
    Outputs: outputs,
  };
}

/** Deploy it on `aws` (tests/lib/localaws.mjs); throws unless the stack completed. */
export async function deployUploadStack(aws, name = 'edge-resizer-dev') {
  const stack = await aws.deployStack(name, localUploadTemplate(), { UploadPipeline: 'enabled' });
  if (stack.status !== 'CREATE_COMPLETE') {
    const failed = stack.resources.filter((r) => !r.status.endsWith('COMPLETE')).map((r) => `${r.logicalId}: ${r.reason}`);
    throw new Error(`local stack ${name}: ${stack.status} ${stack.reason} ${failed.join('; ')}`);
  }
  return stack;
}
