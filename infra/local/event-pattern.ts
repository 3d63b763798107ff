// EventBridge event-pattern matching for the local runtime, following the documented content-filtering rules
// (and aws/event-ruler, the engine behind them, where the docs are silent):
// - a pattern object matches nested event objects field by field (AND); `$or: [p1, p2, ...]` is OR at that level;
// - a pattern leaf is an array of alternatives (OR), each a literal or a one-key operator object;
// - event arrays are flattened: a leaf matches if any element matches, and a nested pattern matches if one
//   array element matches all of it (the "array consistency" ruler applies to JSON events);
// - only leaves are values: an object where the pattern expects a value counts as absent, so `exists: false`
//   matches it, while every other operator (anything-but included) needs a value to be present.
// Patterns are compiled once (cached per pattern object) so the runtime can match many events cheaply.

export type EventMatcher = (event: unknown) => boolean;

/** A pattern EventBridge would reject, or one that uses an operator this local matcher does not implement. */
export class EventPatternError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`event pattern ${path ? `at "${path}"` : '(top level)'}: ${problem}`);
    this.name = 'EventPatternError';
    this.path = path;
  }
}

type Leaf = string | number | boolean | null;
/** One alternative of a pattern leaf, tested against all leaf values found at that path (empty = absent). */
type LeafTest = (values: Leaf[]) => boolean;
type JsonObject = Record<string, unknown>;

const compiled = new WeakMap<object, EventMatcher>();

/** Compiles a pattern (object, or the JSON string form CloudFormation also accepts); throws EventPatternError. */
export function compileEventPattern(pattern: unknown): EventMatcher {
  if (typeof pattern === 'string') {
    try {
      pattern = JSON.parse(pattern);
    } catch {
      throw new EventPatternError('', 'not valid JSON');
    }
  }
  if (!isRecord(pattern)) throw new EventPatternError('', `must be a JSON object, got ${describe(pattern)}`);
  let matcher = compiled.get(pattern);
  if (!matcher) {
    const matchObject = compileObject(pattern, '');
    matcher = (event) => matchObject(event);
    compiled.set(pattern, matcher);
  }
  return matcher;
}

export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}

/** Throws an EventPatternError naming the path and operator if the pattern is invalid or not supported locally. */
export function assertSupportedPattern(pattern: unknown): void {
  compileEventPattern(pattern);
}

function compileObject(pattern: JsonObject, path: string): EventMatcher {
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new EventPatternError(path, 'empty pattern objects are not allowed');
  const checks = keys.map((key): EventMatcher => {
    const value = pattern[key];
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isRecord)) {
        throw new EventPatternError(at, '$or needs an array of at least two pattern objects');
      }
      const alternatives = value.map((alternative) => compileObject(alternative, path));
      return (event) => alternatives.some((matches) => matches(event));
    }
    if (Array.isArray(value)) {
      const field = compileLeaf(value, at);
      return (event) => field(leafValues(child(event, key)));
    }
    if (isRecord(value)) {
      const nested = compileObject(value, at);
      return (event) => matchNested(nested, child(event, key));
    }
    throw new EventPatternError(at, `match values must be given in an array, got ${describe(value)}`);
  });
  return (event) => checks.every((check) => check(event));
}

/** A nested pattern against an event array matches if one element matches the whole nested pattern. */
function matchNested(matches: EventMatcher, value: unknown): boolean {
  if (!Array.isArray(value)) return matches(value);
  const elements = value.flat(Infinity);
  return elements.length === 0 ? matches(undefined) : elements.some((element) => matches(element));
}

function child(event: unknown, key: string): unknown {
  return isRecord(event) ? event[key] : undefined;
}

/** The leaf values at a path: arrays flattened, objects dropped (they are not values), absent = []. */
function leafValues(value: unknown): Leaf[] {
  if (value === undefined || isRecord(value)) return [];
  if (Array.isArray(value)) return value.flatMap(leafValues);
  return [value as Leaf];
}

function compileLeaf(alternatives: unknown[], path: string): LeafTest {
  if (alternatives.length === 0) throw new EventPatternError(path, 'empty arrays are not allowed');
  const tests = alternatives.map((alternative) => compileAlternative(alternative, path));
  return (values) => tests.some((test) => test(values));
}

function anyValue(predicate: (value: Leaf) => boolean): LeafTest {
  return (values) => values.some(predicate);
}

function compileAlternative(alternative: unknown, path: string): LeafTest {
  if (alternative === null || ['string', 'number', 'boolean'].includes(typeof alternative)) {
    return anyValue((value) => value === alternative);
  }
  if (!isRecord(alternative)) throw new EventPatternError(path, `unsupported match value ${describe(alternative)}`);
  const keys = Object.keys(alternative);
  if (keys.length !== 1) {
    throw new EventPatternError(path, `an operator object takes exactly one operator, got ${describe(alternative)}`);
  }
  const operator = keys[0]!;
  const operand = alternative[operator];
  const at = `${path}.${operator}`;
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') throw new EventPatternError(at, 'exists takes true or false');
      return (values) => (values.length > 0) === operand;
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard': {
      const test = compileStringOperator(operator, operand, at);
      return anyValue((value) => typeof value === 'string' && test(value));
    }
    case 'numeric': {
      const inRange = compileNumeric(operand, at);
      return anyValue((value) => typeof value === 'number' && inRange(value));
    }
    case 'anything-but':
      return anyValue(compileAnythingBut(operand, at));
    case 'cidr':
      throw new EventPatternError(at, 'the cidr operator is not supported by the local runtime');
    default:
      throw new EventPatternError(at, `unknown operator "${operator}"`);
  }
}

