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

/** A command the domain refuses. `code` is stable and machine-readable; HTTP maps codes to statuses. */
export class DomainError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
  }
}

/** Makes a switch exhaustive: adding a command or event type without handling it fails to compile. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** The fields of a partial update that are set: an update event names only what changes. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
