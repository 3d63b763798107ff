// `npm run --silent token -- <userId> [--org <organizationId>]`: prints a token the local stack accepts.
import { localIssuer } from './local-issuer.ts';
import { defaultDataDir, readStackFile } from './stack-file.ts';

const [userId, ...rest] = process.argv.slice(2);
if (!userId || userId.startsWith('-')) {
  console.error('usage: npm run --silent token -- <userId> [--org <organizationId>]');
  process.exit(2);
}
const org = rest[0] === '--org' ? rest[1] : undefined;
const issuerUrl = readStackFile(defaultDataDir)?.issuer ?? `http://127.0.0.1:${process.env.HTTP_PORT ?? 3000}/local-issuer`;
const issuer = await localIssuer(defaultDataDir, issuerUrl);
console.log(await issuer.sign(userId, org ? { org } : {}));
