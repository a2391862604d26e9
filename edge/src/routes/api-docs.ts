/**
 * The OpenAPI document (`/api/v1/openapi.json`, generated from the contract and committed as
 * `api/openapi.json`) and a browsable reference page (`/api/v1/docs`). Public: no key needed.
 * @module
 */
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import openapi from "#api/openapi.json";

export const apiDocsRoutes = new Hono()
  .get("/openapi.json", (c) => c.json(openapi))
  .get("/docs", Scalar({ url: "/api/v1/openapi.json", pageTitle: "CodeForge API" }));