type StringOperator = 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard';

function compileStringOperator(operator: StringOperator, operand: unknown, path: string): (value: string) => boolean {
  // prefix and suffix also come in a case-insensitive form: {"prefix": {"equals-ignore-case": "abc"}}.
  if ((operator === 'prefix' || operator === 'suffix') && isRecord(operand)) {
    const ignoreCase = operand['equals-ignore-case'];
    if (Object.keys(operand).length !== 1 || typeof ignoreCase !== 'string') {
      throw new EventPatternError(path, `${operator} takes a string or {"equals-ignore-case": string}`);
    }
    const lower = ignoreCase.toLowerCase();
    return operator === 'prefix'
      ? (value) => value.toLowerCase().startsWith(lower)
      : (value) => value.toLowerCase().endsWith(lower);
  }
  if (typeof operand !== 'string') throw new EventPatternError(path, `${operator} takes a string, got ${describe(operand)}`);
  switch (operator) {
    case 'prefix':
      return (value) => value.startsWith(operand);
    case 'suffix':
      return (value) => value.endsWith(operand);
    case 'equals-ignore-case': {
      const lower = operand.toLowerCase();
      return (value) => value.toLowerCase() === lower;
    }
    case 'wildcard': {
      const regex = wildcardRegex(operand, path);
      return (value) => regex.test(value);
    }
  }
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash, as in EventBridge. */
function wildcardRegex(wildcard: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < wildcard.length; i++) {
    const char = wildcard[i]!;
    if (char === '*') {
      if (wildcard[i + 1] === '*') throw new EventPatternError(path, 'consecutive wildcard characters are not allowed');
      source += '.*';
    } else if (char === '\\') {
      const escaped = wildcard[++i];
      if (escaped !== '*' && escaped !== '\\') {
        throw new EventPatternError(path, 'a backslash may only escape "*" or "\\"');
      }
      source += `\\${escaped}`;
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'su');
}

const lowerBounds: Record<string, (value: number, bound: number) => boolean> = {
  '>': (value, bound) => value > bound,
  '>=': (value, bound) => value >= bound,
};
const upperBounds: Record<string, (value: number, bound: number) => boolean> = {
  '<': (value, bound) => value < bound,
  '<=': (value, bound) => value <= bound,
};

function compileNumeric(operand: unknown, path: string): (value: number) => boolean {
  const invalid = (why: string) =>
    new EventPatternError(path, `${why}; numeric takes ["=", n], [op, n] or [lower-op, n, upper-op, m]`);
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) throw invalid('wrong shape');
  const conditions: Array<{ operator: string; bound: number }> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const [operator, bound] = [operand[i], operand[i + 1]];
    if (typeof operator !== 'string' || typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw invalid(`bad condition ${describe(operator)}, ${describe(bound)}`);
    }
    conditions.push({ operator, bound });
  }
  if (conditions.length === 1) {
    const [{ operator, bound }] = conditions as [{ operator: string; bound: number }];
    if (operator === '=') return (value) => value === bound;
    const compare = lowerBounds[operator] ?? upperBounds[operator];
    if (!compare) throw invalid(`unknown operator "${operator}"`);
    return (value) => compare(value, bound);
  }
  const lower = conditions.find((condition) => condition.operator in lowerBounds);
  const upper = conditions.find((condition) => condition.operator in upperBounds);
  if (!lower || !upper) throw invalid('a range needs one lower (> or >=) and one upper (< or <=) bound');
  if (lower.bound >= upper.bound) throw invalid('the lower bound must be below the upper bound');
  const [above, below] = [lowerBounds[lower.operator]!, upperBounds[upper.operator]!];
  return (value) => above(value, lower.bound) && below(value, upper.bound);
}

/** Returns a predicate over a single present value: true when the value is NOT excluded. */
function compileAnythingBut(operand: unknown, path: string): (value: Leaf) => boolean {
  if (typeof operand === 'string' || typeof operand === 'number') return (value) => value !== operand;
  if (Array.isArray(operand)) {
    const allStrings = operand.every((item) => typeof item === 'string');
    const allNumbers = operand.every((item) => typeof item === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      throw new EventPatternError(path, 'anything-but takes a non-empty list of only strings or only numbers');
    }
    const excluded = new Set<unknown>(operand);
    return (value) => !excluded.has(value);
  }
  if (isRecord(operand) && Object.keys(operand).length === 1) {
    const operator = Object.keys(operand)[0]!;
    const at = `${path}.${operator}`;
    if (operator === 'cidr') throw new EventPatternError(at, 'the cidr operator is not supported by the local runtime');
    if (isStringOperator(operator)) {
      const inner = operand[operator];
      // equals-ignore-case and wildcard may also name a list of values to exclude.
      const listable = operator === 'equals-ignore-case' || operator === 'wildcard';
      const items = listable && Array.isArray(inner) ? inner : [inner];
      if (items.length === 0) throw new EventPatternError(at, 'the list of values to exclude is empty');
      const tests = items.map((item) => compileStringOperator(operator, item, at));
      return (value) => typeof value === 'string' && !tests.some((test) => test(value));
    }
  }
  throw new EventPatternError(
    path,
    `anything-but takes a string, number, list, or one of prefix / suffix / equals-ignore-case / wildcard; got ${describe(operand)}`,
  );
}

function isStringOperator(operator: string): operator is StringOperator {
  return operator === 'prefix' || operator === 'suffix' || operator === 'equals-ignore-case' || operator === 'wildcard';
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
