import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stack } from 'aws-cdk-lib';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';

/**
 * What a function may do to a table, by what its code calls. The SDK's transactions need no action of their own:
 * IAM checks each item of a TransactWriteItems against its own action (PutItem, UpdateItem, DeleteItem,
 * ConditionCheckItem), so these lists are exact.
 */
export const accessModes = {
  /** The event table as every writer uses it: conditional puts (inside transactions) and queries of a stream. Never update, delete or scan. */
  append: ['dynamodb:Query', 'dynamodb:PutItem'],
  /** Reading by query only: an aggregate's stream of events, its audit entries. */
  queryOnly: ['dynamodb:Query'],
  /** Reading read models: by key, in batches, and by query (the table and its indexes). */
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  /** Keeping read models, claims and idempotency records in the commands' transactions. */
  readWrite: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem'],
  /** One conditional put per item, never read back (the audit log's entries, a new connection). */
  putOnly: ['dynamodb:PutItem'],
  deleteOnly: ['dynamodb:DeleteItem'],
  /** Finding items by an index and moving them along it (the calendar sync dispatcher claims due entries). */
  queryAndUpdate: ['dynamodb:Query', 'dynamodb:UpdateItem'],
  /** Finding items by an index and deleting the stale ones (the push subscriber's connections). */
  queryAndDelete: ['dynamodb:Query', 'dynamodb:DeleteItem'],
  /** Reading one item by key and deleting a stale one (the WebSocket $default route's connection record). */
  getAndDelete: ['dynamodb:GetItem', 'dynamodb:DeleteItem'],
  /** Reading read models and adding new items by conditional put, never updating or deleting (the listener feeds). */
  readAndPut: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
} as const;

export type AccessMode = keyof typeof accessModes;

/**
 * Gives a function one table: the environment variable its code reads the name from, and exactly the actions
 * of `accessMode` on that table (and, where the mode queries, its indexes). Set together, so a function is
 * never granted a table it is not told about, or told about one it may not use.
 */
export function bindTable(fn: LambdaFunction, binding: { table: ITable; variable: string; accessMode: AccessMode }): void {
  const actions = [...accessModes[binding.accessMode]];
  fn.addEnvironment(binding.variable, binding.table.tableName);
  const resources = [binding.table.tableArn];
  // A query may use the table's secondary indexes, where it has any (the event and audit tables have none).
  const cfn = binding.table.node.defaultChild as CfnTable | undefined;
  const indexes = cfn ? (Stack.of(binding.table).resolve(cfn.globalSecondaryIndexes) as unknown[] | undefined) : undefined;
  if (actions.includes('dynamodb:Query' as never) && indexes?.length) resources.push(`${binding.table.tableArn}/index/*`);
  fn.addToRolePolicy(new PolicyStatement({ actions, resources }));
}
