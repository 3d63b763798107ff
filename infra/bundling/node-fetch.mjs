// What `node-fetch` is in a Lambda bundle (infra/bundling/calendar-libraries.ts): Node's own
// fetch. gaxios (under googleapis) imports node-fetch whenever it is not given a fetch, and with it come
// fetch-blob, formdata-polyfill and web-streams-polyfill (about 90 KB minified) for what Node 24 has built in.
export default globalThis.fetch;
export const Headers = globalThis.Headers;
export const Request = globalThis.Request;
export const Response = globalThis.Response;
export const FormData = globalThis.FormData;
export const Blob = globalThis.Blob;
export const File = globalThis.File;
export const AbortError = globalThis.DOMException;
export const FetchError = TypeError;
export const isRedirect = (code) => [301, 302, 303, 307, 308].includes(code);
