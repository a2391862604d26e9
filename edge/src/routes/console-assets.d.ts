/**
 * The console's browser scripts (`edge/console/*.js`), as `routes/console.ts` imports them:
 * Text modules (wrangler.toml `[[rules]]`), so each is its file's text, not code to run here.
 * Its page and stylesheet are typed by `text-modules.d.ts`.
 */
declare module "../../console/*.js" {
  const text: string;
  export default text;
}
