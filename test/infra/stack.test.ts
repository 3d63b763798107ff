import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';

// The template global setup synthesized once for the whole run; no second synth here.
const template = Template.fromJSON(inject('template'));
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: any; Metadata?: any }>;
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
function logicalId(prefix: string, type: string): string {
  const matches = ofType(type).filter(([id]) => id.startsWith(prefix));
  expect(matches, `one ${type} whose logical id starts with ${prefix}`).toHaveLength(1);
  return matches[0]![0];
}
const refId = (value: any): string | undefined => value?.Ref ?? value?.['Fn::GetAtt']?.[0];

type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Condition?: unknown };
const actionsOf = (s: Statement) => [s.Action].flat();

const functions = ofType('AWS::Lambda::Function');
const entryOf = (fnId: string) => resources[fnId]!.Metadata?.['BookingEngine:Entry'] as string;
function functionByEntry(entry: string): string {
  const found = functions.filter(([id]) => entryOf(id) === `functions/${entry}.ts`);
  expect(found, `one function runs functions/${entry}.ts`).toHaveLength(1);
  return found[0]![0];
}

/**
 * Every identity policy of the template, with the roles it applies to: the roles' inline policies (where the
 * stack puts them, infra/constructs/inline-role-policies.ts) and any AWS::IAM::Policy resource.
 */
const identityPolicies = (): Array<{ id: string; roles: string[]; statements: Statement[] }> => [
  ...ofType('AWS::IAM::Role').flatMap(([id, r]) => (r.Properties.Policies ?? []).map((p: any) => ({ id: `${id}/${p.PolicyName}`, roles: [id], statements: p.PolicyDocument.Statement }))),
  ...ofType('AWS::IAM::Policy').map(([id, p]) => ({ id, roles: p.Properties.Roles.map(refId), statements: p.Properties.PolicyDocument.Statement })),
];

/** Every statement of every identity policy of the function's role. */
function statementsOf(fnId: string): Statement[] {
  const roleId = refId(resources[fnId]!.Properties.Role);
  expect(roleId).toBeDefined();
  return identityPolicies()
    .filter((p) => p.roles.includes(roleId!))
    .flatMap((p) => p.statements);
}
const allowedActions = (fnId: string) => new Set(statementsOf(fnId).filter((s) => s.Effect === 'Allow').flatMap(actionsOf));

