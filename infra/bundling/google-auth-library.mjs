// What `google-auth-library` is in a Lambda bundle (infra/bundling/calendar-libraries.ts): its
// OAuth2Client, which the Google adapter uses (a refresh token of the organizer's), and nothing else.
// googleapis-common re-exports the whole library (CommonJS, so the bundler cannot drop what no one calls):
// GoogleAuth with its GCE metadata server, JWT and service-account keys, external-account, AWS and
// impersonated clients, about 80 KB minified. Those names stay, as classes that fail loudly if used: GoogleAuth
// is constructed at load (googleapis' `auth` is an AuthPlus, a GoogleAuth), so only its methods throw.
import oauth2 from '../../node_modules/google-auth-library/build/src/auth/oauth2client.js';

export const OAuth2Client = oauth2.OAuth2Client;
export const CodeChallengeMethod = oauth2.CodeChallengeMethod;
export const ClientAuthentication = oauth2.ClientAuthentication;

const leftOut = (name) => new Error(`google-auth-library's ${name} is left out of this bundle (infra/bundling/google-auth-library.mjs): only OAuth2Client is bundled`);

/** Constructed at load by googleapis-common's AuthPlus; every use of it throws. */
export class GoogleAuth {
  getClient() { throw leftOut('GoogleAuth'); }
  getProjectId() { throw leftOut('GoogleAuth'); }
  getAccessToken() { throw leftOut('GoogleAuth'); }
  getRequestHeaders() { throw leftOut('GoogleAuth'); }
  request() { throw leftOut('GoogleAuth'); }
  fromJSON() { throw leftOut('GoogleAuth'); }
  getCredentials() { throw leftOut('GoogleAuth'); }
}

const absent = (name) => class {
  constructor() { throw leftOut(name); }
};
export const JWT = absent('JWT');
export const Compute = absent('Compute');
export const UserRefreshClient = absent('UserRefreshClient');
export const ExternalAccountClient = absent('ExternalAccountClient');
export const BaseExternalAccountClient = absent('BaseExternalAccountClient');
export const IdentityPoolClient = absent('IdentityPoolClient');
export const AwsClient = absent('AwsClient');
export const PluggableAuthClient = absent('PluggableAuthClient');
export const DownscopedClient = absent('DownscopedClient');
export const Impersonated = absent('Impersonated');
export const IdTokenClient = absent('IdTokenClient');
export const GoogleToken = absent('GoogleToken');
export const auth = new GoogleAuth();
