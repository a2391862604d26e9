/**
 * API keys (admin): the list, a form to create one, and per key rotate and revoke. A new or
 * rotated key's secret is shown once, here, and never again; revoking asks for a second press.
 * @module
 */
import { api } from "./api.js";
import { badge, field, h, notice, replace, time } from "./dom.js";

const SCOPES = ["tasks:read", "tasks:write", "admin"];

export function adminKeysPage(main) {
  const name = h("input", { name: "name", required: true, autocomplete: "off", placeholder: "ci, alice laptop" });
  const scopes = SCOPES.map((scope) =>
    h("input", { type: "checkbox", name: "scopes", value: scope, id: `scope-${scope.replace(":", "-")}`, checked: scope !== "admin" }),
  );
  const expires = h("input", { name: "expires_at", type: "datetime-local" });
  const secret = h("div", { "aria-live": "polite" });
  const errors = h("div");
  const body = h("tbody");
  const more = h("button", { type: "button", onclick: () => load(false) }, "More keys");
  let cursor = null;

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-key-title", onsubmit: onCreate },
    h("h2", { id: "create-key-title" }, "Create a key"),
    field("Name", name),
    h("fieldset", {}, h("legend", {}, "Scopes"), ...scopes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, box.value)))),
    field("Expires", expires, "Optional; your local time."),
    h("button", { type: "submit" }, "Create key"),
  );
  replace(
    main,
    h("h1", {}, "API keys"),
    secret,
    errors,
    h(
      "div",
      { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "API keys" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, "API keys, newest first"),
        h("thead", {}, h("tr", {}, ...["Name", "Key id", "Scopes", "Status", "Created", "Expires", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        body,
      ),
    ),
    more,
    form,
  );

  function showSecret(key, verb) {
    const value = h("input", { type: "text", readOnly: true, value: key.key, class: "mono", "aria-label": `Secret of ${key.name}` });
    replace(
      secret,
      h(
        "div",
        { class: "notice info secret", role: "status" },
        h("p", {}, `Key ${key.id} (${key.name}) ${verb}. Copy its secret now: it is shown only this once.`),
        value,
        h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(key.key) }, "Copy"),
        h("button", { type: "button", onclick: () => replace(secret) }, "Done"),
      ),
    );
    value.focus();
    value.select();
  }

  async function act(run) {
    replace(errors);
    try {
      await run();
    } catch (error) {
      replace(errors, notice("error", error.field ? `${error.field}: ${error.message}` : error.message));
    }
  }

  function onCreate(event) {
    event.preventDefault();
    act(async () => {
      const request = { name: name.value.trim(), scopes: scopes.filter((b) => b.checked).map((b) => b.value) };
      if (expires.value) request.expires_at = new Date(expires.value).toISOString();
      const key = await api("/keys", { method: "POST", json: request });
      name.value = "";
      showSecret(key, "created");
      await load(true);
    });
  }

  function row(key) {
    const active = key.status === "active";
    const rotate = h("button", { type: "button", disabled: !active, "aria-label": `Rotate ${key.name}` }, "Rotate");
    const revoke = h("button", { type: "button", class: "danger", disabled: !active, "aria-label": `Revoke ${key.name}` }, "Revoke");
    rotate.addEventListener("click", () =>
      act(async () => {
        showSecret(await api(`/keys/${key.id}/rotate`, { method: "POST", json: {} }), "rotated");
        await load(true);
      }),
    );
    revoke.addEventListener("click", () => {
      // A second press confirms: no dialog, and nothing happens by accident.
      if (revoke.dataset.armed !== "true") {
        revoke.dataset.armed = "true";
        revoke.textContent = "Confirm revoke";
        return;
      }
      act(async () => {
        await api(`/keys/${key.id}/revoke`, { method: "POST" });
        await load(true);
      });
    });
    return h(
      "tr",
      {},
      h("td", {}, key.name),
      h("td", { class: "mono" }, key.id),
      h("td", {}, key.scopes.join(", ")),
      h("td", {}, badge(key.status)),
      h("td", {}, time(key.created_at)),
      h("td", {}, time(key.expires_at)),
      h("td", { class: "actions" }, rotate, revoke),
    );
  }

  async function load(fresh) {
    if (fresh) cursor = null;
    await act(async () => {
      const page = await api(`/keys?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      const rows = page.keys.map(row);
      if (fresh) replace(body, rows.length ? rows : h("tr", {}, h("td", { colspan: 7 }, "No keys yet: the bootstrap admin key is not listed.")));
      else body.append(...rows);
      cursor = page.next_cursor;
      more.disabled = !cursor;
    });
  }
  load(true);
}
