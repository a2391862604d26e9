/**
 * Files the Worker imports as Text modules (wrangler.toml's `[[rules]]`, and wrangler's default
 * rule for `.html`): their default export is the file's text, served by `http/static-asset.ts`.
 */
declare module "*.css" {
  const text: string;
  export default text;
}

declare module "*.html" {
  const text: string;
  export default text;
}

/** swagger-ui's prebuilt browser bundle, served to the API reference page as it is. */
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
