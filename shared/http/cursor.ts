import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Tables = { client: DynamoDBDocumentClient; stateTable: string };

import { MAX_CURSOR_LENGTH } from './bounds.ts';

// Here too, for the routes that read cursors; kept in a module of its own so the contract can say it without this one's SDK.
export { MAX_CURSOR_LENGTH };

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Where the cursor key lives: one item in the state table, written once by a conditional put from whichever
 * container first hands out a cursor, then cached per container. This keeps the secret out of the template
 * and its environment without another service, and every container of every function agrees on it. Whoever
 * can read the state table can read the key, but they can read every booking directly too: the key only has
 * to keep callers of the API from forging or altering cursors. Rotating it invalidates cursors in flight
 * (clients start again from the first page), which is harmless; nothing rotates it yet.
 */
const KEY_ITEM = { pk: 'SECRET#cursor', sk: 'SECRET' };
let cachedKey: Buffer | undefined;

async function cursorKey(tables: Tables, create: boolean): Promise<Buffer | undefined> {
  if (cachedKey) return cachedKey;
  const read = async () => {
    const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: KEY_ITEM, ConsistentRead: true }));
    return Item?.key as Uint8Array | undefined;
  };
  let stored = await read();
  if (!stored && create) {
    try {
      await tables.client.send(
        new PutCommand({ TableName: tables.stateTable, Item: { ...KEY_ITEM, key: randomBytes(32) }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (error) {
      // Another container created it first; theirs is the key.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    stored = await read();
  }
  if (stored) cachedKey = Buffer.from(stored);
  return cachedKey;
}

/**
 * Seals `position` (a DynamoDB page key) into an opaque cursor with AES-256-GCM. `binding` names the caller
 * and the query the page belongs to; it is authenticated with the cursor, so a cursor altered, forged, or
 * replayed by another user or with another query does not open.
 */
export async function sealCursor(tables: Tables, binding: readonly unknown[], position: unknown): Promise<string> {
  const key = (await cursorKey(tables, true))!;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(binding)));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(position), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/**
 * The position inside a cursor sealed for this `binding`, or undefined for anything else. Opening never
 * writes: before any cursor was handed out there is no key, and so no cursor that could open.
 */
export async function openCursor(tables: Tables, binding: readonly unknown[], cursor: string): Promise<unknown> {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
  const key = await cursorKey(tables, false);
  if (!key) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(JSON.stringify(binding)));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch {
    return undefined;
  }
}
