/**
 * Unit, in workerd: the GitHub App client signs its JWT with WebCrypto alone, from the PKCS#1
 * key GitHub hands out (which WebCrypto cannot import directly) as well as PKCS#8. The node
 * suite (tests/github/) runs the client against the fake GitHub; this checks the runtime.
 */
import { describe, expect, it } from "vitest";
import { GitHubApp } from "../../edge/src/github/github-app.js";

const algorithm = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };

function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}
function base64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function keyPair() {
  const { privateKey, publicKey } = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", privateKey)) as ArrayBuffer);
  // A 2048-bit PKCS#8 key is a 26-byte envelope (version, rsaEncryption, octet string header) around PKCS#1.
  return { publicKey, pkcs8: pem("PRIVATE KEY", pkcs8), pkcs1: pem("RSA PRIVATE KEY", pkcs8.slice(26)) };
}

describe("GitHubApp in workerd", () => {
  it("signs an RS256 App JWT from a PKCS#1 or a PKCS#8 key, sent as the Bearer of the token request", async () => {
    const { publicKey, pkcs1, pkcs8 } = await keyPair();
    for (const privateKey of [pkcs1, pkcs8]) {
      let authorization = "";
      const fetchStub = (async (_url: RequestInfo | URL, init?: RequestInit) => {
        authorization = new Headers(init?.headers).get("authorization") ?? "";
        const body = JSON.stringify({ token: "ghs_test", expires_at: new Date(Date.now() + 3_600_000).toISOString() });
        return new Response(body, { status: 201, headers: { "content-type": "application/json" } });
      }) as typeof fetch;
      const app = new GitHubApp({ appId: "123", privateKey, apiUrl: "https://api.example.test" }, { fetch: fetchStub });
      expect((await app.installationToken(9)).token).toBe("ghs_test");
      const jwt = authorization.replace(/^Bearer /, "");
      const [header, payload, signature] = jwt.split(".");
      const valid = await crypto.subtle.verify(algorithm.name, publicKey, base64url(signature!), new TextEncoder().encode(`${header}.${payload}`));
      expect(valid).toBe(true);
      expect(JSON.parse(new TextDecoder().decode(base64url(payload!)))).toMatchObject({ iss: "123" });
    }
  });
});
