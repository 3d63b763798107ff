import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localAwsConfig } from '../../infra/local/dynamodb-local.ts';
import { ensureTables } from '../../infra/local/tables.ts';

/** Logical id prefix of each table in the stack (CDK appends a hash). */
const tableRoles = { events: 'EventsTable', state: 'StateTable', connections: 'ConnectionsTable', audit: 'AuditTable' } as const;
export type TestTables = Record<keyof typeof tableRoles, string> & { client: DynamoDBDocumentClient; raw: DynamoDBClient };

/**
 * Fresh copies of the stack's tables in the shared DynamoDB Local, under names no other test file uses, and
 * the environment variables the handlers read pointed at them.
 */
export async function createTestTables(): Promise<TestTables> {
  const endpoint = inject('dynamoEndpoint');
  const raw = new DynamoDBClient({ ...localAwsConfig, endpoint });
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const names = await ensureTables(raw, inject('template'), (logicalId) => `${prefix}-${logicalId}`);
  const find = (role: string) => Object.entries(names).find(([logicalId]) => logicalId.startsWith(role))![1];
  const tables = {
    events: find(tableRoles.events),
    state: find(tableRoles.state),
    connections: find(tableRoles.connections),
    audit: find(tableRoles.audit),
  };
  Object.assign(process.env, {
    AWS_REGION: localAwsConfig.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    EVENTS_TABLE: tables.events,
    STATE_TABLE: tables.state,
    CONNECTIONS_TABLE: tables.connections,
    AUDIT_TABLE: tables.audit,
  });
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { ...tables, client, raw };
}
