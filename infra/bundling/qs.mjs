// What `qs` is in a Lambda bundle (infra/bundling/calendar-libraries.ts): the one call
// googleapis-common makes, `qs.stringify(params, { arrayFormat: 'repeat' })` for a request's query, with qs's
// encoding (RFC 3986: only A-Z a-z 0-9 - . _ ~ left as they are), undefined skipped, null as an empty value,
// Dates as ISO strings, nested objects in brackets. qs's parser and its side-channel/get-intrinsic/object-inspect
// stack (about 50 KB minified) are left out; parse throws if anything ever calls it.
const encode = (value) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function pairs(prefix, value, out) {
  if (value === undefined) return;
  if (value === null) out.push(`${encode(prefix)}=`);
  else if (value instanceof Date) out.push(`${encode(prefix)}=${encode(value.toISOString())}`);
  else if (Array.isArray(value)) for (const item of value) pairs(prefix, item, out);
  else if (typeof value === 'object') for (const [key, inner] of Object.entries(value)) pairs(`${prefix}[${key}]`, inner, out);
  else out.push(`${encode(prefix)}=${encode(String(value))}`);
}

export function stringify(object, options = {}) {
  if (options.arrayFormat && options.arrayFormat !== 'repeat') throw new Error(`qs.stringify: arrayFormat "${options.arrayFormat}" is left out of this bundle (infra/bundling/qs.mjs)`);
  const out = [];
  for (const [key, value] of Object.entries(object ?? {})) pairs(key, value, out);
  return out.join('&');
}

export function parse() {
  throw new Error('qs.parse is left out of this bundle (infra/bundling/qs.mjs): only stringify with arrayFormat "repeat" is bundled');
}

export default { stringify, parse };
