// What a trimmed bundle holds in place of a dependency's module that no function calls (infra/bundling/plugins.ts):
// values that fail loudly, naming what was left out and where to keep it, the moment anything uses them.

/**
 * A class the dependency constructs eagerly (Stripe builds every resource in its constructor): constructing it
 * works, any use of the instance throws.
 */
export function leftOutStripeResource(file) {
  const fail = (key) => {
    throw new Error(
      `Stripe's stripe/esm/resources/${file} is left out of this bundle, so .${String(key)} cannot be used: keep it in keptStripeResources (infra/bundling/stripe-resources.ts) to call it`,
    );
  };
  return class LeftOut {
    constructor() {
      return new Proxy(this, {
        // Symbols are asked by inspection (util.inspect, Symbol.toPrimitive), never by a call into the API.
        get: (target, key) => (typeof key === 'symbol' ? Reflect.get(target, key) : fail(key)),
        set: (target, key) => fail(key),
      });
    }
  };
}

/** A function (or class) no function calls: calling or constructing it throws. */
export function leftOutFunction(what, keepIn) {
  return function leftOut() {
    throw new Error(`${what} is left out of this bundle (${keepIn}): keep it there to call it`);
  };
}

/**
 * A whole module's export (a class or function) that is reached only by a call no function makes: calling it,
 * constructing it or reading a static member (Class.method) throws.
 */
export function leftOutExport(what, keepIn) {
  const fail = () => {
    throw new Error(`${what} is left out of this bundle: ${keepIn}`);
  };
  return new Proxy(function leftOut() {}, {
    apply: fail,
    construct: fail,
    get: (target, key) => (typeof key === 'symbol' || key === 'prototype' || key === 'name' ? Reflect.get(target, key) : fail()),
  });
}
