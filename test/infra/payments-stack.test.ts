// The payments construct as synthesized: the webhook and retry routes, the secret, the workflow's callback
// tasks with their timeouts and heartbeat, and who may resume the workflow.
import { describe, expect, inject, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';

const template = Template.fromJSON(inject('template'));
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: any; Metadata?: any }>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refId = (value: any): string | undefined => value?.Ref ?? value?.['Fn::GetAtt']?.[0];
const functionOf = (entry: string) => {
  const found = ofType('AWS::Lambda::Function').filter(([, r]) => r.Metadata?.['BookingEngine:Entry'] === `functions/${entry}.ts`);
  expect(found).toHaveLength(1);
  return found[0]![0];
};
type Statement = { Effect: string; Action: string | string[]; Resource?: any };
/** Identity policies with the roles they apply to: the roles' inline policies and any AWS::IAM::Policy. */
const identityPolicies = (): Array<{ roles: string[]; statements: Statement[] }> => [
  ...ofType('AWS::IAM::Role').flatMap(([id, r]) => (r.Properties.Policies ?? []).map((p: any) => ({ roles: [id], statements: p.PolicyDocument.Statement }))),
  ...ofType('AWS::IAM::Policy').map(([, p]) => ({ roles: p.Properties.Roles.map(refId), statements: p.Properties.PolicyDocument.Statement })),
];
const statementsOf = (fnId: string): Statement[] => {
  const roleId = refId(resources[fnId]!.Properties.Role)!;
  return identityPolicies()
    .filter((p) => p.roles.includes(roleId))
    .flatMap((p) => p.statements);
};
const machineId = ofType('AWS::StepFunctions::StateMachine')[0]![0];
const secretId = ofType('AWS::SecretsManager::Secret')[0]![0];
const definition = (() => {
  const text = resources[machineId]!.Properties.DefinitionString;
  // The definition is an Fn::Join of strings and ARNs; the states' shape is in the strings.
  const joined = (text['Fn::Join'][1] as any[]).map((part) => (typeof part === 'string' ? part : part?.Ref === 'AWS::Partition' ? 'aws' : 'ARN')).join('');
  return JSON.parse(joined) as { States: Record<string, any> };
})();

describe('payments in the stack', () => {
  it('routes POST /webhooks/stripe and POST /bookings/{id}/payment/retry to their functions, without the JWT authorizer', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    for (const key of ['POST /webhooks/stripe', 'POST /bookings/{id}/payment/retry']) {
      const route = routes.find((r) => r.RouteKey === key);
      expect(route, key).toBeDefined();
      expect(route.AuthorizationType).toBe('NONE');
    }
  });

  it('keeps the Stripe keys in one Secrets Manager secret whose value is not in the template', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const secret = resources[secretId]!.Properties;
    expect(secret.SecretString).toBeUndefined();
    expect(JSON.stringify(inject('template'))).not.toMatch(/sk_(test|live)_|whsec_/);
    for (const entry of ['http/stripe-webhook', 'subscribers/refund-payments', 'workflow/payment-steps']) {
      const fns = ofType('AWS::Lambda::Function').filter(([, r]) => r.Metadata?.['BookingEngine:Entry'] === `functions/${entry}.ts`);
      expect(fns.length).toBeGreaterThan(0);
      for (const [id, fn] of fns) {
        expect(refId(fn.Properties.Environment.Variables.STRIPE_SECRET_ARN), id).toBe(secretId);
        const reads = statementsOf(id).filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
        expect(reads.map((s) => refId(s.Resource)), id).toEqual([secretId]);
      }
    }
  });

  it('pauses the workflow on the Payment callback task: token in the payload, timeout = the payment window, a heartbeat', () => {
    const payment = definition.States.Payment;
    expect(payment.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(payment.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(payment.TimeoutSecondsPath).toBe('$.paymentWindowSeconds');
    expect(payment.HeartbeatSecondsPath).toBe('$.paymentHeartbeatSeconds');
    const catches = Object.fromEntries(payment.Catch.map((c: any) => [c.ErrorEquals.join(','), c.Next]));
    expect(catches).toMatchObject({ 'States.Timeout,States.HeartbeatTimeout': 'ExpirePayment', PaymentFailed: 'RecordPaymentFailure', 'States.ALL': 'FailCreation' });
    expect(payment.Next).toBe('CompletePayment');
    expect(definition.States.RecordPaymentFailure.Next).toBe('AwaitRetry');
    const retry = definition.States.AwaitRetry;
    expect(retry.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(retry.TimeoutSecondsPath).toBe('$.retryWaitSeconds');
    expect(retry.Next).toBe('Payment');
    expect(definition.States.NeedsPayment.Choices[0].Next).toBe('Payment');
  });

  it('lets only the webhook, the retry route and the payment steps resume the workflow, on this state machine alone', () => {
    const resumers = identityPolicies()
      .flatMap((p) => p.statements.map((s) => ({ s, roles: p.roles })))
      .filter(({ s }) => [s.Action].flat().some((a) => a.startsWith('states:SendTask')));
    const resumerEntries = new Set(['functions/http/stripe-webhook.ts', 'functions/http/retry-payment.ts', 'functions/workflow/payment-steps.ts']);
    const allowedRoles = ofType('AWS::Lambda::Function').filter(([, fn]) => resumerEntries.has(fn.Metadata?.['BookingEngine:Entry'])).map(([, fn]) => refId(fn.Properties.Role));
    expect(resumers.length).toBeGreaterThanOrEqual(3);
    const machineName = resources[machineId]!.Properties.StateMachineName as string;
    for (const { s, roles } of resumers) {
      expect(allowedRoles).toEqual(expect.arrayContaining(roles));
      expect([s.Action].flat().sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess']);
      // By reference, or (for the payment steps, which the machine itself invokes) by the machine's name.
      if (refId(s.Resource) !== machineId) expect(JSON.stringify(s.Resource)).toContain(`:stateMachine:${machineName}`);
    }
  });

  it('refunds on booking.cancelled, booking.rejected and booking.creation.failed, with retries and a DLQ', () => {
    const rule = ofType('AWS::Events::Rule').find(([, r]) => JSON.stringify(r.Properties.Targets).includes(functionOf('subscribers/refund-payments')))![1].Properties;
    expect(rule.EventPattern['detail-type'].sort()).toEqual(['booking.cancelled', 'booking.creation.failed', 'booking.rejected']);
    expect(rule.Targets[0].RetryPolicy.MaximumRetryAttempts).toBe(8);
    expect(refId(rule.Targets[0].DeadLetterConfig.Arn)).toMatch(/^PaymentsRefundPaymentsDLQ/);
  });
});
