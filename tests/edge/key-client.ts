/**
 * API keys as an admin makes them, through the real Worker, and the task calls a non-admin key
 * makes. Each helper returns what the client would read.
 * @module
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { ApiKeyWithSecret, type CreateKeyInput } from "#api/keys.js";
import { Task } from "#api/task.js";
import type { Env } from "../../edge/src/env.js";
import { keyStoreOf } from "../../edge/src/keys/key-shards.js";
import { apiFetch, taskSpec } from "./api-client.js";

/** Makes a key with the admin key (scopes default to both task scopes); fails unless 201. */
export async function createKey(input: Partial<CreateKeyInput> = {}): Promise<ApiKeyWithSecret> {
  const res = await apiFetch("/api/v1/keys", { json: { name: "test key", scopes: ["tasks:read", "tasks:write"], ...input } });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return ApiKeyWithSecret.parse(body);
}

/** Rotates a key with the admin key; fails unless 200. */
export async function rotateKey(id: string, overlapSeconds?: number): Promise<ApiKeyWithSecret> {
  const res = await apiFetch(`/api/v1/keys/${id}/rotate`, overlapSeconds === undefined ? { method: "POST" } : { json: { overlap_seconds: overlapSeconds } });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return ApiKeyWithSecret.parse(body);
}

/** Submits a task with `key`; fails unless 201. */
export async function createTaskAs(key: string, overrides: Parameters<typeof taskSpec>[0] = {}, headers: Record<string, string> = {}): Promise<Task> {
  const res = await apiFetch("/api/v1/tasks", { key, json: taskSpec(overrides), headers });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return Task.parse(body);
}

/** Status of `GET /api/v1/tasks/:id` with `key` (and optional headers). */
export async function readStatus(key: string, taskId: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await apiFetch(`/api/v1/tasks/${taskId}`, { key, headers });
  await res.body?.cancel();
  return res.status;
}

/** The key store shard that holds key `keyId`, for looking at what it stores. */
export function keyStoreObject(keyId: string) {
  return keyStoreOf(env as Env, keyId);
}
