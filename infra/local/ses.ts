// Plays SES for the template's configuration sets: aws-ses-v2-local on 127.0.0.1, where every mail sent
// through the SES API is kept and can be read back (GET /store, or the web view at its root). Bounces,
// complaints and the suppression list are not emulated: every address accepts mail here.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sesLocal from 'aws-ses-v2-local';

type Start = (config: { host: string; port: number }) => Promise<Server>;
const start = ((sesLocal as unknown as { default: { default?: Start } | Start }).default as { default?: Start }).default ?? ((sesLocal as unknown as { default: Start }).default);

export type LocalSes = { url: string; close(): Promise<void> };

export async function startLocalSes(port = 0): Promise<LocalSes> {
  const server = await start({ host: '127.0.0.1', port });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
