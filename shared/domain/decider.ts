import type { Event } from '../../events/envelope.ts';

/**
 * An aggregate as a pair of pure functions, in Emmett's style: `decide` turns a command into the events that
 * record it (or throws a DomainError), `evolve` folds one event into the state. No I/O.
 */
export type Decider<Command, State, E extends Event> = {
  decide: (command: Command, state: State) => E[];
  evolve: (state: State, event: E) => State;
  initialState: State;
};

export function fold<State, E extends Event>(decider: Pick<Decider<unknown, State, E>, 'evolve' | 'initialState'>, events: readonly E[]): State {
  return events.reduce(decider.evolve, decider.initialState);
}

/**
 * Why the domain refuses a command. The HTTP edge maps each kind to its status (404, 409, 422) and title; the
 * domain never speaks HTTP.
 * - `not_found`: what the command is about does not exist (for this caller).
 * - `conflict`: it exists, but its current state does not allow the command (already cancelled, slot taken).
 * - `rule`: the command itself breaks a rule, whatever the state (a time never offered, a bad reference).
 */
export type DomainErrorKind = 'not_found' | 'conflict' | 'rule';

/** A field of the command that a rule refuses, by its dotted path in the request. */
export type RuleViolationField = { path: string; message: string };

/** A command the domain refuses. `code` is stable and machine-readable; HTTP maps `kind` to a status. */
export class DomainError extends Error {
  readonly code: string;
  readonly kind: DomainErrorKind;
  readonly fields?: RuleViolationField[];
  constructor(code: string, message: string, kind: DomainErrorKind = 'conflict', fields?: RuleViolationField[]) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.kind = kind;
    this.fields = fields;
  }
}

export const notFound = (code: string, message: string) => new DomainError(code, message, 'not_found');
export const conflict = (code: string, message: string) => new DomainError(code, message, 'conflict');
/** A rule the command breaks; `fields` name the parts of the request at fault. */
export const ruleViolated = (code: string, fields: RuleViolationField[]) =>
  new DomainError(code, fields.map((field) => `${field.path}: ${field.message}`).join('; '), 'rule', fields);

/** Makes a switch exhaustive: adding a command or event type without handling it fails to compile. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** The fields of a partial update that are set: an update event names only what changes. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
