// The mail subscriber composes MIME with nodemailer's MailComposer, and every part it writes names its content
// type (text/plain, text/html, text/calendar, application/ics). Two modules it pulls in are not reached then:
// the table of 1,000-odd file extensions and MIME types (74 KB minified) that guesses a type from an
// attachment's file name, and the HTTP client that fetches an attachment given by URL. The stand-ins know the
// few types our parts have and fail loudly on anything else (test/unit/notification-plan.test.ts composes the
// mails with the bundled composer).
import type { Plugin } from 'esbuild';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const leftOutModule = fileURLToPath(new URL('./left-out.mjs', import.meta.url));

/** The file extensions and MIME types the stand-in knows: those of the parts the mails have. */
export const keptMimeTypes: Record<string, string> = { txt: 'text/plain', html: 'text/html', ics: 'text/calendar' };

const mimeTypesStandIn = `
const types = new Map(Object.entries(${JSON.stringify(keptMimeTypes)}));
const extensions = new Map([...types].map(([extension, type]) => [type, extension]));
const fail = (what) => {
  throw new Error(\`nodemailer's MIME type table is left out of this bundle, and \${what} is not among keptMimeTypes (infra/bundling/nodemailer-trim.ts): name the part's contentType, or add it there\`);
};
export function detectMimeType(filename) {
  const extension = String(filename ?? '').split('?')[0].split('.').pop().trim().toLowerCase();
  return types.get(extension) ?? fail(\`the file name "\${filename}"\`);
}
export function detectExtension(mimeType) {
  const type = String(mimeType ?? '').split(';')[0].trim().toLowerCase();
  return extensions.get(type) ?? fail(\`the type "\${mimeType}"\`);
}
`;

export const nodemailerTrim: Plugin = {
  name: 'nodemailer-trim',
  setup(build) {
    build.onLoad({ filter: /[\\/]nodemailer[\\/]dist[\\/]esm[\\/]mime-funcs[\\/]mime-types\.js$/ }, ({ path }) => ({ contents: mimeTypesStandIn, loader: 'js', resolveDir: dirname(path) }));
    build.onLoad({ filter: /[\\/]nodemailer[\\/]dist[\\/]esm[\\/]fetch[\\/]index\.js$/ }, ({ path }) => ({
      contents: `import { leftOutExport } from ${JSON.stringify(leftOutModule)};\nexport default /* @__PURE__ */ leftOutExport("nodemailer's HTTP client (attachments given by URL)", 'no mail has a part given by URL; drop its stand-in in infra/bundling/nodemailer-trim.ts to send one');`,
      loader: 'js',
      resolveDir: dirname(path),
    }));
  },
};
