// The esbuild plugins every function bundle is built with (infra/bundling/build.ts): each leaves out a part of a
// dependency that no function calls. One list, appended to as dependencies are trimmed; each plugin in its own
// module beside this one, with what it leaves out and why it is safe. esbuild asks the plugins in this order and
// the first onLoad that returns contents wins: zodNamespaceImport loads the project's own .ts files that import
// { z } from 'zod', the others load modules under node_modules only.
import type { Plugin } from 'esbuild';
import { calendarLibrariesPlugin } from './calendar-libraries.ts';
import { nodemailerTrim } from './nodemailer-trim.ts';
import { stripeResources } from './stripe-resources.ts';
import { zodJsonSchema } from './zod-json-schema.ts';
import { zodNamespaceImport } from './zod-namespace-import.ts';

export const bundlePlugins: Plugin[] = [zodNamespaceImport, stripeResources, zodJsonSchema, nodemailerTrim, calendarLibrariesPlugin];
