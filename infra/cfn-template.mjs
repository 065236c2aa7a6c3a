// Reads a CloudFormation YAML template with the `yaml` package, CloudFormation's short
// intrinsic tags declared as custom tags and mapped the way CloudFormation and cfn-lint
// map them (`!Ref X` -> {Ref: X}, `!GetAtt A.b` -> {"Fn::GetAtt": ["A", "b"]},
// `!Sub ...` -> {"Fn::Sub": ...}). Warnings (an unknown tag, say) and duplicate keys are
// errors, so a misread cannot pass silently; tests/infra.test.mjs compares the result
// with cfn-lint's own decoder when that is installed.

import { parseDocument } from 'yaml';

export class CfnYamlError extends Error {}

// Short form -> long form; `Ref` and `Condition` keep their names.
const FUNCTIONS = [
  'And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'GetAtt', 'If', 'ImportValue', 'Join',
  'Not', 'Or', 'Select', 'Split', 'Sub', 'Transform', 'ToJsonString', 'Length',
];
const longName = (name) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);

/** `!GetAtt A.b.c` -> ["A", "b.c"] (the attribute may itself contain dots). */
function getAttScalar(text) {
  const dot = text.indexOf('.');
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}

const customTags = ['Ref', 'Condition', ...FUNCTIONS].flatMap((name) => {
  const tag = `!${name}`;
  const key = longName(name);
  return [
    { tag, resolve: (text) => ({ [key]: name === 'GetAtt' ? getAttScalar(text) : text }) },
    { tag, collection: 'seq', resolve: (seq) => ({ [key]: seq.toJSON() }) },
    { tag, collection: 'map', resolve: (map) => ({ [key]: map.toJSON() }) },
  ];
});

/** Parse a CloudFormation YAML document into plain JSON-like values. */
export function parseCfnYaml(text) {
  const doc = parseDocument(text, { customTags, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) throw new CfnYamlError(problems.map((p) => p.message).join('\n'));
  try {
    // No aliases: CloudFormation templates do not need them, and they hide expansion.
    return doc.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new CfnYamlError(error.message);
  }
}
