// The real xml-js (tsdav's dependency, still installed) beside the lean one the Lambda bundles carry
// (infra/bundling/xml-js.mjs), for the differential tests: the same input through both, the outcomes compared
// whole. tsdav imports xml-js's CommonJS exports object and looks its functions up at each call, so a test can
// record what tsdav passes (its own option callbacks included) and, for one run, hand tsdav the lean functions.
import { createRequire } from 'node:module';

type XmlJs = { xml2js: (text: string, options: object) => unknown; js2xml: (object: unknown, options: object) => string };
export const realXmlJs = createRequire(import.meta.url)('xml-js') as XmlJs;
// By URL: the module has no types of its own (it is plain JavaScript, as the bundles take it).
export const leanXmlJs = (await import(new URL('../../infra/bundling/xml-js.mjs', import.meta.url).href)) as XmlJs;
const original = { xml2js: realXmlJs.xml2js, js2xml: realXmlJs.js2xml };

export type XmlCall = { kind: 'xml2js'; text: string; options: object } | { kind: 'js2xml'; object: unknown; options: object };

/** Records every call tsdav makes into xml-js (still answered by the real one) until the returned stop(). */
export function recordXmlJs(calls: XmlCall[]): () => void {
  realXmlJs.xml2js = (text, options) => {
    calls.push({ kind: 'xml2js', text, options });
    return original.xml2js(text, options);
  };
  realXmlJs.js2xml = (object, options) => {
    calls.push({ kind: 'js2xml', object: structuredClone(object), options });
    return original.js2xml(object, options);
  };
  return restoreXmlJs;
}

/** tsdav runs on the lean xml-js until restoreXmlJs(). */
export function useLeanXmlJs(): void {
  realXmlJs.xml2js = leanXmlJs.xml2js;
  realXmlJs.js2xml = leanXmlJs.js2xml;
}

export function restoreXmlJs(): void {
  realXmlJs.xml2js = original.xml2js;
  realXmlJs.js2xml = original.js2xml;
}

/**
 * A value as text, whole: own string keys in their order (tsdav's textFn reads the last key), undefined kept,
 * arrays and prototypes told apart, a cycle (the `_parent` links an unclosed element keeps) as the path it
 * points back to, functions by name.
 */
export function canon(root: unknown): string {
  const seen = new Map<object, string>();
  const walk = (value: unknown, path: string): string => {
    if (typeof value === 'function') return `fn:${value.name}`;
    if (typeof value === 'string') return JSON.stringify(value);
    if (value === null || typeof value !== 'object') return `${typeof value}:${String(value)}`;
    const known = seen.get(value);
    if (known !== undefined) return `ref(${known})`;
    seen.set(value, path);
    const proto = Object.getPrototypeOf(value);
    const kind = proto === Object.prototype ? '' : proto === Array.prototype ? 'array' : proto === null ? 'null-proto' : `proto(${walk(proto, `${path}.<proto>`)})`;
    const keys = Object.getOwnPropertyNames(value);
    return `${kind}{${keys.map((key) => `${JSON.stringify(key)}:${walk((value as Record<string, unknown>)[key], `${path}.${key}`)}`).join(',')}}`;
  };
  return walk(root, '$');
}

/** What a call made: its result whole, or that it threw and what (a TypeError out of a callback is not a parse error). */
export type Outcome = { threw: false; value: string } | { threw: true; kind: string; message?: string };
export function outcome(run: () => unknown): Outcome {
  try {
    return { threw: false, value: canon(run()) };
  } catch (error) {
    // The message is for the reader of a failure, not compared: sax reports the last of its errors, the lean
    // parser the first.
    const thrown: Outcome = { threw: true, kind: (error as Error)?.constructor?.name ?? typeof error };
    Object.defineProperty(thrown, 'message', { value: String((error as Error)?.message ?? error).split('\n')[0], enumerable: false });
    return thrown;
  }
}

/** What both parsers make of `text` with `options`: equal unless the lean one differs. */
export function bothXml2js(text: string, options: object): { real: Outcome; lean: Outcome } {
  return { real: outcome(() => original.xml2js(text, options)), lean: outcome(() => leanXmlJs.xml2js(text, options)) };
}
export function bothJs2xml(object: unknown, options: object): { real: Outcome; lean: Outcome } {
  return { real: outcome(() => original.js2xml(object, options)), lean: outcome(() => leanXmlJs.js2xml(object, options)) };
}

/** A small seeded generator (mulberry32): the same cases on every run. */
export function seeded(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
