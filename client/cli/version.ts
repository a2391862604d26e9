/**
 * The client's version: the package's, read at build time into the bundle.
 * @module
 */
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
