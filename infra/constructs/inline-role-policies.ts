import { Lazy, Stack, Tokenization, type IAspect } from 'aws-cdk-lib';
import { CfnPolicy, CfnRole, Policy } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * Moves every identity policy attached to exactly one role of the stack into that role's `Policies` property,
 * and drops the separate AWS::IAM::Policy resource. CDK gives each role a DefaultPolicy resource of its own;
 * that is one resource per function for nothing, and CloudFormation allows 500 per stack. The statements are
 * the very same objects (the policy document is resolved at synthesis, so grants added later still land), so
 * least privilege is unchanged; test/infra/stack.test.ts asserts the grants and that no policy resource is left.
 *
 * Ordering is kept: whatever waited for the policy (a grant's `applyBefore`, a construct dependency) now waits
 * for the role, which carries the statements; whatever the policy waited for, the role waits for. A policy on
 * several roles, or on users or groups, is left as it is. test/infra/template-graph.test.ts checks that the
 * references and DependsOn of the result have no cycle (an inline policy that names a resource depending on its
 * own role would be one, and CloudFormation refuses it).
 */
export class InlineRolePolicies implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof Stack) inlineRolePolicies(node);
  }
}

type Inlined = { name: string; policy: Policy };

function inlineRolePolicies(stack: Stack): void {
  const all = stack.node.findAll();
  const rolesByLogicalId = new Map<string, CfnRole>();
  for (const c of all) if (c instanceof CfnRole && Stack.of(c) === stack) rolesByLogicalId.set(stack.resolve(c.logicalId) as string, c);

  const inlinedInto = new Map<CfnRole, Inlined[]>();
  const roleOf = new Map<IConstruct, CfnRole>();
  for (const policy of all) {
    if (!(policy instanceof Policy) || Stack.of(policy) !== stack) continue;
    const resource = policy.node.tryFindChild('Resource');
    if (!(resource instanceof CfnPolicy)) continue;
    if ((stack.resolve(resource.users) as unknown[] | undefined)?.length || (stack.resolve(resource.groups) as unknown[] | undefined)?.length) continue;
    const roles = (stack.resolve(resource.roles) as Array<{ Ref?: string }> | undefined) ?? [];
    const role = roles.length === 1 && roles[0]!.Ref ? rolesByLogicalId.get(roles[0]!.Ref) : undefined;
    if (!role) continue;

    // What the policy waited for, the role now waits for.
    for (const dependency of [...policy.node.dependencies, ...resource.node.dependencies]) role.node.addDependency(dependency);
    for (const dependency of resource.obtainDependencies()) if (dependency !== role) role.node.addDependency(dependency);
    policy.node.tryRemoveChild('Resource');
    roleOf.set(policy, role);
    roleOf.set(resource, role);

    const inlined = inlinedInto.get(role) ?? [];
    const taken = new Set(inlined.map((p) => p.name));
    let name = policy.node.id;
    for (let n = 2; taken.has(name); n++) name = `${policy.node.id}${n}`;
    inlined.push({ name, policy });
    inlinedInto.set(role, inlined);
  }

  // What waited for a policy now waits for its role.
  for (const c of all) {
    for (const dependency of c.node.dependencies) {
      const role = roleOf.get(dependency);
      if (role && c !== role && !role.node.scope?.node.findAll().includes(c)) c.node.addDependency(role);
    }
  }

  for (const [role, inlined] of inlinedInto) {
    const declared = role.policies;
    role.policies = Lazy.any({
      produce: () => {
        const existing = ((Tokenization.isResolvable(declared) ? stack.resolve(declared) : declared) ?? []) as unknown[];
        // An empty document is no policy (CDK would not have rendered the resource either).
        const added = inlined.filter(({ policy }) => !policy.document.isEmpty).map(({ name, policy }) => ({ policyName: name, policyDocument: policy.document }));
        const policies = [...existing, ...added];
        return policies.length ? policies : undefined;
      },
    }) as never;
  }
}
