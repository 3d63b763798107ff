import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredentials, sealCredentials } from '../../shared/calendars/vault.ts';
import { jwtVerify, SignJWT } from 'jose';
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

  it('is a JWT (HS256) as jose writes and reads one, both ways', async () => {
    const now = new Date();
    const ours = await signState(key, { organizerId: 'org-1', provider: 'microsoft' }, now);
    const { payload, protectedHeader } = await jwtVerify(ours, key, { audience: 'calendar-oauth-callback', algorithms: ['HS256'], currentDate: now });
    expect(protectedHeader).toEqual({ alg: 'HS256' });
    expect(payload).toMatchObject({ sub: 'org-1', provider: 'microsoft', nonce: expect.any(String), iat: Math.floor(now.getTime() / 1000), exp: Math.floor(now.getTime() / 1000) + STATE_TTL_SECONDS });
    const theirs = await new SignJWT({ provider: 'google', nonce: 'n-1' }).setProtectedHeader({ alg: 'HS256' }).setSubject('org-9').setAudience('calendar-oauth-callback').setIssuedAt().setExpirationTime('10m').sign(key);
    expect(await verifyState(key, theirs, 'google')).toEqual({ organizerId: 'org-9', provider: 'google', nonce: 'n-1' });
  });

  it('refuses another algorithm, another audience, a critical header, a second spelling of the signature, and expires at exp', async () => {
    const now = new Date('2026-12-02T10:00:00Z');
    const claims = { provider: 'google', nonce: 'n-1' };
    const signed = (header: Record<string, unknown>, audience = 'calendar-oauth-callback') =>
      new SignJWT(claims).setProtectedHeader(header as { alg: string }).setSubject('org-1').setAudience(audience).setIssuedAt(now).setExpirationTime(new Date(now.getTime() + 600_000)).sign(key);
    expect(await verifyState(key, await signed({ alg: 'HS512' }), 'google', now)).toEqual({ refused: expect.stringMatching(/not one of ours/) });
    expect(await verifyState(key, await signed({ alg: 'HS256' }, 'elsewhere'), 'google', now)).toEqual({ refused: expect.stringMatching(/not one of ours/) });
    expect(await verifyState(key, await signed({ alg: 'HS256', typ: 'JWT' }), 'google', now)).toEqual({ refused: expect.stringMatching(/not one of ours/) });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, sub: 'org-1', aud: 'calendar-oauth-callback', exp: 2e9 })).toString('base64url')}.`;
    expect(await verifyState(key, unsigned, 'google', now)).toEqual({ refused: expect.stringMatching(/not one of ours/) });
    const state = await signState(key, { organizerId: 'org-1', provider: 'google' }, now);
    // The signature's last character carries 2 unused bits (32 bytes in 43 characters): another letter, the same bytes.
    const last = state.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)]!;
    expect(Buffer.from(state.slice(state.lastIndexOf('.') + 1, -1) + twin, 'base64url')).toEqual(Buffer.from(state.slice(state.lastIndexOf('.') + 1), 'base64url'));
    expect(await verifyState(key, state.slice(0, -1) + twin, 'google', now)).toEqual({ refused: expect.stringMatching(/not one of ours/) });
    expect(await verifyState(key, state, 'google', new Date(now.getTime() + (STATE_TTL_SECONDS - 1) * 1000))).toMatchObject({ organizerId: 'org-1' });
    expect(await verifyState(key, state, 'google', new Date(now.getTime() + STATE_TTL_SECONDS * 1000))).toEqual({ refused: expect.stringMatching(/10 minutes/) });
  });
});
