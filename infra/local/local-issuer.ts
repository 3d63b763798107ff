// Stands in for the Cognito user pool locally: an ES256 key pair kept in the data folder signs organizer
// tokens, and its public half is served as a JWKS under the issuer URL, so handlers verify tokens exactly as
// they do in the cloud (issuer, JWKS, audience).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

export const LOCAL_AUDIENCE = 'local-client';
const KEY_FILE = 'issuer-key.json';

export type LocalIssuer = {
  issuer: string;
  audience: string;
  jwks: { keys: JWK[] };
  sign(userId: string, claims?: Record<string, unknown>, expiresIn?: string): Promise<string>;
  verify(token: string): Promise<JWTPayload>;
};

async function loadOrCreateKey(dataDir: string): Promise<JWK> {
  const file = join(dataDir, KEY_FILE);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `local-${Date.now()}`, alg: 'ES256', use: 'sig' };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

export async function localIssuer(dataDir: string, issuer: string): Promise<LocalIssuer> {
  const privateJwk = await loadOrCreateKey(dataDir);
  const { d: _, ...publicJwk } = privateJwk;
  const privateKey = await importJWK(privateJwk, 'ES256');
  const publicKey = await importJWK(publicJwk, 'ES256');
  return {
    issuer,
    audience: LOCAL_AUDIENCE,
    jwks: { keys: [publicJwk] },
    sign: (userId, claims = {}, expiresIn = '12h') =>
      new SignJWT({ ...claims, token_use: 'id' })
        .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
        .setSubject(userId)
        .setIssuer(issuer)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey),
    verify: async (token) => (await jwtVerify(token, publicKey, { issuer, audience: LOCAL_AUDIENCE })).payload,
  };
}
