/** A variable the stack sets for this function; its absence is a wiring mistake, reported as one. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
