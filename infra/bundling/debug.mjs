// What `debug` is in a Lambda bundle (infra/bundling/calendar-libraries.ts): its factory as tsdav
// (getLogger('tsdav:request') and the like) and https-proxy-agent (behind an HTTPS proxy, on the Google path)
// call it, with debug 4's enablement: DEBUG (or enable()) names namespaces separated by commas or spaces, `*`
// matches any run of characters, a leading `-` excludes; a namespace is enabled when no exclusion and some name
// matches it. An enabled logger writes `<ISO time> <namespace> <message>` to stderr, %o and %O through
// util.inspect (one line and several), the rest as util.format does. Lambda never sets DEBUG, so nothing is
// written there. Left out (about 9 KB minified with ms and supports-color): colours and the tty check, the
// `+12ms` suffix and debug's browser half; DEBUG_HIDE_DATE and DEBUG_DEPTH-style inspect options are kept.
import { formatWithOptions, inspect } from 'node:util';

/** debug's inspect options from DEBUG_* variables (DEBUG_DEPTH=10 → { depth: 10 }), without DEBUG itself. */
const inspectOpts = Object.keys(process.env)
  .filter((key) => /^debug_/i.test(key))
  .reduce((options, key) => {
    const prop = key.substring(6).toLowerCase().replace(/_([a-z])/g, (_, k) => k.toUpperCase());
    let value = process.env[key];
    if (/^(yes|on|true|enabled)$/i.test(value)) value = true;
    else if (/^(no|off|false|disabled)$/i.test(value)) value = false;
    else if (value === 'null') value = null;
    else value = Number(value);
    options[prop] = value;
    return options;
  }, {});
delete inspectOpts.colors;

/** debug's matcher: `*` matches any run of characters. */
function matchesTemplate(search, template) {
  let searchIndex = 0, templateIndex = 0, starIndex = -1, matchIndex = 0;
  while (searchIndex < search.length) {
    if (templateIndex < template.length && (template[templateIndex] === search[searchIndex] || template[templateIndex] === '*')) {
      if (template[templateIndex] === '*') {
        starIndex = templateIndex;
        matchIndex = searchIndex;
        templateIndex++;
      } else {
        searchIndex++;
        templateIndex++;
      }
    } else if (starIndex !== -1) {
      templateIndex = starIndex + 1;
      matchIndex++;
      searchIndex = matchIndex;
    } else return false;
  }
  while (templateIndex < template.length && template[templateIndex] === '*') templateIndex++;
  return templateIndex === template.length;
}

function humanize(ms) {
  const abs = Math.abs(ms);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]) if (abs >= size) return `${Math.round(ms / size)}${unit}`;
  return `${ms}ms`;
}

export default function createDebug(namespace) {
  let prevTime;
  let enableOverride = null;
  let namespacesCache;
  let enabledCache;
  function debug(...args) {
    if (!debug.enabled) return;
    const curr = Date.now();
    debug.diff = curr - (prevTime || curr);
    debug.prev = prevTime;
    debug.curr = curr;
    prevTime = curr;
    args[0] = createDebug.coerce(args[0]);
    if (typeof args[0] !== 'string') args.unshift('%O');
    let index = 0;
    args[0] = args[0].replace(/%([a-zA-Z%])/g, (match, format) => {
      if (match === '%%') return '%';
      index++;
      const formatter = createDebug.formatters[format];
      if (typeof formatter === 'function') {
        match = formatter.call(debug, args[index]);
        args.splice(index, 1);
        index--;
      }
      return match;
    });
    createDebug.formatArgs.call(debug, args);
    (debug.log || createDebug.log).apply(debug, args);
  }
  debug.namespace = namespace;
  debug.useColors = false;
  debug.color = 0;
  debug.extend = extend;
  debug.destroy = () => {};
  debug.inspectOpts = { ...inspectOpts };
  Object.defineProperty(debug, 'enabled', {
    enumerable: true,
    configurable: false,
    get: () => {
      if (enableOverride !== null) return enableOverride;
      if (namespacesCache !== createDebug.namespaces) {
        namespacesCache = createDebug.namespaces;
        enabledCache = createDebug.enabled(namespace);
      }
      return enabledCache;
    },
    set: (value) => {
      enableOverride = value;
    },
  });
  return debug;
}

function extend(namespace, delimiter) {
  const child = createDebug(this.namespace + (typeof delimiter === 'undefined' ? ':' : delimiter) + namespace);
  child.log = this.log;
  return child;
}

createDebug.debug = createDebug;
createDebug.default = createDebug;
createDebug.humanize = humanize;
createDebug.inspectOpts = inspectOpts;
createDebug.names = [];
createDebug.skips = [];
createDebug.formatters = {
  o(value) {
    return inspect(value, { ...this.inspectOpts, colors: false }).split('\n').map((line) => line.trim()).join(' ');
  },
  O(value) {
    return inspect(value, { ...this.inspectOpts, colors: false });
  },
};
createDebug.coerce = (value) => (value instanceof Error ? value.stack || value.message : value);
createDebug.useColors = () => false;
createDebug.selectColor = () => 0;
createDebug.colors = [];
createDebug.destroy = () => {};
createDebug.formatArgs = function formatArgs(args) {
  args[0] = (this.inspectOpts.hideDate ? '' : `${new Date().toISOString()} `) + this.namespace + ' ' + args[0];
};
createDebug.log = (...args) => process.stderr.write(formatWithOptions(inspectOpts, ...args) + '\n');
createDebug.save = (namespaces) => {
  if (namespaces) process.env.DEBUG = namespaces;
  else delete process.env.DEBUG;
};
createDebug.load = () => process.env.DEBUG;
createDebug.enable = (namespaces) => {
  createDebug.save(namespaces);
  createDebug.namespaces = namespaces;
  createDebug.names = [];
  createDebug.skips = [];
  for (const ns of (typeof namespaces === 'string' ? namespaces : '').trim().replace(/\s+/g, ',').split(',').filter(Boolean)) {
    if (ns[0] === '-') createDebug.skips.push(ns.slice(1));
    else createDebug.names.push(ns);
  }
};
createDebug.disable = () => {
  const namespaces = [...createDebug.names, ...createDebug.skips.map((ns) => '-' + ns)].join(',');
  createDebug.enable('');
  return namespaces;
};
createDebug.enabled = (name) => {
  for (const skip of createDebug.skips) if (matchesTemplate(name, skip)) return false;
  for (const ns of createDebug.names) if (matchesTemplate(name, ns)) return true;
  return false;
};
createDebug.enable(createDebug.load());
