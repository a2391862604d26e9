/**
 * What the edge trusts about a request: the browser origins allowed to call the API (CORS),
 * and the header that carries the client's address (see `rate-limit/client-address.ts`).
 * @module
 */
import { z } from "zod";
import { CommaList } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const RequestSettings = settingsSlice({
  /** Browser origins allowed to call the API (CORS), comma-separated; empty means none. */
  corsAllowedOrigins: [
    "CORS_ALLOWED_ORIGINS",
    CommaList.pipe(
      z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, "each CORS origin is scheme://host[:port], with no path or trailing slash")),
    ).default([]),
  ],
  /**
   * The request header that carries the client's address, lower-case (`cf-connecting-ip` on
   * Cloudflare); null (unset or `none`): none is trustworthy here. Unset means none, because
   * trusting a header by default would trust one a client can set.
   */
  clientAddressHeader: [
    "CLIENT_ADDRESS_HEADER",
    z
      .string()
      .optional()
      .transform((name) => (name ?? "").trim())
      .pipe(
        z
          .string()
          .regex(
            /^[A-Za-z0-9-]{0,64}$/,
            "CLIENT_ADDRESS_HEADER is the name of the header that carries the client's address (CF-Connecting-IP on Cloudflare), or none",
          ),
      )
      .transform((name) => (name === "" || name.toLowerCase() === "none" ? null : name.toLowerCase())),
  ],
});
export type RequestConfig = ConfigOf<typeof RequestSettings>;
