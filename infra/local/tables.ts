import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CfnTemplate } from '../synth.ts';

export type TableDefinition = { logicalId: string; input: Omit<CreateTableCommandInput, 'TableName'>; ttlAttribute?: string };

/** The DynamoDB tables of a template, as CreateTable inputs. */
export function tableDefinitions(template: CfnTemplate): TableDefinition[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, { Properties: p = {} }]) => ({
      logicalId,
      ttlAttribute: p.TimeToLiveSpecification?.Enabled ? p.TimeToLiveSpecification.AttributeName : undefined,
      input: {
        KeySchema: p.KeySchema,
        AttributeDefinitions: p.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((index: Record<string, unknown>) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        })),
        StreamSpecification: p.StreamSpecification
          ? { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType }
          : undefined,
      },
    }));
}

/** Creates every table of the template that does not exist yet; `nameOf` gives each its local name. */
export async function ensureTables(client: DynamoDBClient, template: CfnTemplate, nameOf: (logicalId: string) => string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const table of tableDefinitions(template)) {
    const TableName = nameOf(table.logicalId);
    names[table.logicalId] = TableName;
    try {
      await client.send(new DescribeTableCommand({ TableName }));
      continue;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
    await client.send(new CreateTableCommand({ ...table.input, TableName }));
    if (table.ttlAttribute) {
      await client.send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute } }));
    }
  }
  return names;
}
