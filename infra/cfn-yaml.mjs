// A small reader for the YAML subset CloudFormation templates use, with the short
// intrinsic tags (`!Ref X` -> {Ref: X}, `!GetAtt A.b` -> {"Fn::GetAtt": ["A", "b"]},
// `!Sub ...` -> {"Fn::Sub": ...}), mapped the way cfn-lint and CloudFormation map them.
//
// Why our own: the repo has no npm runtime dependency for the infra tests, and the
// template is ours, so a strict subset is enough. Anything outside the subset (anchors,
// multi-line plain scalars, YAML 1.1 booleans such as `yes`, dates, tabs) throws instead
// of being guessed, so a misread cannot pass silently. tests/infra.test.mjs compares
// the result with cfn-lint's own decoder when that is installed.

const UNCONVERTED_TAGS = new Set(['Ref', 'Condition']);

export class CfnYamlError extends Error {}

/** Parse a CloudFormation YAML document into plain JSON-like values. */
export function parseCfnYaml(text) {
  const lines = splitLines(text);
  const state = { lines, i: 0 };
  skipBlank(state);
  if (state.i >= lines.length) return null;
  const value = parseBlock(state, lines[state.i].indent);
  skipBlank(state);
  if (state.i < lines.length) {
    fail(lines[state.i], 'unexpected content (indentation?)');
  }
  return value;
}

function fail(line, message) {
  const where = line ? `line ${line.no}: ` : '';
  throw new CfnYamlError(`${where}${message}`);
}

/** Lines with their indentation; comments stay in `raw` for block scalars. */
function splitLines(text) {
  return text.split(/\r?\n/).map((raw, index) => {
    const no = index + 1;
    if (/^\s*\t/.test(raw)) fail({ no }, 'tabs are not allowed for indentation');
    const indent = raw.length - raw.trimStart().length;
    const content = stripComment(raw.slice(indent), no).trimEnd();
    return { no, raw, indent, content };
  });
}

