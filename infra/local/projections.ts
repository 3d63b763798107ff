// `npm run projections -- rebuild`: rebuilds every read model of the running local stack from its event table
// (see shared/projections/rebuild.ts for what is rebuilt and what, being a guard, is left alone), printing
// progress as it goes. In the cloud, the same rebuild with the operator's AWS credentials:
//   npm run projections -- rebuild --events-table <EventsTable> --state-table <StateTable> [--audit-table <AuditTable>]
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callControl } from './control.ts';
import { defaultDataDir, readStackFile } from './stack-file.ts';
import { rebuildProjections, type RebuildReport } from '../../shared/projections/rebuild.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'events-table': { type: 'string' }, 'state-table': { type: 'string' }, 'audit-table': { type: 'string' } },
});
if (positionals[0] !== 'rebuild') {
  console.error('usage: npm run projections -- rebuild [--events-table <name> --state-table <name> [--audit-table <name>]]');
  process.exit(2);
}
const print = (line: string) => console.log(line);
let report: RebuildReport;
try {
  if (values['events-table'] && values['state-table']) {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    report = await rebuildProjections({ client, eventsTable: values['events-table'], stateTable: values['state-table'], auditTable: values['audit-table'] }, print);
  } else {
    const stack = readStackFile(defaultDataDir);
    if (!stack) throw new Error('no local stack has run here yet: start it with npm start');
    report = await callControl(stack.controlUrl, 'projections/rebuild', {}, print);
  }
} catch (error) {
  console.error(`rebuild failed: ${(error as Error).message}`);
  process.exit(1);
}
console.log(`rebuilt from ${report.events} events of ${report.streams} streams: ${report.written} written, ${report.removed} removed, ${report.unchanged} unchanged, ${report.audited} audit entries added`);
