import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredentials, sealCredentials } from '../../shared/calendars/vault.ts';
import { signState, STATE_TTL_SECONDS, verifyState } from '../../shared/calendars/oauth-state.ts';

const dir = mkdtempSync(join(tmpdir(), 'vault-'));
const credentials = { kind: 'oauth', refreshToken: '1//refresh-token-of-grace', accessToken: 'ya29.access' } as const;

beforeAll(() => {
  const file = join(dir, 'key');
  writeFileSync(file, randomBytes(32));
  process.env.CALENDAR_KEY_FILE = file;
});
afterAll(() => {
  delete process.env.CALENDAR_KEY_FILE;
  rmSync(dir, { recursive: true, force: true });
});

describe('the credential vault (envelope encryption, the local key file as master key)', () => {
  it('seals and opens; the sealed form shows nothing of the secret, and two seals differ', async () => {
    const sealed = await sealCredentials('cal-1', credentials);
    expect(JSON.stringify(sealed)).not.toContain('refresh-token');
    expect(JSON.stringify(sealed)).not.toContain('ya29');
    expect(await openCredentials('cal-1', sealed)).toEqual(credentials);
    const again = await sealCredentials('cal-1', credentials);
    expect(again.ciphertext).not.toBe(sealed.ciphertext);
    expect(again.encryptedKey).not.toBe(sealed.encryptedKey);
  });

  it('a sealed blob copied onto another connection does not open, nor one changed by a bit', async () => {
    const sealed = await sealCredentials('cal-1', credentials);
    await expect(openCredentials('cal-2', sealed)).rejects.toThrow();
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0]! ^= 1;
    await expect(openCredentials('cal-1', { ...sealed, ciphertext: bytes.toString('base64') })).rejects.toThrow();
  });

  it('another master key cannot open it', async () => {
    const sealed = await sealCredentials('cal-1', credentials);
    const other = join(dir, 'other');
    writeFileSync(other, randomBytes(32));
    const before = process.env.CALENDAR_KEY_FILE;
    process.env.CALENDAR_KEY_FILE = other;
    try {
      await expect(openCredentials('cal-1', sealed)).rejects.toThrow();
    } finally {
      process.env.CALENDAR_KEY_FILE = before;
    }
  });
});

describe('the OAuth state', () => {
  const key = randomBytes(32);
  it('names its organizer and provider, and is refused for the other provider, another key, or once expired', async () => {
    const now = new Date();
    const state = await signState(key, { organizerId: 'org-1', provider: 'google' }, now);
    expect(await verifyState(key, state, 'google')).toMatchObject({ organizerId: 'org-1', provider: 'google', nonce: expect.any(String) });
    expect(await verifyState(key, state, 'microsoft')).toEqual({ refused: expect.any(String) });
    expect(await verifyState(randomBytes(32), state, 'google')).toEqual({ refused: expect.any(String) });
    const old = await signState(key, { organizerId: 'org-1', provider: 'google' }, new Date(now.getTime() - (STATE_TTL_SECONDS + 60) * 1000));
    expect(await verifyState(key, old, 'google')).toEqual({ refused: expect.stringMatching(/10 minutes/) });
    const [header, payload, signature] = state.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'org-2' })).toString('base64url');
    expect(await verifyState(key, `${header}.${forged}.${signature}`, 'google')).toEqual({ refused: expect.any(String) });
    expect(await verifyState(key, 'x'.repeat(3000), 'google')).toEqual({ refused: expect.any(String) });
  });
});
