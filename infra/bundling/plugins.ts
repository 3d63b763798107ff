// The esbuild plugins every function bundle is built with (infra/bundling/build.ts): each leaves out a part of a
// dependency that no function calls. One list, appended to as dependencies are trimmed; each plugin in its own
// module beside this one, with what it leaves out and why it is safe. esbuild asks the plugins in this order and
// the first onLoad that returns contents wins; each stands in for modules of dependencies only. zod needs none: the
// sources import zod/mini (events/zod.ts), whose functions a bundle keeps only where its schemas call them.
import type { Plugin } from 'esbuild';
import { calendarLibrariesPlugin } from './calendar-libraries.ts';
import { nodemailerTrim } from './nodemailer-trim.ts';
import { stripeResources } from './stripe-resources.ts';

export const bundlePlugins: Plugin[] = [stripeResources, nodemailerTrim, calendarLibrariesPlugin];