/** Drop a `#` comment that starts the line or follows a space, outside quotes. */
function stripComment(s, no) {
  let quote = null;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (quote) {
      if (quote === '"' && c === '\\') k++;
      else if (c === quote) {
        if (quote === "'" && s[k + 1] === "'") k++;
        else quote = null;
      }
    } else if ((c === '"' || c === "'") && (k === 0 || /[\s[{,:]/.test(s[k - 1]))) {
      quote = c;
    } else if (c === '#' && (k === 0 || /\s/.test(s[k - 1]))) {
      return s.slice(0, k);
    }
  }
  if (s.startsWith('%') || s.startsWith('---') || s.startsWith('...')) {
    if (s.startsWith('---') && s.trim() === '---') return '';
    fail({ no }, 'directives and document markers are not supported');
  }
  return s;
}

function skipBlank(state) {
  while (state.i < state.lines.length && state.lines[state.i].content === '') state.i++;
}

function isSeqItem(content) {
  return content === '-' || content.startsWith('- ');
}

function parseBlock(state, indent) {
  skipBlank(state);
  const line = state.lines[state.i];
  if (!line || line.indent !== indent) fail(line, 'bad indentation');
  if (/^[&*]/.test(line.content)) fail(line, 'anchors and aliases are not supported');
  return isSeqItem(line.content) ? parseSequence(state, indent) : parseMapping(state, indent);
}

/** Where `key: rest` splits, or -1: the first `:` followed by a space or the end. */
function keyEnd(content) {
  if (content[0] === '"' || content[0] === "'") {
    const end = quotedEnd(content, 0);
    return content[end] === ':' && (end + 1 === content.length || content[end + 1] === ' ')
      ? end
      : -1;
  }
  for (let k = 0; k < content.length; k++) {
    if (content[k] === ':' && (k + 1 === content.length || content[k + 1] === ' ')) return k;
  }
  return -1;
}

function parseMapping(state, indent) {
  const map = {};
  for (;;) {
    skipBlank(state);
    const line = state.lines[state.i];
    if (!line || line.indent < indent) break;
    if (line.indent > indent) fail(line, 'unexpected indentation');
    if (isSeqItem(line.content)) break;
    const end = keyEnd(line.content);
    if (end < 0) fail(line, `expected "key: value", got ${JSON.stringify(line.content)}`);
    const rawKey = line.content.slice(0, end).trim();
    if (rawKey === '' || rawKey.startsWith('?') || /^[&*!]/.test(rawKey)) {
      fail(line, 'complex, tagged or empty keys are not supported');
    }
    const key = /^["']/.test(rawKey) ? parseQuoted(rawKey, line).value : rawKey;
    if (Object.prototype.hasOwnProperty.call(map, key)) fail(line, `duplicate key ${key}`);
    const rest = line.content.slice(end + 1).trim();
    state.i++;
    map[key] = parseValueAfterIndicator(state, rest, indent, line, true);
  }
  return map;
}

function parseSequence(state, indent) {
  const seq = [];
  for (;;) {
    skipBlank(state);
    const line = state.lines[state.i];
    if (!line || line.indent < indent) break;
    if (line.indent > indent) fail(line, 'unexpected indentation');
    if (!isSeqItem(line.content)) break;
    const rest = line.content.slice(1).trimStart();
    const offset = line.content.length - rest.length;
    if (rest !== '' && (isSeqItem(rest) || (keyEnd(rest) >= 0 && !/^[[{!"']/.test(rest)) ||
        (/^["']/.test(rest) && keyEnd(rest) >= 0))) {
      // `- key: v` / `- - x`: the item is a block node whose first line starts at the
      // column after the dash; rewrite this line in place and parse from it.
      state.lines[state.i] = { ...line, indent: indent + offset, content: rest };
      seq.push(parseBlock(state, indent + offset));
      continue;
    }
    state.i++;
    seq.push(parseValueAfterIndicator(state, rest, indent, line, false));
  }
  return seq;
}

/**
 * The value after `key:` or `- `: inline text, a tag, a block scalar, or (when the
 * text is empty) the more-indented block below. In a mapping a sequence may sit at the
 * same indentation as its key.
 */
function parseValueAfterIndicator(state, rest, indent, line, inMapping) {
  let tag = null;
  let text = rest;
  const tagMatch = /^!([A-Za-z][A-Za-z0-9]*)(?:\s+|$)/.exec(text);
  if (tagMatch) {
    tag = tagMatch[1];
    text = text.slice(tagMatch[0].length);
  } else if (text.startsWith('!')) {
    fail(line, `unsupported tag in ${JSON.stringify(text)}`);
  }
  if (/^[&*]/.test(text)) fail(line, 'anchors and aliases are not supported');
  let value;
  if (text === '') {
    skipBlank(state);
    const next = state.lines[state.i];
    if (next && next.indent > indent) {
      value = parseBlock(state, next.indent);
    } else if (next && inMapping && next.indent === indent && isSeqItem(next.content)) {
      value = parseSequence(state, indent);
    } else {
      value = tag ? '' : null;
    }
  } else if (/^[|>]/.test(text)) {
    value = parseBlockScalar(state, text, indent, line);
  } else {
    if (/^[[{]/.test(text)) text = joinFlowLines(state, text, line);
    value = parseInline(text, line);
    skipBlank(state);
    const next = state.lines[state.i];
    if (next && next.indent > indent) {
      fail(next, 'multi-line plain scalars are not supported; quote or use | instead');
    }
  }
  return tag ? applyTag(tag, value, line) : value;
}

function applyTag(tag, value, line) {
  if (tag === 'GetAtt') {
    if (typeof value === 'string') {
      const dot = value.indexOf('.');
      if (dot < 1) fail(line, `!GetAtt needs Resource.Attribute, got ${value}`);
      return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
    }
    return { 'Fn::GetAtt': value };
  }
  return { [UNCONVERTED_TAGS.has(tag) ? tag : `Fn::${tag}`]: value };
}

/** A flow collection may continue on the following lines until its brackets close. */
function joinFlowLines(state, text, line) {
  let joined = text;
  while (!flowBalanced(joined)) {
    const next = state.lines[state.i];
    if (!next) fail(line, 'unterminated flow collection');
    state.i++;
    if (next.content !== '') joined += ` ${next.content.trim()}`;
  }
  return joined;
}

function flowBalanced(s) {
  let depth = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    if (c === '"' || c === "'") k = quotedEnd(s, k) - 1;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth <= 0;
}

/** Index just past the closing quote of the quoted scalar starting at `start`. */
function quotedEnd(s, start) {
  const q = s[start];
  for (let k = start + 1; k < s.length; k++) {
    if (q === '"' && s[k] === '\\') k++;
    else if (s[k] === q) {
      if (q === "'" && s[k + 1] === "'") k++;
      else return k + 1;
    }
  }
  return s.length + 1;
}

function parseBlockScalar(state, header, indent, line) {
  const m = /^([|>])([-+]?)$/.exec(header);
  if (!m) fail(line, `unsupported block scalar header ${header}`);
  const [, style, chomp] = m;
  const body = [];
  let blockIndent = null;
  while (state.i < state.lines.length) {
    const l = state.lines[state.i];
    const blank = l.raw.trim() === '';
    if (!blank) {
      if (l.indent <= indent) break;
      if (blockIndent === null) blockIndent = l.indent;
      if (l.indent < blockIndent) fail(l, 'block scalar lines must keep their indentation');
    }
    body.push(blank ? '' : l.raw.slice(blockIndent));
    state.i++;
  }
  while (body.length && body[body.length - 1] === '' && chomp !== '+') body.pop();
  let text;
  if (style === '|') {
    text = body.join('\n');
  } else {
    // Folded: single newlines between non-empty, non-indented lines become spaces.
    text = '';
    for (let k = 0; k < body.length; k++) {
      const cur = body[k];
      if (k > 0) {
        const prev = body[k - 1];
        const keepsBreak = prev === '' || cur === '' || /^\s/.test(prev) || /^\s/.test(cur);
        text += keepsBreak ? '\n' : ' ';
        if (prev === '' && cur !== '') text = text.slice(0, -1);
      }
      text += cur;
    }
  }
  if (chomp === '-' || body.length === 0) return text;
  return `${text}\n`;
}

/** Inline (flow) value: scalar, `[...]` or `{...}`, possibly holding tags. */
function parseInline(text, line) {
  const p = { s: text, k: 0, line };
  const value = parseFlowNode(p, false);
  skipSpaces(p);
  if (p.k < p.s.length) fail(line, `unexpected ${JSON.stringify(p.s.slice(p.k))}`);
  return value;
}

function skipSpaces(p) {
  while (p.k < p.s.length && p.s[p.k] === ' ') p.k++;
}

function parseFlowNode(p, inFlow) {
  skipSpaces(p);
  const c = p.s[p.k];
  if (c === '!') {
    const m = /^!([A-Za-z][A-Za-z0-9]*)\s*/.exec(p.s.slice(p.k));
    if (!m) fail(p.line, 'bad tag');
    p.k += m[0].length;
    return applyTag(m[1], parseFlowNode(p, inFlow), p.line);
  }
  if (c === '[') return parseFlowSeq(p);
  if (c === '{') return parseFlowMap(p);
  if (c === '"' || c === "'") {
    const { value, end } = parseQuoted(p.s.slice(p.k), p.line);
    p.k += end;
    return value;
  }
  if (c === '&' || c === '*') fail(p.line, 'anchors and aliases are not supported');
  const start = p.k;
  while (p.k < p.s.length) {
    const ch = p.s[p.k];
    if (inFlow && (ch === ',' || ch === ']' || ch === '}')) break;
    if (ch === ':' && (p.k + 1 === p.s.length || /[\s,\]}]/.test(p.s[p.k + 1]))) {
      if (inFlow) break;
      fail(p.line, 'a plain scalar may not contain ": "');
    }
    p.k++;
  }
  return resolvePlain(p.s.slice(start, p.k).trim(), p.line);
}

function parseFlowSeq(p) {
  p.k++;
  const seq = [];
  for (;;) {
    skipSpaces(p);
    if (p.s[p.k] === ']') {
      p.k++;
      return seq;
    }
    seq.push(parseFlowNode(p, true));
    skipSpaces(p);
    if (p.s[p.k] === ',') p.k++;
    else if (p.s[p.k] !== ']') fail(p.line, 'expected , or ] in flow sequence');
  }
}

function parseFlowMap(p) {
  p.k++;
  const map = {};
  for (;;) {
    skipSpaces(p);
    if (p.s[p.k] === '}') {
      p.k++;
      return map;
    }
    const key = parseFlowNode(p, true);
    if (typeof key !== 'string' && typeof key !== 'number') fail(p.line, 'bad flow key');
    skipSpaces(p);
    if (p.s[p.k] !== ':') fail(p.line, 'expected : in flow mapping');
    p.k++;
    map[String(key)] = parseFlowNode(p, true);
    skipSpaces(p);
    if (p.s[p.k] === ',') p.k++;
    else if (p.s[p.k] !== '}') fail(p.line, 'expected , or } in flow mapping');
  }
}

function parseQuoted(s, line) {
  const end = quotedEnd(s, 0);
  if (end > s.length) fail(line, 'unterminated quoted scalar');
  const body = s.slice(1, end - 1);
  if (s[0] === "'") return { value: body.replace(/''/g, "'"), end };
  const escapes = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/', 0: '\0', ' ': ' ' };
  const value = body.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e) => {
    if (e[0] === 'u' || e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (!(e in escapes)) fail(line, `unsupported escape \\${e}`);
    return escapes[e];
  });
  return { value, end };
}

/** YAML 1.1 (PyYAML, cfn-lint) and 1.2 disagree on some plain scalars: refuse those. */
function resolvePlain(s, line) {
  if (s === '') return null;
  if (/^(null|Null|NULL|~)$/.test(s)) return null;
  if (/^(true|True|TRUE)$/.test(s)) return true;
  if (/^(false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(s)) return Number(s);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  if (/^(yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/.test(s) ||
      /^[0-9][0-9_:.-]*$/.test(s) || /^0[xob]/i.test(s) || /^[-+]?\.(inf|nan)$/i.test(s)) {
    fail(line, `ambiguous plain scalar ${JSON.stringify(s)}: quote it`);
  }
  if (/^[@`%|>]/.test(s)) fail(line, `plain scalar may not start with ${s[0]}`);
  return s;
}
