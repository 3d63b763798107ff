// cdk-nag's AwsSolutions pack on the stack as `npm run synth` builds it (bundling skipped): no finding that is
// not acknowledged, and every acknowledgement (infra/constructs/nag-acknowledgements.ts) carries its reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { BookingStack } from '../../infra/booking-stack.ts';

type Violation = { ruleName: string; violatingConstructs: Array<{ constructPath: string }> };

/** Synthesizes the stack `build` makes under the AwsSolutions pack; the findings no acknowledgement covers. */
function nag(build: (app: App) => Stack): { stack: Stack; violations: string[] } {
  const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
  try {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
    const stack = build(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
      return { stack, violations: [] };
    } catch (error) {
      if (!/Validation ?Failed/i.test(String(error))) throw error;
      const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: Violation[] }> };
      const violations = report.pluginReports.flatMap((plugin) => plugin.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
      return { stack, violations };
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack, and every acknowledgement gives its reason', () => {
    const { stack, violations } = nag((app) => new BookingStack(app, 'BookingEngine'));
    expect(violations).toEqual([]);
    const acknowledgements = stack.node.findAll().flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id, reason }))),
    );
    expect(acknowledgements.length).toBeGreaterThan(100);
    for (const { id, reason } of acknowledgements) {
      expect(reason, id).not.toMatch(/UNREASONED/);
      expect(reason.length, id).toBeGreaterThan(30);
    }
  }, 120_000);

  it('does check: a queue nobody argued for is a finding', () => {
    const { violations } = nag((app) => {
      const stack = new Stack(app, 'Bare');
      new Queue(stack, 'Unargued');
      return stack;
    });
    expect(violations.some((v) => v.startsWith('AwsSolutions-SQS'))).toBe(true);
  }, 60_000);
});
