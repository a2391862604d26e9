/**
 * Unit: the callback-URL policy. Every spelling of a loopback, private, link-local or metadata
 * address is refused with a reason; public https URLs pass, normalized as `fetch` will use them.
 */
import { describe, expect, it } from "vitest";
import { checkCallbackUrl, refusedHost } from "#api/callback-url.js";

const strict = { allowLocal: false };
const local = { allowLocal: true };

function refused(url: string): string {
  const check = checkCallbackUrl(url, strict);
  if (check.ok) throw new Error(`${url} was accepted as ${check.url}`);
  return check.reason;
}

describe("checkCallbackUrl", () => {
  it.each([
    ["https://hooks.example.com/codeforge", "https://hooks.example.com/codeforge"],
    ["https://HOOKS.Example.com:8443/a?token=abc", "https://hooks.example.com:8443/a?token=abc"],
    ["https://93.184.215.14/hook", "https://93.184.215.14/hook"],
    ["https://[2606:4700:4700::1111]/hook", "https://[2606:4700:4700::1111]/hook"],
    ["https://8.8.8.8", "https://8.8.8.8/"],
    ["https://xn--bcher-kva.example/hook", "https://xn--bcher-kva.example/hook"],
  ])("accepts the public URL %s", (url, normalized) => {
    expect(checkCallbackUrl(url, strict)).toEqual({ ok: true, url: normalized });
  });

  it.each([
    ["http://hooks.example.com/x", /must use https \(got http\)/],
    ["ftp://hooks.example.com/x", /must use https/],
    ["file:///etc/passwd", /must use https/],
    ["javascript:alert(1)", /must use https/],
    ["https://user:pass@hooks.example.com/x", /credentials/],
    ["https://user@hooks.example.com/x", /credentials/],
    ["hooks.example.com/x", /not a valid absolute URL/],
    ["", /empty/],
    ["https://hooks.example.com/a b", /whitespace/],
    ["https://hooks.exa\tmple.com/", /whitespace/],
    ["https://hooks.example.com\\@evil/", /backslashes/],
    [`https://hooks.example.com/${"a".repeat(2_100)}`, /longer than 2048/],
  ])("refuses %s", (url, reason) => {
    expect(refused(url)).toMatch(reason);
  });

  it.each([
    // loopback in every spelling the URL parser accepts
    "https://127.0.0.1/",
    "https://127.1/",
    "https://127.0.0.53:8443/",
    "https://2130706433/",
    "https://0x7f000001/",
    "https://0x7f.0x0.0x0.0x1/",
    "https://0177.0.0.1/",
    "https://017700000001/",
    "https://0x7f.1/",
    "https://[::1]/",
    "https://[0:0:0:0:0:0:0:1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::127.0.0.1]/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://api.localhost/",
    "https://ip6-localhost/",
    "https://localtest.me/",
    "https://a.b.lvh.me/",
    "https://127.0.0.1.nip.io/",
    // unspecified
    "https://0.0.0.0/",
    "https://0/",
    "https://[::]/",
    // private networks (RFC 1918), CGNAT, link-local and cloud metadata
    "https://10.0.0.1/",
    "https://10.255.255.255/",
    "https://172.16.0.1/",
    "https://172.31.255.255/",
    "https://192.168.1.1/",
    "https://3232235777/",
    "https://100.64.0.1/",
    "https://100.127.255.254/",
    "https://169.254.169.254/latest/meta-data/",
    "https://0xa9fea9fe/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::ffff:10.0.0.1]/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata/",
    "https://instance-data/",
    "https://instance-data.ec2.internal/",
    "https://kubernetes.default.svc.cluster.internal/",
    "https://printer.local/",
    "https://router.home.arpa/",
    "https://nas.lan/",
    "https://intranet/",
    // IPv6 ranges that are not global unicast, or stand for other addresses
    "https://[fd00::1]/",
    "https://[fc00::1]/",
    "https://[fdff:ffff::1]/",
    "https://[fe80::1]/",
    "https://[febf::1]/",
    "https://[fec0::1]/",
    "https://[ff02::1]/",
    "https://[64:ff9b::a00:1]/",
    "https://[2001:db8::1]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "https://[2002:7f00:1::1]/",
    "https://[100::1]/",
    // documentation, benchmarking, multicast, reserved, broadcast
    "https://192.0.2.1/",
    "https://198.51.100.7/",
    "https://203.0.113.9/",
    "https://198.18.0.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
  ])("refuses the non-public host in %s", (url) => {
    expect(refused(url)).toMatch(/callback_url host .* is .*; webhooks go to public addresses only/);
  });

  it("names the range it refused", () => {
    expect(refused("https://169.254.169.254/")).toContain("link-local");
    expect(refused("https://0x7f.1/")).toContain("loopback");
    expect(refused("https://100.64.1.1/")).toContain("carrier-grade NAT");
    expect(refused("https://[fd12::1]/")).toContain("unique-local");
    expect(refused("https://[::ffff:192.168.0.1]/")).toContain("private");
  });

  it("keeps the neighbours of refused ranges", () => {
    for (const url of [
      "https://9.255.255.255/",
      "https://11.0.0.0/",
      "https://172.15.255.255/",
      "https://172.32.0.0/",
      "https://100.63.255.255/",
      "https://100.128.0.0/",
      "https://169.253.255.255/",
      "https://192.169.0.0/",
      "https://223.255.255.255/",
      "https://[2001:db9::1]/",
      "https://[2001:4860:4860::8888]/",
    ]) {
      expect(checkCallbackUrl(url, strict), url).toMatchObject({ ok: true });
    }
  });

  it("with allowLocal, accepts http and local hosts but still refuses credentials and other schemes", () => {
    expect(checkCallbackUrl("http://127.0.0.1:8080/hook", local)).toEqual({ ok: true, url: "http://127.0.0.1:8080/hook" });
    expect(checkCallbackUrl("https://localhost/hook", local)).toMatchObject({ ok: true });
    expect(checkCallbackUrl("http://10.0.0.2/hook", local)).toMatchObject({ ok: true });
    expect(checkCallbackUrl("http://u:p@127.0.0.1/hook", local)).toMatchObject({ ok: false, reason: expect.stringMatching(/credentials/) });
    expect(checkCallbackUrl("ftp://127.0.0.1/hook", local)).toMatchObject({ ok: false });
  });
});

describe("refusedHost", () => {
  it("refuses malformed IPv6 and numeric-looking names the parser did not take", () => {
    expect(refusedHost("[::1::2]")).toMatch(/not a valid IPv6/);
    expect(refusedHost("1.2.3.4.5")).toMatch(/not a valid host name/);
    expect(refusedHost("example.com")).toBeNull();
  });
});
