import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the local stack keeps its data unless DATA_DIR says otherwise: .local/ in the project. */
export const defaultDataDir = resolve(process.env.DATA_DIR ?? join(fileURLToPath(new URL('../../', import.meta.url)), '.local'));

/** What a running local stack tells the CLIs (token, dlq, projections, stripe) about itself. */
export type StackFile = { httpUrl: string; wsUrl: string; sqsEndpoint: string; controlUrl: string; dynamoEndpoint: string; stripeUrl?: string; issuer: string; pid: number };

export function writeStackFile(dataDir: string, info: StackFile): void {
  writeFileSync(join(dataDir, 'stack.json'), JSON.stringify(info, null, 2));
}

export function readStackFile(dataDir: string): StackFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
}
