// A real CalDAV server for the local stack and the tests: Debian's `radicale` (apt-get install radicale), run as
// a child process on 127.0.0.1 with its collections and log under a data directory. Logins live in an
// htpasswd file this module writes (plain: a dev server on loopback; no apache2-utils needed). Every login gets
// a calendar "calendar" that holds VEVENTs. Radicale logs at `info`, one line per request and one per response,
// so what a sync cycle costs can be read in its log (radicale.log in the data directory).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, portInUse } from './dynamodb-local.ts';

/** The dev login `npm start` prints in its banner. Local only: Radicale listens on 127.0.0.1. */
export const DEV_CALDAV_LOGIN = { username: 'dev-organizer', password: 'dev-caldav-password' } as const;
/** The calendar every login gets: `<url>/<username>/calendar/`. */
export const DEFAULT_CALENDAR = 'calendar';

export type CaldavServer = {
  /** The server's root, with a trailing slash (discovery starts here or from any URL below it). */
  url: string;
  port: number;
  logFile: string;
  users: Record<string, string>;
  /** `<url><username>/calendar/` */
  calendarUrl(username: string): string;
  close(): Promise<void>;
};

export type CaldavServerOptions = {
  /** CALDAV_PORT for npm start (3008); a free one when absent. */
  port?: number;
  /** Collections, htpasswd, config and radicale.log go here. */
  dataDir: string;
  /** username → password; the dev login when absent. */
  users?: Record<string, string>;
  /** How long to wait for GET /.web/ to answer. */
  readyTimeoutMs?: number;
};

/** Whether the `radicale` command is on PATH. */
export function radicaleInstalled(): boolean {
  const probe = spawnSync('radicale', ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

export const RADICALE_MISSING = 'CalDAV (Radicale) is not installed: apt-get install radicale, then npm start again. Going on without CalDAV.';

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

export async function startCaldavServer(options: CaldavServerOptions): Promise<CaldavServer> {
  const port = options.port || (await freePort());
  if (await portInUse(port)) throw new Error(`port ${port} is already in use (an earlier npm start?): stop it or choose another port with CALDAV_PORT`);
  const users = options.users ?? { [DEV_CALDAV_LOGIN.username]: DEV_CALDAV_LOGIN.password };
  for (const [name, password] of Object.entries(users)) {
    // The htpasswd format has no escaping: a colon or line break would make another login.
    if (!/^[\w.@-]{1,64}$/.test(name) || /[\r\n]/.test(password)) throw new Error(`caldav user "${name}": names are [A-Za-z0-9_.@-], passwords one line`);
  }
  mkdirSync(join(options.dataDir, 'collections'), { recursive: true });
  const htpasswd = join(options.dataDir, 'users');
  writeFileSync(htpasswd, Object.entries(users).map(([name, password]) => `${name}:${password}\n`).join(''), { mode: 0o600 });
  const config = join(options.dataDir, 'radicale.conf');
  writeFileSync(
    config,
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${htpasswd}`,
      'htpasswd_encryption = plain',
      // Radicale delays a failed login by default, which would only slow the wrong-password tests.
      'delay = 0',
      '[storage]',
      `filesystem_folder = ${join(options.dataDir, 'collections')}`,
      '[rights]',
      'type = owner_only',
      '[logging]',
      'level = info',
      'mask_passwords = True',
      '',
    ].join('\n'),
  );
  const logFile = join(options.dataDir, 'radicale.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));
  const child: ChildProcess = spawn('radicale', ['--config', config], { stdio: ['ignore', log, log] });
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `radicale exited (${signal ?? code}); see ${logFile}`;
      resolve();
    }),
  );
  child.once('error', (error) => (exited = `radicale could not be started: ${error.message}`));

  const url = `http://127.0.0.1:${port}/`;
  const close = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    log.end();
  };
  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (exited) throw new Error(exited);
      const ready = await fetch(`${url}.web/`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`radicale did not answer on ${url} in time; see ${logFile}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const [name, password] of Object.entries(users)) await ensureCalendar(url, name, password);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, port, logFile, users, calendarUrl: (username) => `${url}${username}/${DEFAULT_CALENDAR}/`, close };
}

/** MKCALENDAR `<user>/calendar/` for VEVENTs unless it exists (Radicale makes the principal on first login). */
async function ensureCalendar(url: string, username: string, password: string): Promise<void> {
  const calendar = `${url}${username}/${DEFAULT_CALENDAR}/`;
  const headers = { authorization: basic(username, password) };
  const probe = await fetch(calendar, { method: 'PROPFIND', headers: { ...headers, depth: '0' } });
  await probe.arrayBuffer();
  if (probe.status === 207) return;
  const made = await fetch(calendar, {
    method: 'MKCALENDAR',
    headers: { ...headers, 'content-type': 'application/xml; charset=utf-8' },
    body: `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
<D:displayname>Calendar</D:displayname>
<C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
</D:prop></D:set></C:mkcalendar>`,
  });
  const text = await made.text();
  if (made.status !== 201) throw new Error(`MKCALENDAR ${calendar}: ${made.status} ${text.slice(0, 200)}`);
}
