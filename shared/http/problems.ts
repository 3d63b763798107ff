import type * as z from '../../events/zod.ts';

export type FieldError = { path: string; message: string };

/**
 * An RFC 9457 problem. `type` is a stable relative URI per kind of problem so clients can branch on it;
 * `errors` lists the failing fields of a validation problem by their dotted path.
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(status: number, type: string, title: string, detail?: string, extra: { errors?: FieldError[]; headers?: Record<string, string> } = {}) {
    super(detail ?? title);
    this.status = status;
    this.type = type;
    this.title = title;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }
}

export const problems = {
  invalidBody: (errors: FieldError[]) =>
    new HttpProblem(400, '/problems/validation', 'Your request is not valid', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors }),
  unprocessable: (errors: FieldError[]) =>
    new HttpProblem(422, '/problems/unprocessable', 'Your request cannot be carried out', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors }),
  unauthorized: (detail = 'a valid bearer token is required') =>
    new HttpProblem(401, '/problems/unauthorized', 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } }),
  forbidden: (detail: string) => new HttpProblem(403, '/problems/forbidden', 'Forbidden', detail),
  notFound: (what: string) => new HttpProblem(404, '/problems/not-found', 'Not found', `${what} does not exist`),
  conflict: (type: string, title: string, detail: string) => new HttpProblem(409, `/problems/${type}`, title, detail),
};

export function fieldErrors(issues: readonly z.core.$ZodIssue[], prefix: string[] = []): FieldError[] {
  const pathOf = (path: PropertyKey[]) => [...prefix, ...path.map(String)].join('.') || '(body)';
  // A strict body names each field it does not know at that field's own path.
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'is not a field of this request' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}
