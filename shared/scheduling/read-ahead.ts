// Slot queries read a chain of items where each read names the next: the event type names its team, the team
// its organization and members, each member their default schedule's pointer, the pointer the schedule; then
// every host's busy days. Read one after another that is five round trips before the engine starts. This
// module turns the chain into (usually) one round: a container remembers WHICH items and queries the last query
// of the same kind read, and issues them all at once, in one BatchGetItem and parallel queries, as the next
// request begins. The request's code then runs unchanged, and every read it makes is answered by a read
// issued during this very request (consistent where the code asked for consistency), never by a value kept
// from an earlier one: a changed event type, team or schedule is seen at once, and what changed only costs
// the reads that the old plan did not predict. Nothing but the plan (keys and query inputs) outlives a request.
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };
type Key = { pk: string; sk: string };
type Item = Record<string, unknown>;

/** What a request of one kind read: its items by key, and its queries (only replayed for the same variant). */
type Plan = { keys: Map<string, Key>; queries: Map<string, QueryCommandInput>; variant: string };

/** Plans per container, by kind of request (e.g. the event type's slots); the oldest go first. */
const plans = new Map<string, Plan>();
const MAX_PLANS = 256;
/** One BatchGetItem reads at most 100 keys; a plan predicts at most that many, and this many queries. */
const MAX_KEYS = 100;
const MAX_QUERIES = 32;

const keyOf = (key: Key) => `${key.pk}\u0000${key.sk}`;
/** Query inputs compared by content, keys sorted, so that the same query is recognised however it was built. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/**
 * `tables` with a client that reads ahead what the last request with this `plan` read, and answers this
 * request's reads of the state table from the reads it has in flight. `variant` says when the queries repeat:
 * the same event type asked for another month reuses the item keys but not the busy-day queries. Writes, and
 * anything but plain key reads and queries of the state table, go straight to the real client.
 */
export function readAhead<T extends Tables>(tables: T, plan: string, variant: string): T {
  const real = tables.client;
  const stateTable = tables.stateTable;
  const previous = plans.get(plan);
  const recording: Plan = { keys: new Map(), queries: new Map(), variant };
  plans.delete(plan);
  plans.set(plan, recording);
  if (plans.size > MAX_PLANS) plans.delete(plans.keys().next().value!);

  const items = new Map<string, Promise<Item | undefined>>();
  const queries = new Map<string, Promise<QueryCommandOutput>>();

  /** Reads `keys` in BatchGetItem calls of at most 100, retrying what DynamoDB leaves unprocessed. */
  const batchRead = (keys: Key[]) => {
    const pending = new Map<string, { resolve: (item: Item | undefined) => void; reject: (error: unknown) => void }>();
    for (const key of keys) {
      const id = keyOf(key);
      if (items.has(id)) continue;
      items.set(id, new Promise((resolve, reject) => pending.set(id, { resolve, reject })));
    }
    const wanted = keys.filter((key) => pending.has(keyOf(key)));
    for (let i = 0; i < wanted.length; i += 100) {
      void (async () => {
        let request: Key[] = wanted.slice(i, i + 100);
        try {
          for (let attempt = 0; request.length; attempt++) {
            if (attempt) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** attempt)));
            const { Responses, UnprocessedKeys } = await real.send(new BatchGetCommand({ RequestItems: { [stateTable]: { Keys: request, ConsistentRead: true } } }));
            for (const item of Responses?.[stateTable] ?? []) {
              const id = keyOf(item as Key);
              pending.get(id)?.resolve(item);
              pending.delete(id);
            }
            const unprocessed = (UnprocessedKeys?.[stateTable]?.Keys ?? []) as Key[];
            const left = new Set(unprocessed.map(keyOf));
            // Whatever came back neither as an item nor unprocessed does not exist.
            for (const key of request) {
              const id = keyOf(key);
              if (!left.has(id)) {
                pending.get(id)?.resolve(undefined);
                pending.delete(id);
              }
            }
            request = unprocessed;
          }
        } catch (error) {
          for (const key of request) pending.get(keyOf(key))?.reject(error);
        }
      })();
    }
  };
  const item = (key: Key) => {
    if (recording.keys.size < MAX_KEYS) recording.keys.set(keyOf(key), { pk: key.pk, sk: key.sk });
    if (!items.has(keyOf(key))) batchRead([key]);
    return items.get(keyOf(key))!;
  };
  const query = (input: QueryCommandInput) => {
    const id = canonical(input);
    if (recording.queries.size < MAX_QUERIES) recording.queries.set(id, structuredClone(input));
    let answer = queries.get(id);
    if (!answer) queries.set(id, (answer = real.send(new QueryCommand(structuredClone(input)))));
    return answer;
  };

  if (previous) {
    batchRead([...previous.keys.values()]);
    if (previous.variant === variant) for (const [id, input] of previous.queries) queries.set(id, real.send(new QueryCommand(structuredClone(input))));
  }
  // A failed read ahead is only a read nobody asked for yet: it must not surface as an unhandled rejection.
  for (const promise of [...items.values(), ...queries.values()]) promise.catch(() => {});

  const isPlainKeyRead = (input: Record<string, unknown>) => input.TableName === stateTable && Object.keys(input).every((k) => k === 'TableName' || k === 'Key' || k === 'ConsistentRead');
  // The paginators insist on a DynamoDBDocumentClient, so the reader is one: the real client with its own send.
  const client = Object.create(real) as DynamoDBDocumentClient;
  client.send = (async (command: unknown) => {
    if (command instanceof GetCommand && isPlainKeyRead(command.input)) {
      return { Item: await item(command.input.Key as Key), $metadata: {} };
    }
    if (command instanceof BatchGetCommand) {
      const tablesAsked = Object.keys(command.input.RequestItems ?? {});
      const request = command.input.RequestItems?.[stateTable];
      if (tablesAsked.length === 1 && request && Object.keys(request).every((k) => k === 'Keys' || k === 'ConsistentRead')) {
        const keys = (request.Keys ?? []) as Key[];
        for (const key of keys) if (recording.keys.size < MAX_KEYS) recording.keys.set(keyOf(key), { pk: key.pk, sk: key.sk });
        batchRead(keys);
        const found = await Promise.all(keys.map((key) => items.get(keyOf(key))!));
        return { Responses: { [stateTable]: found.filter((found): found is Item => found !== undefined) }, UnprocessedKeys: {}, $metadata: {} };
      }
    }
    if (command instanceof QueryCommand && command.input.TableName === stateTable) return query(command.input);
    return real.send(command as never);
  }) as DynamoDBDocumentClient['send'];
  // Not a spread: the tables' names are getters that read the function's environment only when used.
  const reading = Object.create(tables) as T;
  Object.defineProperty(reading, 'client', { value: client, enumerable: true });
  return reading;
}
