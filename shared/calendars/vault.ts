// The credential vault: envelope encryption with a key of the calendars' own. Each connection's credentials are
// sealed with a fresh 256-bit data key (AES-256-GCM, the connection id as additional data, so a sealed blob
// copied onto another connection does not open); the data key is itself sealed by the master key: KMS
// (GenerateDataKey / Decrypt, the connection id as encryption context) in the cloud, a key file in the local
// data directory locally. The sealed item sits in the state table beside the connection, never in an event.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { requiredEnv } from '../aws/env.ts';
import type { TransactionItem } from '../eventstore/event-store.ts';
import type { ProviderCredentials } from './provider.ts';
import { calendarKeys, type CalendarTables } from './store.ts';

export type SealedCredentials = { v: 1; keyId: string; encryptedKey: string; iv: string; tag: string; ciphertext: string };

type MasterKey = {
  id: string;
  generate(context: string): Promise<{ plaintext: Buffer; encrypted: Buffer }>;
  open(encrypted: Buffer, context: string): Promise<Buffer>;
};

function seal(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

function open(key: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

/** Locally: a 32-byte key in a file of the data directory (CALENDAR_KEY_FILE), made by the local runtime. */
function fileKey(path: string): MasterKey {
  const master = readFileSync(path);
  if (master.length !== 32) throw new Error('the calendar key file must hold 32 bytes');
  return {
    id: 'local-file',
    async generate(context) {
      const plaintext = randomBytes(32);
      const sealed = seal(master, plaintext, context);
      return { plaintext, encrypted: Buffer.concat([sealed.iv, sealed.tag, sealed.ciphertext]) };
    },
    async open(encrypted, context) {
      return open(master, { iv: encrypted.subarray(0, 12), tag: encrypted.subarray(12, 28), ciphertext: encrypted.subarray(28) }, context);
    },
  };
}

let kms: KMSClient | undefined;
function kmsKey(keyId: string): MasterKey {
  kms ??= new KMSClient({});
  return {
    id: keyId,
    async generate(context) {
      const out = await kms!.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { connectionId: context } }));
      return { plaintext: Buffer.from(out.Plaintext!), encrypted: Buffer.from(out.CiphertextBlob!) };
    },
    async open(encrypted, context) {
      const out = await kms!.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: encrypted, EncryptionContext: { connectionId: context } }));
      return Buffer.from(out.Plaintext!);
    },
  };
}

function masterKey(): MasterKey {
  const file = process.env.CALENDAR_KEY_FILE;
  return file ? fileKey(file) : kmsKey(requiredEnv('CALENDAR_KEY_ID'));
}

export async function sealCredentials(connectionId: string, credentials: ProviderCredentials): Promise<SealedCredentials> {
  const master = masterKey();
  const dataKey = await master.generate(connectionId);
  try {
    const sealed = seal(dataKey.plaintext, Buffer.from(JSON.stringify(credentials)), connectionId);
    return { v: 1, keyId: master.id, encryptedKey: dataKey.encrypted.toString('base64'), iv: sealed.iv.toString('base64'), tag: sealed.tag.toString('base64'), ciphertext: sealed.ciphertext.toString('base64') };
  } finally {
    dataKey.plaintext.fill(0);
  }
}

export async function openCredentials(connectionId: string, sealed: SealedCredentials): Promise<ProviderCredentials> {
  const dataKey = await masterKey().open(Buffer.from(sealed.encryptedKey, 'base64'), connectionId);
  try {
    const plaintext = open(dataKey, { iv: Buffer.from(sealed.iv, 'base64'), tag: Buffer.from(sealed.tag, 'base64'), ciphertext: Buffer.from(sealed.ciphertext, 'base64') }, connectionId);
    return JSON.parse(plaintext.toString('utf8')) as ProviderCredentials;
  } finally {
    dataKey.fill(0);
  }
}

export function credentialsWrite(tableName: string, connectionId: string, sealed: SealedCredentials): TransactionItem {
  return { item: { Put: { TableName: tableName, Item: { ...calendarKeys.credentials(connectionId), sealed } } } };
}

export function credentialsDelete(tableName: string, connectionId: string): TransactionItem {
  return { item: { Delete: { TableName: tableName, Key: calendarKeys.credentials(connectionId) } } };
}

export async function readCredentials(tables: CalendarTables, connectionId: string): Promise<ProviderCredentials | undefined> {
  const { Item } = await tables.client.send(new GetCommand({ TableName: tables.stateTable, Key: calendarKeys.credentials(connectionId), ConsistentRead: true }));
  return Item?.sealed ? openCredentials(connectionId, Item.sealed as SealedCredentials) : undefined;
}
