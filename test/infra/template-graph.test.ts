// The synthesized template's reference graph: CloudFormation refuses a stack whose resources reference or depend
// on each other in a circle ("Circular dependency between resources"), and `cdk synth` does not check it. Moving
// the roles' policies inline (infra/constructs/inline-role-policies.ts) is the kind of change that can close one:
// a role that names a resource which itself waits for the role.
import { describe, expect, inject, it } from 'vitest';

type Template = { Resources: Record<string, { Type: string; Properties?: unknown; DependsOn?: string | string[] }>; Parameters?: Record<string, unknown> };

/** Logical ids a value references: Ref, Fn::GetAtt (both forms) and the ${Id} / ${Id.Attr} of Fn::Sub. */
function referencesIn(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, out);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') out.add(inner);
      else if (key === 'Fn::GetAtt') out.add(typeof inner === 'string' ? inner.split('.')[0]! : String((inner as unknown[])[0]));
      else if (key === 'Fn::Sub') {
        const [text, variables] = typeof inner === 'string' ? [inner, {}] : (inner as [string, Record<string, unknown>]);
        for (const [, name] of text.matchAll(/\$\{([^!}][^}]*)\}/g)) if (!(name! in variables)) out.add(name!.split('.')[0]!);
        referencesIn(variables, out);
      } else referencesIn(inner, out);
    }
  }
  return out;
}

/** resource -> the resources it must wait for (references and DependsOn), within the template. */
function dependencyGraph(template: Template): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const edges = referencesIn(resource.Properties);
    for (const dependency of [resource.DependsOn ?? []].flat()) edges.add(dependency);
    graph.set(id, new Set([...edges].filter((target) => target in template.Resources)));
  }
  return graph;
}

/** One cycle of the graph, as the ids along it (first repeated at the end), or undefined. Iterative DFS. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of graph.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const stack: Array<{ id: string; next: Iterator<string> }> = [{ id: start, next: graph.get(start)!.values() }];
    state.set(start, 'open');
    path.push(start);
    while (stack.length) {
      const top = stack.at(-1)!;
      const step = top.next.next();
      if (step.done) {
        state.set(top.id, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      const target = step.value;
      if (state.get(target) === 'open') return [...path.slice(path.indexOf(target)), target];
      if (state.has(target)) continue;
      state.set(target, 'open');
      path.push(target);
      stack.push({ id: target, next: graph.get(target)!.values() });
    }
  }
  return undefined;
}

const template = inject('template') as unknown as Template;

describe('the template reference graph', () => {
  it('has no cycle among its resources', () => {
    const graph = dependencyGraph(template);
    expect(graph.size).toBeGreaterThan(100);
    expect([...graph.values()].reduce((n, edges) => n + edges.size, 0)).toBeGreaterThan(graph.size);
    expect(findCycle(graph)).toBeUndefined();
  });

  it('references only resources, parameters and pseudo parameters that exist', () => {
    const known = new Set([...Object.keys(template.Resources), ...Object.keys(template.Parameters ?? {})]);
    for (const [id, resource] of Object.entries(template.Resources)) {
      const references = [...referencesIn(resource.Properties), ...[resource.DependsOn ?? []].flat()];
      for (const target of references) if (!target.startsWith('AWS::')) expect(known.has(target), `${id} references ${target}`).toBe(true);
    }
  });

  it('keeps every role policy inline: no AWS::IAM::Policy resources, and every function role carries its statements', () => {
    const resources = Object.entries(template.Resources);
    expect(resources.filter(([, r]) => r.Type === 'AWS::IAM::Policy').map(([id]) => id)).toEqual([]);
    const roles = resources.filter(([, r]) => r.Type === 'AWS::IAM::Role');
    const withPolicies = roles.filter(([, r]) => ((r.Properties as { Policies?: unknown[] }).Policies ?? []).length > 0);
    expect(withPolicies.length).toBeGreaterThan(roles.length / 2);
    for (const [id, role] of withPolicies) {
      const names = (role.Properties as { Policies: Array<{ PolicyName: string; PolicyDocument: { Statement: unknown[] } }> }).Policies.map((p) => p.PolicyName);
      expect(new Set(names).size, `${id} policy names are unique`).toBe(names.length);
      for (const policy of (role.Properties as { Policies: Array<{ PolicyDocument: { Statement: unknown[] } }> }).Policies) expect(policy.PolicyDocument.Statement.length).toBeGreaterThan(0);
    }
  });

  describe('the cycle check itself', () => {
    const resource = (properties: unknown, dependsOn?: string[]) => ({ Type: 'AWS::Test::Thing', Properties: properties, DependsOn: dependsOn });

    it('finds a cycle closed by Ref and Fn::GetAtt', () => {
      const graph = dependencyGraph({ Resources: { A: resource({ X: { Ref: 'B' } }), B: resource({ Y: { 'Fn::GetAtt': ['C', 'Arn'] } }), C: resource({ Z: { Ref: 'A' } }) } });
      expect(findCycle(graph)).toEqual(['A', 'B', 'C', 'A']);
    });

    it('finds a cycle closed by Fn::Sub or DependsOn, and ignores Sub variables, escapes and pseudo parameters', () => {
      expect(findCycle(dependencyGraph({ Resources: { A: resource({ X: { 'Fn::Sub': 'arn:${B.Arn}/x' } }), B: resource({}, ['A']) } }))).toEqual(['A', 'B', 'A']);
      const acyclic = dependencyGraph({
        Resources: {
          A: resource({ X: { 'Fn::Sub': ['${B}${!A}${AWS::Region}', { B: { Ref: 'C' } }] } }),
          B: resource({ Y: { Ref: 'A' } }),
          C: resource({ Z: 'A' }),
        },
      });
      expect(acyclic.get('A')).toEqual(new Set(['C']));
      expect(findCycle(acyclic)).toBeUndefined();
    });
  });
});
