// Writes events/schema/<type>.json from the zod schemas, so integrators can validate without TypeScript.
// `npm run catalog` regenerates; a test fails when the committed files are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFiles } from './json-schema.ts';

const dir = fileURLToPath(new URL('./schema/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(jsonSchemaFiles())) writeFileSync(dir + name, text);
console.log(`wrote ${Object.keys(jsonSchemaFiles()).length} JSON Schemas to events/schema/`);