describe('tables', () => {
  it('there are exactly four tables', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 4);
  });

  it.each([
    ['EventsTable', [['aggregateId', 'HASH', 'S'], ['version', 'RANGE', 'N']]],
    ['StateTable', [['pk', 'HASH', 'S'], ['sk', 'RANGE', 'S']]],
    ['ConnectionsTable', [['connectionId', 'HASH', 'S']]],
    ['AuditTable', [['aggregateId', 'HASH', 'S'], ['entry', 'RANGE', 'S']]],
  ] as const)('%s is keyed %j', (prefix, keys) => {
    const table = resources[logicalId(prefix, 'AWS::DynamoDB::Table')]!.Properties;
    expect(table.KeySchema).toEqual(keys.map(([AttributeName, KeyType]) => ({ AttributeName, KeyType })));
    for (const [name, , type] of keys) expect(table.AttributeDefinitions).toContainEqual({ AttributeName: name, AttributeType: type });
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('only the events table has a stream, and it carries the new image', () => {
    const streams = ofType('AWS::DynamoDB::Table').filter(([, t]) => t.Properties.StreamSpecification);
    expect(streams.map(([id]) => id)).toEqual([logicalId('EventsTable', 'AWS::DynamoDB::Table')]);
    expect(streams[0]![1].Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('state and connections expire items by TTL; events and audit never do', () => {
    for (const prefix of ['StateTable', 'ConnectionsTable']) {
      expect(resources[logicalId(prefix, 'AWS::DynamoDB::Table')]!.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    }
    for (const prefix of ['EventsTable', 'AuditTable']) {
      expect(resources[logicalId(prefix, 'AWS::DynamoDB::Table')]!.Properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('the events, state and audit tables keep point-in-time recovery', () => {
    for (const prefix of ['EventsTable', 'StateTable', 'AuditTable']) {
      expect(resources[logicalId(prefix, 'AWS::DynamoDB::Table')]!.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('GSIs: bookings by owner on the state table, connections by user', () => {
    const indexes = (prefix: string) => resources[logicalId(prefix, 'AWS::DynamoDB::Table')]!.Properties.GlobalSecondaryIndexes;
    expect(indexes('StateTable')).toEqual([
      { IndexName: 'byOwner', KeySchema: [{ AttributeName: 'ownerKey', KeyType: 'HASH' }, { AttributeName: 'ownerSort', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
    ]);
    expect(indexes('ConnectionsTable')).toEqual([{ IndexName: 'byUser', KeySchema: [{ AttributeName: 'userId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }]);
    expect(indexes('EventsTable')).toBeUndefined();
    expect(indexes('AuditTable')).toBeUndefined();
  });
});

describe('functions', () => {
  it('there are functions at all', () => {
    expect(functions.length).toBeGreaterThanOrEqual(20);
  });

  it.each(functions.map(([id]) => id))('%s runs nodejs24.x on arm64', (id) => {
    const props = resources[id]!.Properties;
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it.each(functions.map(([id]) => id))('%s names its source module under functions/, which exports its handler', (id) => {
    const entry = entryOf(id);
    const handler = resources[id]!.Metadata['BookingEngine:Handler'] as string;
    expect(entry).toMatch(/^functions\/[a-z]+\/[a-z-]+\.ts$/);
    expect(existsSync(projectRoot + entry), `${entry} exists`).toBe(true);
    const source = readFileSync(projectRoot + entry, 'utf8');
    expect(source).toMatch(new RegExp(`export (const|(async )?function) ${handler}\\b`));
    expect(resources[id]!.Properties.Handler).toBe(`index.${handler}`);
  });
});

describe('stream publisher', () => {
  it('reads the events stream with bisect, partial batch failures, bounded retries and age, and an SQS on-failure destination', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.EventSourceArn).includes('StreamArn'));
    expect(mappings).toHaveLength(1);
    const props = mappings[0]![1].Properties;
    expect(refId(props.FunctionName)).toBe(functionByEntry('stream/publish-events'));
    expect(props.EventSourceArn).toEqual({ 'Fn::GetAtt': [logicalId('EventsTable', 'AWS::DynamoDB::Table'), 'StreamArn'] });
    expect(props.BisectBatchOnFunctionError).toBe(true);
    expect(props.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(props.MaximumRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(props.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(props.MaximumRecordAgeInSeconds).toBeGreaterThan(0);
    expect(props.MaximumRecordAgeInSeconds).toBeLessThanOrEqual(86_400);
    const destination = refId(props.DestinationConfig.OnFailure.Destination);
    expect(resources[destination!]?.Type).toBe('AWS::SQS::Queue');
  });
});

describe('event rules', () => {
  const rules = ofType('AWS::Events::Rule');

  it('the workflow rule matches booking.requested and starts the Standard state machine, with retries and a DLQ', () => {
    const workflowRules = rules.filter(([, r]) => r.Properties.Targets.some((t: any) => resources[refId(t.Arn)!]?.Type === 'AWS::StepFunctions::StateMachine'));
    expect(workflowRules).toHaveLength(1);
    const rule = workflowRules[0]![1].Properties;
    expect(rule.EventPattern).toEqual({ source: ['booking-engine'], 'detail-type': ['booking.requested'] });
    expect(rule.Targets).toHaveLength(1);
    const target = rule.Targets[0];
    const machine = resources[refId(target.Arn)!]!;
    expect(machine.Type).toBe('AWS::StepFunctions::StateMachine');
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(resources[refId(target.DeadLetterConfig.Arn)!]!.Type).toBe('AWS::SQS::Queue');
  });

  it('every rule listens on the domain bus', () => {
    const bus = logicalId('DomainEventBus', 'AWS::Events::EventBus');
    for (const [, rule] of rules) expect(rule.Properties.EventBusName).toEqual({ Ref: bus });
  });

  it.each(rules.map(([id]) => id))('every target of %s has a retry policy and an SQS dead-letter queue', (id) => {
    const targets = resources[id]!.Properties.Targets as any[];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(target.RetryPolicy?.MaximumRetryAttempts).toBeGreaterThan(0);
      expect(target.RetryPolicy?.MaximumEventAgeInSeconds).toBeGreaterThan(0);
      expect(resources[refId(target.DeadLetterConfig?.Arn)!]?.Type).toBe('AWS::SQS::Queue');
    }
  });

  it('the audit-log and realtime-push subscribers receive every domain event', () => {
    for (const entry of ['subscribers/audit-log', 'subscribers/realtime-push']) {
      const fn = functionByEntry(entry);
      const subscribed = rules.filter(([, r]) => r.Properties.Targets.some((t: any) => refId(t.Arn) === fn));
      expect(subscribed).toHaveLength(1);
      expect(subscribed[0]![1].Properties.EventPattern).toEqual({ source: ['booking-engine'] });
    }
  });

  it.each(['subscribers/audit-log', 'subscribers/realtime-push'])('%s retries asynchronous invocations and parks failures in a DLQ', (entry) => {
    const fn = functionByEntry(entry);
    const configs = ofType('AWS::Lambda::EventInvokeConfig').filter(([, c]) => refId(c.Properties.FunctionName) === fn);
    expect(configs).toHaveLength(1);
    expect(configs[0]![1].Properties.MaximumRetryAttempts).toBeGreaterThan(0);
    const dlq = refId(resources[fn]!.Properties.DeadLetterConfig?.TargetArn);
    expect(resources[dlq!]?.Type).toBe('AWS::SQS::Queue');
  });
});

describe('HTTP API', () => {
  const httpApi = logicalId('HttpApi', 'AWS::ApiGatewayV2::Api');
  const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => refId(r.Properties.ApiId) === httpApi);
  const routeKeys = routes.map(([, r]) => r.Properties.RouteKey as string);
  const route = (key: string) => routes.find(([, r]) => r.Properties.RouteKey === key)![1].Properties;

  // Every route and whether API Gateway checks the organizer's JWT ('jwt') or leaves it to the handler ('none':
  // public, or the attendee's booking token checked in the handler).
  const expected: Array<[string, 'jwt' | 'none']> = [
    ['GET /health', 'none'],
    ['GET /openapi.json', 'none'],
    ['GET /console', 'none'],
    ['POST /event-types', 'jwt'],
    ['GET /event-types/{id}', 'none'],
    ['GET /event-types', 'jwt'],
    ['PATCH /event-types/{id}', 'jwt'],
    ['POST /bookings', 'none'],
    ['GET /bookings', 'jwt'],
    ['GET /bookings/{id}', 'none'],
    ['GET /bookings/{id}/events', 'none'],
    ['GET /bookings/{id}/audit', 'jwt'],
    ['POST /bookings/{id}/cancel', 'none'],
    ['POST /bookings/{id}/reschedule', 'none'],
    ['POST /bookings/{id}/confirm', 'jwt'],
    ['POST /bookings/{id}/reject', 'jwt'],
    ['GET /slots', 'none'],
    ['GET /users/me', 'jwt'],
    ['POST /users/me', 'jwt'],
    ['PATCH /users/me', 'jwt'],
    ['DELETE /users/me', 'jwt'],
    ['POST /schedules', 'jwt'],
    ['GET /schedules', 'jwt'],
    ['GET /schedules/{id}', 'jwt'],
    ['PATCH /schedules/{id}', 'jwt'],
    ['POST /organizations', 'jwt'],
    ['GET /organizations/{id}', 'jwt'],
    ['POST /organizations/{id}/invitations', 'jwt'],
    ['DELETE /organizations/{id}/invitations/{userId}', 'jwt'],
    ['POST /organizations/{id}/invitations/accept', 'jwt'],
    ['POST /organizations/{id}/invitations/decline', 'jwt'],
    ['GET /invitations', 'jwt'],
    ['DELETE /organizations/{id}/members/{userId}', 'jwt'],
    ['POST /organizations/{id}/teams', 'jwt'],
    ['GET /teams/{id}', 'jwt'],
    ['POST /teams/{id}/members', 'jwt'],
    ['DELETE /teams/{id}/members/{userId}', 'jwt'],
    ['POST /bookings/{id}/payment/retry', 'none'],
    ['POST /webhooks/stripe', 'none'],
    ['GET /analytics', 'jwt'],
    ['POST /webhooks', 'jwt'],
    ['GET /webhooks', 'jwt'],
    ['GET /webhooks/{id}', 'jwt'],
    ['PATCH /webhooks/{id}', 'jwt'],
    ['DELETE /webhooks/{id}', 'jwt'],
    ['POST /webhooks/{id}/secret/rotate', 'jwt'],
    ['GET /webhooks/{id}/deliveries', 'jwt'],
    ['POST /webhooks/{id}/deliveries/{eventId}/redeliver', 'jwt'],
    ['POST /webhooks/{id}/replay', 'jwt'],
    ['POST /calendars/connections', 'jwt'],
    ['GET /calendars/connections', 'jwt'],
    ['GET /calendars/connections/{id}', 'jwt'],
    ['PATCH /calendars/connections/{id}', 'jwt'],
    ['DELETE /calendars/connections/{id}', 'jwt'],
    ['POST /calendars/connections/{id}/sync', 'jwt'],
    ['GET /calendars/connect/{provider}', 'jwt'],
    ['GET /calendars/callback/{provider}', 'none'],
    ['GET /calendars/conflicts', 'jwt'],
    ['POST /calendars/notifications/google', 'none'],
    ['POST /calendars/notifications/microsoft', 'none'],
    ['POST /calendars/notifications/microsoft/lifecycle', 'none'],
  ];

  it('has exactly the documented routes', () => {
    expect([...routeKeys].sort()).toEqual(expected.map(([key]) => key).sort());
  });

  it('the booking routes of the first cut are all there', () => {
    for (const key of [
      'GET /health',
      'POST /event-types',
      'GET /event-types/{id}',
      'POST /bookings',
      'GET /bookings',
      'GET /bookings/{id}',
      'GET /bookings/{id}/events',
      'GET /bookings/{id}/audit',
      'POST /bookings/{id}/cancel',
      'POST /bookings/{id}/reschedule',
      'POST /bookings/{id}/confirm',
    ]) {
      expect(routeKeys).toContain(key);
    }
  });

  it('exactly the organizer routes carry the JWT authorizer', () => {
    const authorizer = logicalId('HttpApiOrganizerJwt', 'AWS::ApiGatewayV2::Authorizer');
    expect(resources[authorizer]!.Properties.AuthorizerType).toBe('JWT');
    const withJwt = routeKeys.filter((key) => route(key).AuthorizationType === 'JWT');
    expect(withJwt.sort()).toEqual(expected.filter(([, auth]) => auth === 'jwt').map(([key]) => key).sort());
    for (const key of ['POST /event-types', 'GET /bookings', 'GET /bookings/{id}/audit', 'POST /bookings/{id}/confirm']) expect(withJwt).toContain(key);
    for (const key of withJwt) expect(refId(route(key).AuthorizerId)).toBe(authorizer);
    for (const key of routeKeys.filter((k) => !withJwt.includes(k))) expect(route(key).AuthorizationType).toBe('NONE');
  });

  it.each([
    ['GET /health', 'http/health'],
    ['POST /bookings', 'http/create-booking'],
    ['GET /bookings/{id}', 'http/get-booking'],
    ['POST /bookings/{id}/reschedule', 'http/reschedule-booking'],
    ['POST /bookings/{id}/confirm', 'http/confirm-booking'],
  ])('%s is served by functions/%s.ts', (key, entry) => {
    const integrationId = route(key).Target['Fn::Join'][1][1].Ref as string;
    expect(refId(resources[integrationId]!.Properties.IntegrationUri)).toBe(functionByEntry(entry));
  });
});

describe('WebSocket API', () => {
  it('routes $connect, $disconnect and $default', () => {
    const wsApi = logicalId('WebSocketApi', 'AWS::ApiGatewayV2::Api');
    expect(resources[wsApi]!.Properties.ProtocolType).toBe('WEBSOCKET');
    const keys = ofType('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => refId(r.Properties.ApiId) === wsApi)
      .map(([, r]) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(['$connect', '$default', '$disconnect']);
  });
});

describe('least privilege', () => {
  const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

  it('the health function has no DynamoDB permissions', () => {
    const actions = [...allowedActions(functionByEntry('http/health'))];
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it.each(['http/get-booking', 'http/list-bookings', 'http/get-event-type', 'http/get-booking-events', 'http/get-booking-audit'])(
    '%s may read but not write',
    (entry) => {
      const actions = allowedActions(functionByEntry(entry));
      expect(actions.has('dynamodb:GetItem')).toBe(true);
      for (const write of writes) expect(actions.has(write), write).toBe(false);
    },
  );

  it('no GET route may write', () => {
    const httpApi = logicalId('HttpApi', 'AWS::ApiGatewayV2::Api');
    const getRoutes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => refId(r.Properties.ApiId) === httpApi && r.Properties.RouteKey.startsWith('GET '));
    expect(getRoutes.length).toBeGreaterThan(5);
    for (const [, r] of getRoutes) {
      const integration = r.Properties.Target['Fn::Join'][1][1].Ref as string;
      const fn = refId(resources[integration]!.Properties.IntegrationUri)!;
      // One function serves every calendar route (stack resources), and the OAuth callback is a GET by the
      // OAuth 2 spec that records the connection: the calendar GETs share that function's writes.
      if (entryOf(fn) === 'functions/http/calendars.ts') continue;
      const actions = allowedActions(fn);
      for (const write of writes) expect(actions.has(write), `${r.Properties.RouteKey} may ${write}`).toBe(false);
    }
  });

  it('the booking command routes may write', () => {
    for (const entry of ['http/create-booking', 'http/cancel-booking', 'http/reschedule-booking', 'http/confirm-booking']) {
      expect(allowedActions(functionByEntry(entry)).has('dynamodb:UpdateItem'), entry).toBe(true);
    }
  });

  it('only the publisher may put events on a bus', () => {
    const publisher = functionByEntry('stream/publish-events');
    const putters = functions.filter(([id]) => allowedActions(id).has('events:PutEvents')).map(([id]) => id);
    expect(putters).toEqual([publisher]);
    const others = identityPolicies().filter((p) => p.statements.some((s) => actionsOf(s).some((a) => a === 'events:PutEvents' || a === 'events:*')));
    expect(others).toHaveLength(1);
  });

  it('the audit subscriber cannot touch the events table', () => {
    const events = logicalId('EventsTable', 'AWS::DynamoDB::Table');
    const statements = statementsOf(functionByEntry('subscribers/audit-log'));
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      expect(JSON.stringify(s.Resource ?? '')).not.toContain(events);
      if (actionsOf(s).some((a) => a.startsWith('dynamodb:'))) expect(s.Resource).not.toBe('*');
    }
  });

  it('no policy statement allows every action, of a service or of all', () => {
    const policies = [
      ...identityPolicies().map((p) => [p.id, { Statement: p.statements }] as const),
      ...ofType('AWS::SQS::QueuePolicy').map(([id, p]) => [id, p.Properties.PolicyDocument] as const),
    ];
    expect(policies.length).toBeGreaterThan(20);
    for (const [id, document] of policies) {
      for (const s of document.Statement as Statement[]) {
        if (s.Effect !== 'Allow') continue;
        for (const action of actionsOf(s)) expect(action, `${id} allows ${action}`).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
      }
    }
  });
});

describe('least privilege: each function gets the actions it calls, on the tables it touches', () => {
  const tableIds = Object.fromEntries(['EventsTable', 'StateTable', 'ConnectionsTable', 'AuditTable'].map((prefix) => [logicalId(prefix, 'AWS::DynamoDB::Table'), prefix]));
  const variables: Record<string, string> = { EventsTable: 'EVENTS_TABLE', StateTable: 'STATE_TABLE', ConnectionsTable: 'CONNECTIONS_TABLE', AuditTable: 'AUDIT_TABLE' };
  /** Which table (and whether its stream) a policy resource names. */
  const tableOf = (resource: unknown): { table: string; stream: boolean } | undefined => {
    const text = JSON.stringify(resource);
    const id = Object.keys(tableIds).find((tableId) => text.includes(`"${tableId}"`));
    return id ? { table: tableIds[id]!, stream: text.includes('StreamArn') } : undefined;
  };
  /** table -> the DynamoDB actions the function may take on it (its items and indexes; the stream apart). */
  function grants(fnId: string): Record<string, string[]> {
    const byTable: Record<string, Set<string>> = {};
    for (const s of statementsOf(fnId)) {
      if (s.Effect !== 'Allow') continue;
      for (const resource of [s.Resource].flat()) {
        const target = tableOf(resource);
        if (!target) continue;
        const key = target.stream ? `${target.table} stream` : target.table;
        for (const action of actionsOf(s).filter((a) => a.startsWith('dynamodb:'))) (byTable[key] ??= new Set()).add(action);
      }
    }
    return Object.fromEntries(Object.entries(byTable).map(([table, actions]) => [table, [...actions].sort()]));
  }
  const read = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
  const readWrite = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
  const append = ['dynamodb:PutItem', 'dynamodb:Query'];
  const commandGrants = { EventsTable: append, StateTable: readWrite };
  const expected: Record<string, Record<string, string[]>> = {
    'http/health': {},
    // Generated documents and the console's page: no table at all.
    'http/openapi': {},
    'http/console': {},
    // `?version=N` folds the booking from its events (time travel).
    'http/get-booking': { StateTable: read, EventsTable: ['dynamodb:Query'] },
    'http/get-booking-events': { StateTable: read, EventsTable: ['dynamodb:Query'] },
    'http/get-booking-audit': { StateTable: read, AuditTable: ['dynamodb:Query'] },
    'workflow/booking-steps': commandGrants,
    'workflow/check-availability': commandGrants,
    'scheduled/settle-bookings': commandGrants,
    'stream/publish-events': { 'EventsTable stream': ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] },
    'subscribers/audit-log': { AuditTable: ['dynamodb:PutItem'] },
    // Appends each event to its listeners' feeds (conditional puts of new items: the position, its marker, the head).
    'subscribers/realtime-push': { StateTable: [...read, 'dynamodb:PutItem'].sort(), ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:Query'] },
    'ws/connect': { StateTable: read, ConnectionsTable: ['dynamodb:PutItem'] },
    'ws/disconnect': { ConnectionsTable: ['dynamodb:DeleteItem'] },
    // Resume: reads its connection's listener and replays that feed; forgets a connection that has gone.
    'ws/default': { StateTable: read, ConnectionsTable: ['dynamodb:DeleteItem', 'dynamodb:GetItem'] },
    // Resumes the paused workflow; reads the booking and its attempt, writes the retry token's claim.
    'http/retry-payment': { StateTable: readWrite },
    // The webhook, mail and analytics subscribers read a booking's events and keep their records.
    'subscribers/webhooks': { EventsTable: ['dynamodb:Query'], StateTable: readWrite },
    'subscribers/notifications': { EventsTable: ['dynamodb:Query'], StateTable: readWrite },
    'subscribers/analytics': { EventsTable: ['dynamodb:Query'], StateTable: readWrite },
    // Connections are an aggregate: every calendar route (GETs too, see above) shares the command grants.
    'http/calendars': commandGrants,
    // Records needs_reauth and the writes it made; keeps busy time, sync state and its lease.
    'sync/calendar-sync': commandGrants,
    'subscribers/calendar-writes': commandGrants,
    // Claims due entries of the sync due list (moves them along the index); never reads or writes anything else.
    'scheduled/dispatch-calendar-sync': { StateTable: ['dynamodb:Query', 'dynamodb:UpdateItem'] },
    // Records conflicts (their aggregates and views) after booking changes.
    'subscribers/calendar-conflicts': commandGrants,
    // Push: looks up channels, keeps the debounce window and the channels it renews; never appends events.
    'http/calendar-notifications': { StateTable: readWrite },
    'scheduled/renew-calendar-push': { StateTable: readWrite },
  };

  it.each(functions.map(([id]) => [id.replace(/[0-9A-F]{8}$/, ''), id] as const))('%s: exactly its grants, and the table variables of exactly the tables granted', (_name, fnId) => {
    const entry = entryOf(fnId).replace(/^functions\//, '').replace(/\.ts$/, '');
    const granted = grants(fnId);
    const route = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => JSON.stringify(r.Properties.Target ?? '').includes('Integration') && JSON.stringify(resources[r.Properties.Target?.['Fn::Join']?.[1]?.[1]?.Ref]?.Properties?.IntegrationUri ?? '').includes(`"${fnId}"`));
    // HTTP routes: GETs read the state table; commands append events and keep the state table.
    const want = expected[entry] ?? (route?.[1].Properties.RouteKey.startsWith('GET ') ? { StateTable: read } : commandGrants);
    expect(granted).toEqual(want);
    const environment = Object.keys(resources[fnId]!.Properties.Environment?.Variables ?? {});
    const tableVariables = environment.filter((name) => Object.values(variables).includes(name)).sort();
    const grantedTables = Object.keys(want).filter((table) => !table.endsWith(' stream')).map((table) => variables[table]!).sort();
    expect(tableVariables).toEqual(grantedTables);
  });

  it('the event table is append-only to every function: no UpdateItem, DeleteItem, BatchWriteItem or Scan on it', () => {
    const writers = functions.filter(([id]) => grants(id).EventsTable?.includes('dynamodb:PutItem'));
    expect(writers.length).toBeGreaterThan(20);
    for (const [id] of functions) {
      for (const action of grants(id).EventsTable ?? []) expect(['dynamodb:PutItem', 'dynamodb:Query'], `${id} may ${action} on the event table`).toContain(action);
    }
  });

  it('no policy allows a Scan, which no function does', () => {
    const policies = identityPolicies();
    expect(policies.length).toBeGreaterThan(20);
    for (const p of policies) {
      for (const s of p.statements) expect(actionsOf(s), p.id).not.toContain('dynamodb:Scan');
    }
  });

  it('only a function whose code sends task tokens may SendTaskSuccess or SendTaskFailure', () => {
    const calls = (entry: string) => moduleGraph(entry).some((file) => /SendTask(Success|Failure)Command/.test(readFileSync(file, 'utf8')));
    for (const [id] of functions) {
      const may = [...allowedActions(id)].some((a) => a.startsWith('states:SendTask'));
      expect(may, `${id} may send task tokens`).toBe(calls(entryOf(id)));
    }
  });

  it('exactly the functions that verify tokens themselves are told the issuer', () => {
    for (const [id, fn] of functions) {
      const told = 'JWT_ISSUER' in (fn.Properties.Environment?.Variables ?? {});
      const verifies = moduleGraph(entryOf(id)).some((file) => !file.endsWith('identity.ts') && /verifyToken\(|optionalOrganizer\(/.test(readFileSync(file, 'utf8')));
      if (told) expect(verifies, `${id} is told the issuer but never verifies a token`).toBe(true);
    }
    // And those that must: $connect, the public event type view (its owner sees more), and every booking route
    // that checks its caller in the handler (API Gateway cannot say "or"; confirm and reject share that check).
    const httpApi = logicalId('HttpApi', 'AWS::ApiGatewayV2::Api');
    const unauthorizedBookingRoutes = ofType('AWS::ApiGatewayV2::Route').filter(
      ([, r]) => refId(r.Properties.ApiId) === httpApi && /^\S+ \/bookings\/\{id\}/.test(r.Properties.RouteKey) && r.Properties.AuthorizationType !== 'JWT',
    );
    expect(unauthorizedBookingRoutes.length).toBeGreaterThan(3);
    const mustVerify = [
      functionByEntry('ws/connect'),
      functionByEntry('http/get-event-type'),
      functionByEntry('http/confirm-booking'),
      functionByEntry('http/reject-booking'),
      ...unauthorizedBookingRoutes.map(([, r]) => refId(resources[r.Properties.Target['Fn::Join'][1][1].Ref]!.Properties.IntegrationUri)!),
    ];
    for (const id of mustVerify) expect(resources[id]!.Properties.Environment.Variables.JWT_ISSUER, id).toBeDefined();
  });
});

/** The project's source files a module reaches through its relative imports (itself included). */
function moduleGraph(entry: string, seen = new Set<string>()): string[] {
  const file = entry.startsWith('/') ? entry : `${projectRoot}${entry}`;
  if (seen.has(file)) return [];
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const [, path] of source.matchAll(/from '(\.{1,2}\/[^']+\.ts)'/g)) moduleGraph(fileURLToPath(new URL(path!, `file://${file}`)), seen);
  return [...seen];
}

describe('queues', () => {
  it('the dead-letter queues exist, encrypted at rest and TLS-only, keeping messages 14 days', () => {
    // The webhook delivery queue is a work queue (its messages are attempts), not a DLQ: checked below.
    const queues = ofType('AWS::SQS::Queue').filter(([id]) => !id.startsWith('WebhooksDeliveryQueue') && !id.startsWith('CalendarsSyncQueue'));
    expect(queues.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['AnalyticsDLQ', 'AuditLogDLQ', 'PaymentsRefundPaymentsDLQ', 'PublisherDLQ', 'RealtimePushDLQ', 'SettleBookingsDLQ', 'NotificationsDLQ', 'StartBookingWorkflowDLQ', 'WebhookDeliveriesDLQ', 'WebhooksDLQ', 'CalendarSyncDLQ', 'CalendarWritesDLQ', 'CalendarSyncDispatchDLQ', 'CalendarConflictsDLQ', 'CalendarPushRenewalDLQ'].sort());
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled ?? queue.Properties.KmsMasterKeyId, `${id} is encrypted`).toBeTruthy();
      expect(queue.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });
});

describe('email', () => {
  it('sends through an SES configuration set that suppresses addresses which bounce or complain', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', { SuppressionOptions: { SuppressedReasons: Match.arrayWith(['BOUNCE', 'COMPLAINT']) } });
    const fn = functionByEntry('subscribers/notifications');
    const variables = resources[fn]!.Properties.Environment.Variables;
    expect(refId(variables.SES_CONFIGURATION_SET)).toMatch(/^NotificationsMailConfigurationSet/);
    expect(variables.MAIL_FROM).toContain('@');
  });
});

describe('webhook delivery queue', () => {
  it('is encrypted, TLS-only, parks what keeps failing in the deliveries DLQ, and feeds the worker with batch item failures', () => {
    const [[id, queue]] = ofType('AWS::SQS::Queue').filter(([id]) => id.startsWith('WebhooksDeliveryQueue')) as [[string, any]];
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(refId(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toMatch(/^WebhookDeliveriesDLQ/);
    const mapping = ofType('AWS::Lambda::EventSourceMapping').find(([, m]) => refId(m.Properties.EventSourceArn) === id)!;
    expect(mapping[1].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(refId(mapping[1].Properties.FunctionName)).toBe(functionByEntry('webhooks/deliver'));
  });
});

describe('calendars', () => {
  it('the sync queue is encrypted, parks what keeps failing in the sync DLQ, and feeds the worker with batch item failures and a bounded concurrency', () => {
    const [[id, queue]] = ofType('AWS::SQS::Queue').filter(([id]) => id.startsWith('CalendarsSyncQueue')) as [[string, any]];
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(refId(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toMatch(/^CalendarSyncDLQ/);
    const mapping = ofType('AWS::Lambda::EventSourceMapping').find(([, m]) => refId(m.Properties.EventSourceArn) === id)!;
    expect(mapping[1].Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping[1].Properties.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    expect(refId(mapping[1].Properties.FunctionName)).toBe(functionByEntry('sync/calendar-sync'));
  });

  it('the credentials key rotates and only the functions that call providers may use it: sealing only where credentials are made', () => {
    const key = logicalId('CalendarsCredentialsKey', 'AWS::KMS::Key');
    expect(resources[key]!.Properties.EnableKeyRotation).toBe(true);
    const users = functions
      .filter(([id]) => statementsOf(id).some((s) => JSON.stringify(s.Resource ?? '').includes(key)))
      .map(([id]) => [entryOf(id), [...allowedActions(id)].filter((a) => a.startsWith('kms:')).sort()] as const);
    expect(Object.fromEntries(users)).toEqual({
      'functions/http/calendars.ts': ['kms:Decrypt', 'kms:GenerateDataKey'],
      'functions/sync/calendar-sync.ts': ['kms:Decrypt'],
      'functions/subscribers/calendar-writes.ts': ['kms:Decrypt'],
      'functions/workflow/check-availability.ts': ['kms:Decrypt'],
      'functions/http/calendar-notifications.ts': ['kms:Decrypt'],
      'functions/scheduled/renew-calendar-push.ts': ['kms:Decrypt'],
    });
  });

  it('push renewals: only the functions that schedule them may create schedules (in their own group) and pass the role Scheduler runs them as, which may invoke the renewal function alone', () => {
    const group = logicalId('CalendarsPushRenewalGroup', 'AWS::Scheduler::ScheduleGroup');
    const schedulers = functions.filter(([id]) => allowedActions(id).has('scheduler:CreateSchedule')).map(([id]) => entryOf(id)).sort();
    expect(schedulers).toEqual(['functions/http/calendar-notifications.ts', 'functions/http/calendars.ts', 'functions/scheduled/renew-calendar-push.ts']);
    const passers = functions.filter(([id]) => allowedActions(id).has('iam:PassRole')).map(([id]) => entryOf(id)).sort();
    expect(passers).toEqual(schedulers);
    for (const [id] of functions.filter(([fn]) => schedulers.includes(entryOf(fn)))) {
      for (const statement of statementsOf(id).filter((st) => actionsOf(st).some((action) => action.startsWith('scheduler:')))) {
        expect(actionsOf(statement).sort()).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']);
        expect(JSON.stringify(statement.Resource)).toMatch(new RegExp(`:schedule/","?\\{"Ref":"${group}"\\},"/\\*"`));
      }
      const pass = statementsOf(id).find((st) => actionsOf(st).includes('iam:PassRole'))!;
      expect((pass as Statement & { Condition?: unknown }).Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
      expect(JSON.stringify(pass.Resource)).toContain(':role/BookingEngine-calendar-push-renewals');
    }
    const [[roleId, role]] = ofType('AWS::IAM::Role').filter(([, r]) => r.Properties.RoleName === 'BookingEngine-calendar-push-renewals') as [[string, any]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' })]);
    const invokes = (role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement).filter((st: Statement) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invokes)).toContain(functionByEntry('scheduled/renew-calendar-push'));
    expect(roleId).toBeTruthy();
    // Scheduler invokes asynchronously: Lambda retries twice, then the renewals' DLQ.
    const renewal = functionByEntry('scheduled/renew-calendar-push');
    expect(refId(resources[renewal]!.Properties.DeadLetterConfig?.TargetArn)).toMatch(/^CalendarPushRenewalDLQ/);
  });

  it('the OAuth client secret is read by exactly the functions that call providers', () => {
    const secret = logicalId('CalendarsOAuthSecret', 'AWS::SecretsManager::Secret');
    const readers = functions.filter(([id]) => statementsOf(id).some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource ?? '').includes(secret)));
    expect(readers.map(([id]) => entryOf(id)).sort()).toEqual(['functions/http/calendars.ts', 'functions/subscribers/calendar-writes.ts', 'functions/sync/calendar-sync.ts', 'functions/workflow/check-availability.ts', 'functions/http/calendar-notifications.ts', 'functions/scheduled/renew-calendar-push.ts'].sort());
  });
});

describe('workflow', () => {
  it('is a Standard state machine with tracing and logs', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: Match.anyValue() }),
    });
  });
});

describe('operations', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
  const topic = logicalId('Alarms', 'AWS::SNS::Topic');
  const alarmOn = (metric: string, dimension: string, target: string) =>
    alarms.filter((a) => a.MetricName === metric && a.Dimensions?.some((d: any) => d.Name === dimension && refId(d.Value) === target));

  it('every alarm notifies the one operator topic', () => {
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
  });

  it('every dead-letter queue has an alarm that fires on one visible message', () => {
    const queues = ofType('AWS::SQS::Queue').filter(([id]) => !id.startsWith('WebhooksDeliveryQueue') && !id.startsWith('CalendarsSyncQueue'));
    expect(queues.length).toBeGreaterThan(0);
    for (const [id] of queues) {
      const [alarm, ...more] = alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', id);
      expect(alarm, `${id} has an alarm`).toBeDefined();
      expect(more).toEqual([]);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    }
  });

  it('failed and timed-out workflow executions, and the stream publisher falling behind, raise alarms', () => {
    const machine = logicalId('BookingWorkflowStateMachine', 'AWS::StepFunctions::StateMachine');
    expect(alarmOn('ExecutionsFailed', 'StateMachineArn', machine)).toHaveLength(1);
    expect(alarmOn('ExecutionsTimedOut', 'StateMachineArn', machine)).toHaveLength(1);
    expect(alarmOn('IteratorAge', 'FunctionName', functionByEntry('stream/publish-events'))).toHaveLength(1);
  });

  it('every HTTP API function is read by one errors and one throttles alarm; both APIs have a 5xx alarm', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api');
    const httpApi = apis.find(([, a]) => a.Properties.ProtocolType === 'HTTP')![0];
    const wsApi = apis.find(([, a]) => a.Properties.ProtocolType === 'WEBSOCKET')![0];
    const httpFunctions = ofType('AWS::ApiGatewayV2::Integration').filter(([, i]) => refId(i.Properties.ApiId) === httpApi).map(([, i]) => refId(i.Properties.IntegrationUri)!);
    expect(httpFunctions.length).toBeGreaterThan(10);
    // Alarms on metric math list their metrics; each function's metric must be read by exactly one alarm.
    const readers = (metric: string, fn: string) =>
      alarms.filter((a) => (a.Metrics ?? []).some((m: any) => m.MetricStat?.Metric.MetricName === metric && m.MetricStat.Metric.Dimensions.some((d: any) => refId(d.Value) === fn)));
    for (const fn of httpFunctions) {
      expect(readers('Errors', fn), `${fn} errors`).toHaveLength(1);
      expect(readers('Throttles', fn), `${fn} throttles`).toHaveLength(1);
    }
    for (const alarm of alarms.filter((a) => a.Metrics)) expect(alarm.Metrics.filter((m: any) => m.MetricStat).length).toBeLessThanOrEqual(10);
    expect(alarmOn('5xx', 'ApiId', httpApi)).toHaveLength(1);
    expect(alarmOn('IntegrationError', 'ApiId', wsApi)).toHaveLength(1);
  });

  it('stays well inside CloudFormation\'s 500 resources per stack', () => {
    // 348 when the roles' policies went inline and the HTTP API got one invoke permission per function (from 419);
    // the bound leaves room for the calendar, sync and client features (about 80 more), and warns before 500.
    expect(Object.keys(resources).length).toBeLessThan(450);
  });

  it('both API stages are throttled and write access logs', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(2);
    for (const [id, stage] of stages) {
      expect(stage.Properties.DefaultRouteSettings, id).toMatchObject({ ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
      expect(stage.Properties.AccessLogSettings, id).toMatchObject({ DestinationArn: expect.anything(), Format: expect.stringContaining('$context.requestId') });
    }
  });

  it('the Cognito app client uses the code flow only, and MFA is offered', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: ['code'] });
    template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OPTIONAL' });
  });
});
