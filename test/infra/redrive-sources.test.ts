import { describe, expect, inject, it } from 'vitest';
import { deadLetterSources, sourceOf } from '../../infra/local/redrive.ts';
import { TemplateResolver } from '../../infra/local/template-resolver.ts';

const names = {
  httpApiUrl: 'http://127.0.0.1:3000',
  webSocketUrl: 'ws://127.0.0.1:3001',
  webSocketManagementUrl: 'http://127.0.0.1:3001',
  issuer: 'http://127.0.0.1:3000/local-issuer',
  audience: 'local-client',
  queueUrl: (name: string) => `http://127.0.0.1:3002/000000000000/${name}`,
};
const strip = (id: string) => id.replace(/[0-9A-F]{8}$/, '');

describe('redrive targets come from the template', () => {
  it('maps every dead-letter queue to the targets that park messages in it', () => {
    const sources = deadLetterSources(new TemplateResolver(inject('template'), names));
    const summary = Object.fromEntries(
      [...sources].map(([queue, list]) => [strip(queue), list.map((s) => `${s.kind}:${strip('functionId' in s ? s.functionId : 'queueId' in s ? s.queueId : s.resourceId)}`).sort()]),
    );
    expect(summary).toEqual({
      AuditLogDLQ: ['lambda-async:AuditLogFunction', 'rule-target:AuditLogFunction'],
      RealtimePushDLQ: ['lambda-async:RealtimePushFunction', 'rule-target:RealtimePushFunction'],
      PublisherDLQ: ['stream:PublishEventsFunction'],
      StartBookingWorkflowDLQ: [expect.stringMatching(/^rule-target:BookingWorkflowStateMachine/)],
      AnalyticsDLQ: [expect.stringMatching(/^lambda-async:AnalyticsFunction/), expect.stringMatching(/^rule-target:AnalyticsFunction/)],
      NotificationsDLQ: [expect.stringMatching(/^lambda-async:NotificationsFunction/), expect.stringMatching(/^rule-target:NotificationsFunction/)],
      WebhooksDLQ: [expect.stringMatching(/^lambda-async:WebhooksFunction/), expect.stringMatching(/^rule-target:WebhooksFunction/)],
      PaymentsRefundPaymentsDLQ: [expect.stringMatching(/^lambda-async:PaymentsRefundPaymentsFunction/), expect.stringMatching(/^rule-target:PaymentsRefundPaymentsFunction/)],
      SettleBookingsDLQ: ['schedule:SettleBookingsFunction'],
      CalendarSyncDispatchDLQ: [expect.stringMatching(/^schedule:CalendarSyncDispatchFunction/)],
      CalendarConflictsDLQ: [expect.stringMatching(/^lambda-async:CalendarSyncCalendarConflictsFunction/), expect.stringMatching(/^rule-target:CalendarSyncCalendarConflictsFunction/)],
      // Work queues' redrive policies: parked messages go back onto the queue they came from.
      WebhookDeliveriesDLQ: [expect.stringMatching(/^queue:WebhooksDeliveryQueue/)],
      CalendarSyncDLQ: [expect.stringMatching(/^queue:CalendarsSyncQueue/)],
      // Renewals Lambda gave up on (Scheduler invokes asynchronously); the run-time schedules' own DLQ too.
      CalendarPushRenewalDLQ: [expect.stringMatching(/^lambda-async:CalendarsPushRenewFunction/)],
      CalendarWritesDLQ: [expect.stringMatching(/^lambda-async:CalendarsCalendarWritesFunction/), expect.stringMatching(/^rule-target:CalendarsCalendarWritesFunction/)],
    });
  });

  it('tells from a message which target parked it', () => {
    const sources = deadLetterSources(new TemplateResolver(inject('template'), names));
    const audit = sources.get([...sources.keys()].find((id) => id.startsWith('AuditLogDLQ'))!)!;
    const rule = audit.find((s) => s.kind === 'rule-target')!;
    expect(sourceOf({ Body: '{}', MessageAttributes: { RequestID: { DataType: 'String', StringValue: 'x' } } }, audit).kind).toBe('lambda-async');
    expect(sourceOf({ Body: '{}', MessageAttributes: { RULE_ARN: { DataType: 'String', StringValue: (rule as any).ruleId } } }, audit).kind).toBe('rule-target');
    expect(() => sourceOf({ Body: '{}' }, audit)).toThrow(/cannot tell/);
  });
});
