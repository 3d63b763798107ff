// Plays EventBridge's routing: the template's rules on each bus, their event patterns, and their targets, with
// Lambda's asynchronous-invocation semantics (retries, then the function's dead-letter queue) and the rule
// target's own dead-letter queue when delivery itself fails. Each target receives events one at a time in the
// order they were put, which AWS does not promise; clients still order by (aggregateId, version).
import { compileEventPattern, type EventMatcher } from './event-pattern.ts';
import type { BusEvent, DeliveredEvent } from './eventbridge-endpoint.ts';
import { logicalIdOfArn, type TemplateResolver } from './template-resolver.ts';

export type TargetKind = 'lambda' | 'state-machine';

export type LocalRule = {
  logicalId: string;
  busName: string;
  matches: EventMatcher;
  targets: Array<{ id: string; kind: TargetKind; resourceId: string; retryAttempts: number; deadLetterQueueArn?: string }>;
};

export type Deliveries = {
  lambda: (functionId: string, event: DeliveredEvent) => Promise<void>;
  'state-machine': (stateMachineId: string, event: DeliveredEvent) => Promise<void>;
  deadLetter: (queueArn: string, body: string, attributes: Record<string, string>) => Promise<void>;
  log: (message: string) => void;
};

export function rulesOf(resolver: TemplateResolver): LocalRule[] {
  return resolver.ofType('AWS::Events::Rule').map(([logicalId, resource]) => {
    const properties = resolver.resolve(resource.Properties ?? {});
    if (properties.ScheduleExpression) throw new Error(`rule ${logicalId}: scheduled rules are not run locally`);
    return {
      logicalId,
      busName: properties.EventBusName ?? 'default',
      matches: compileEventPattern(properties.EventPattern),
      targets: (properties.Targets ?? []).map((target: Record<string, any>) => {
        const arn = String(target.Arn);
        const kind: TargetKind | undefined = arn.includes(':lambda:') ? 'lambda' : arn.includes(':states:') ? 'state-machine' : undefined;
        if (!kind) throw new Error(`rule ${logicalId}: target ${arn} is of a kind the local bus does not deliver to`);
        return {
          id: String(target.Id),
          kind,
          resourceId: logicalIdOfArn(arn),
          retryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? 185,
          deadLetterQueueArn: target.DeadLetterConfig?.Arn,
        };
      }),
    };
  });
}

export class LocalEventBus {
  private readonly rules: LocalRule[];
  private readonly deliveries: Deliveries;
  /** One queue per (rule, target), so each target sees events in the order they arrived. */
  private readonly queues = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly functionRetries: (functionId: string) => { retries: number; deadLetterQueueArn?: string };

  constructor(rules: LocalRule[], deliveries: Deliveries, functionRetries: LocalEventBus['functionRetries']) {
    this.rules = rules;
    this.deliveries = deliveries;
    this.functionRetries = functionRetries;
  }

  put(events: BusEvent[]): void {
    for (const { eventBusName, event } of events) {
      for (const rule of this.rules) {
        if (rule.busName !== eventBusName || !rule.matches(event)) continue;
        for (const target of rule.targets) {
          const key = `${rule.logicalId}/${target.id}`;
          const previous = this.queues.get(key) ?? Promise.resolve();
          this.inFlight++;
          const next = previous.then(() => this.deliver(rule, target, event)).finally(() => void this.inFlight--);
          this.queues.set(key, next);
        }
      }
    }
  }

  /** Deliveries put and not yet delivered or parked. */
  pending(): number {
    return this.inFlight;
  }

  /** Resolves once every event put so far has been delivered or parked. */
  async drained(): Promise<void> {
    let size = -1;
    while (size !== this.queues.size) {
      size = this.queues.size;
      await Promise.all(this.queues.values());
    }
  }

  private async deliver(rule: LocalRule, target: LocalRule['targets'][number], event: DeliveredEvent): Promise<void> {
    try {
      if (target.kind === 'state-machine') {
        await this.deliveries['state-machine'](target.resourceId, event);
        return;
      }
      // EventBridge hands the event to Lambda asynchronously: Lambda retries a failing function, then sends
      // the event, intact, to the function's dead-letter queue.
      const { retries, deadLetterQueueArn } = this.functionRetries(target.resourceId);
      let lastError: unknown;
      for (let attempt = 0; attempt <= retries; attempt++) {
        try {
          await this.deliveries.lambda(target.resourceId, event);
          return;
        } catch (error) {
          lastError = error;
          this.deliveries.log(`${target.resourceId} failed on ${event['detail-type']} (attempt ${attempt + 1} of ${retries + 1}): ${(error as Error).message}`);
          if (attempt < retries) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        }
      }
      if (deadLetterQueueArn) {
        await this.deliveries.deadLetter(deadLetterQueueArn, JSON.stringify(event), {
          ErrorMessage: String((lastError as Error)?.message ?? lastError),
          RequestID: event.id,
        });
      }
    } catch (error) {
      // Delivery itself failed (the target is missing, the dead-letter write broke): the rule's own DLQ.
      this.deliveries.log(`rule ${rule.logicalId} could not deliver to ${target.resourceId}: ${(error as Error).message}`);
      if (target.deadLetterQueueArn) {
        await this.deliveries.deadLetter(target.deadLetterQueueArn, JSON.stringify(event), { ERROR_MESSAGE: String((error as Error).message), RULE_ARN: rule.logicalId, TARGET_ARN: target.resourceId });
      }
    }
  }
}
