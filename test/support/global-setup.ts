// One DynamoDB Local and one synthesized template for the whole run. Each test file makes its own tables
// (test/support/tables.ts) under unique names, so files run side by side against the one emulator.
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local.ts';
import { synthesizeTemplate, type CfnTemplate } from '../../infra/synth.ts';

let dynamo: DynamoDbLocal | undefined;

export async function setup(project: TestProject): Promise<void> {
  dynamo = await startDynamoDbLocal({ heapMb: 768 });
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('template', synthesizeTemplate());
}

export async function teardown(): Promise<void> {
  await dynamo?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    template: CfnTemplate;
  }
}
