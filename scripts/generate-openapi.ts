/**
 * Writes `api/openapi.json` (generated from the public routes' definitions and `api/openapi.ts`)
 * and `api/stream-event.schema.json` from the contract's zod schemas. Run `npm run openapi`
 * after changing a route or anything in `api/`; a test fails until you do.
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildStreamEventSchema } from "#api/openapi.js";
import { definitionsApp, openApiDocument } from "../edge/src/routes/openapi-document.js";
import { PROJECT_ROOT } from "./local-stack.js";

export function generatedFiles(): Record<string, string> {
  const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
  return {
    "api/openapi.json": `${JSON.stringify(openApiDocument(definitionsApp(), version), null, 2)}\n`,
    "api/stream-event.schema.json": `${JSON.stringify(buildStreamEventSchema(), null, 2)}\n`,
  };
}

if (process.argv[1]?.endsWith("generate-openapi.ts")) {
  for (const [path, text] of Object.entries(generatedFiles())) {
    writeFileSync(join(PROJECT_ROOT, path), text);
    console.log(`wrote ${path}`);
  }
}
