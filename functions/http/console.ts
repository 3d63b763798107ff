import { consoleScript } from './console/console-assets.ts';
import { consolePage } from './console/page.ts';

const page = consolePage(consoleScript);
const headers = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src *",
};

/**
 * GET /console: the operator console, one HTML page with its script inline; it signs in with a token in the
 * URL's fragment. The same bytes for every request, so no middleware: the function stays a few kilobytes.
 */
export const handler = async () => ({ statusCode: 200, headers, body: page });
