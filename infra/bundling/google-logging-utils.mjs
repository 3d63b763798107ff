// What `google-logging-utils` is in a Lambda bundle (infra/bundling/calendar-libraries.ts): the one call
// google-auth-library makes, `log('auth')` once at load and `.debug(...)` on it in its request interceptors
// (inside try/catch: logging never fails a request), with google-logging-utils 2.2's behaviour. With
// GOOGLE_SDK_NODE_LOGGING unset (Lambda's case) every logger is the placeholder that writes nothing; set, its
// comma-separated namespaces (`*` a wildcard; `all` or `true` everything) write `<pid> [<namespace>|<severity>]
// <message>` to stderr as its Node backend does on a stream that is not a terminal (so without colours).
// Left out, throwing and naming this file: the debug-package and structured (JSON) backends and installing a
// backend of one's own (setBackend(null), which silences logging, is kept).
import { EventEmitter } from 'node:events';
import { format, formatWithOptions } from 'node:util';

const leftOut = (name) => () => {
  throw new Error(`google-logging-utils' ${name} is left out of this bundle (infra/bundling/google-logging-utils.mjs): only log() with its Node backend is bundled`);
};

export const LogSeverity = { DEFAULT: 'DEFAULT', DEBUG: 'DEBUG', INFO: 'INFO', WARNING: 'WARNING', ERROR: 'ERROR' };
export const env = { nodeEnables: 'GOOGLE_SDK_NODE_LOGGING' };

export class AdhocDebugLogger extends EventEmitter {
  constructor(namespace, upstream) {
    super();
    this.namespace = namespace;
    this.upstream = upstream;
    this.func = Object.assign(this.invoke.bind(this), { instance: this, on: (event, listener) => this.on(event, listener) });
    this.func.debug = (...args) => this.invokeSeverity(LogSeverity.DEBUG, ...args);
    this.func.info = (...args) => this.invokeSeverity(LogSeverity.INFO, ...args);
    this.func.warn = (...args) => this.invokeSeverity(LogSeverity.WARNING, ...args);
    this.func.error = (...args) => this.invokeSeverity(LogSeverity.ERROR, ...args);
    this.func.sublog = (namespace) => log(namespace, this.func);
  }
  invoke(fields, ...args) {
    if (this.upstream) {
      try {
        this.upstream(fields, ...args);
      } catch {
        // As google-logging-utils: a failing backend never fails the caller.
      }
    }
    try {
      this.emit('log', fields, args);
    } catch {
      // Nor does a failing listener.
    }
  }
  invokeSeverity(severity, ...args) {
    this.invoke({ severity }, ...args);
  }
}

export const placeholder = new AdhocDebugLogger('', () => {}).func;

/** google-logging-utils' NodeBackend, colours off: its filters, its line. */
function nodeBackend() {
  let flag = process.env[env.nodeEnables] ?? '*';
  if (flag === 'all' || flag === 'true') flag = '*';
  let enabled;
  const loggers = new Map();
  const makeLogger = (namespace) => {
    if (!enabled.test(namespace)) return () => {};
    return (fields, ...args) => {
      const msg = formatWithOptions({ colors: false }, ...args);
      const rest = { ...fields };
      delete rest.severity;
      const fieldsJson = Object.getOwnPropertyNames(rest).length ? JSON.stringify(rest) : '';
      process.stderr.write(format('%s [%s|%s] %s%s', process.pid, namespace, fields.severity ?? LogSeverity.DEFAULT, msg, fieldsJson ? ` ${fieldsJson}` : '') + '\n');
    };
  };
  return {
    log(namespace, fields, ...args) {
      try {
        enabled ??= new RegExp(`^${flag.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*').replace(/,/g, '$|^')}$`, 'i');
        let logger = loggers.get(namespace);
        if (!logger) loggers.set(namespace, (logger = makeLogger(namespace)));
        logger(fields, ...args);
      } catch (e) {
        console.error(e);
      }
    },
  };
}

const loggerCache = new Map();
let cachedBackend;

export function setBackend(backend) {
  if (backend !== null && backend !== undefined) leftOut('setBackend with a backend')();
  cachedBackend = backend;
  loggerCache.clear();
}

export function log(namespace, parent) {
  if (!cachedBackend && !process.env[env.nodeEnables]) return placeholder;
  if (!namespace) return placeholder;
  if (parent) namespace = `${parent.instance.namespace}:${namespace}`;
  const existing = loggerCache.get(namespace);
  if (existing) return existing.func;
  if (cachedBackend === null) return placeholder;
  cachedBackend ??= nodeBackend();
  let previousBackend;
  const logger = new AdhocDebugLogger(namespace, (fields, ...args) => {
    if (previousBackend !== cachedBackend) {
      if (cachedBackend === null) return;
      cachedBackend ??= nodeBackend();
      previousBackend = cachedBackend;
    }
    cachedBackend?.log(namespace, fields, ...args);
  });
  loggerCache.set(namespace, logger);
  return logger.func;
}

export const getNodeBackend = leftOut('getNodeBackend');
export const getDebugBackend = leftOut('getDebugBackend');
export const getStructuredBackend = leftOut('getStructuredBackend');
export const DebugLogBackendBase = leftOut('DebugLogBackendBase');
