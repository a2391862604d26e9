/**
 * A new task: repository, ref, CLI (what connected runners offer, for an admin who may list
 * them; every CLI otherwise), model, prompt, push and branch, budget and a webhook URL. The
 * edge validates the request; its answer names the field at fault, shown beside the form.
 * @module
 */
import { api } from "./api.js";
import { field, h, notice, replace } from "./dom.js";
import { CLIS } from "./task-list-page.js";

export function newTaskPage(main, { session, navigate }) {
  const repo = h("input", { name: "repo", type: "text", required: true, placeholder: "https://github.com/owner/repo.git", autocomplete: "off" });
  const ref = h("input", { name: "ref", type: "text", value: "main", autocomplete: "off" });
  const cli = h("select", { name: "cli", required: true });
  const model = h("input", { name: "model", type: "text", autocomplete: "off" });
  const prompt = h("textarea", { name: "prompt", rows: 6, required: true });
  const push = h("input", { name: "push", type: "checkbox" });
  const branch = h("input", { name: "branch", type: "text", disabled: true, placeholder: "codeforge/<task id>", autocomplete: "off" });
  const maxCost = h("input", { name: "max_cost_usd", type: "number", min: "0.01", step: "0.01", inputMode: "decimal" });
  const callback = h("input", { name: "callback_url", type: "url", placeholder: "https://example.com/hook", autocomplete: "off" });
  const message = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Submit task");
  push.addEventListener("change", () => (branch.disabled = !push.checked));

  const form = h(
    "form",
    { class: "card", onsubmit: onSubmit },
    field("Repository URL", repo),
    field("Ref", ref, "A branch, tag or commit."),
    field("CLI", cli),
    field("Model", model, "Optional: the CLI's default otherwise."),
    field("Prompt", prompt),
    h("div", { class: "field check" }, push, h("label", { for: (push.id = "f-push") }, "Push the change to a branch")),
    field("Branch", branch),
    field("Budget (US dollars)", maxCost, "Optional: the most one iteration may spend on model calls."),
    field("Webhook URL", callback, "Optional: signed webhooks about this task go here."),
    submit,
    message,
  );
  replace(main, h("h1", {}, "New task"), form);
  loadClis();
  repo.focus();

  async function loadClis() {
    let offered = CLIS;
    if (session.admin) {
      try {
        const { runners } = await api("/runners?limit=100");
        const seen = [...new Set(runners.flatMap((r) => r.clis))].sort();
        if (seen.length) offered = seen;
      } catch {
        // Listing runners is a convenience: every CLI stays offered when it fails.
      }
    }
    replace(cli, ...offered.map((name) => h("option", { value: name }, name)));
  }

  async function onSubmit(event) {
    event.preventDefault();
    const request = { repo: { url: repo.value.trim() }, prompt: prompt.value, cli: cli.value };
    if (ref.value.trim()) request.repo.ref = ref.value.trim();
    if (model.value.trim()) request.model = model.value.trim();
    if (push.checked) request.push = true;
    if (push.checked && branch.value.trim()) request.branch = branch.value.trim();
    if (maxCost.value) request.max_cost_usd = Number(maxCost.value);
    if (callback.value.trim()) request.callback_url = callback.value.trim();
    submit.disabled = true;
    replace(message);
    try {
      const task = await api("/tasks", { method: "POST", json: request });
      navigate(`/tasks/${task.id}`);
    } catch (error) {
      replace(message, notice("error", error.field ? `${error.field}: ${error.message}` : error.message));
    } finally {
      submit.disabled = false;
    }
  }
}
