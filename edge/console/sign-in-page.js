/**
 * Sign in: the API key is pasted once and exchanged for a session cookie; the field is cleared
 * as soon as the edge answers, and the key is never stored by the page.
 * @module
 */
import { signIn } from "./api.js";
import { field, h, notice, replace } from "./dom.js";

export function signInPage(main, { onSignedIn }) {
  const key = h("input", { type: "password", name: "api_key", autocomplete: "off", spellcheck: false, required: true });
  const message = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        replace(message);
        try {
          const session = await signIn(key.value.trim());
          key.value = "";
          onSignedIn(session);
        } catch (error) {
          key.value = "";
          replace(message, notice("error", error.status === 401 ? "That key was not accepted." : error.message));
          key.focus();
        } finally {
          button.disabled = false;
        }
      },
    },
    field("API key", key, "A CodeForge key (cf_…). It is exchanged for a session cookie and not kept by this page."),
    button,
    message,
  );
  replace(main, h("h1", {}, "Sign in to CodeForge"), form);
  key.focus();
}
