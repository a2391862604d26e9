/**
 * A task's webhook deliveries (`GET /api/v1/tasks/:id/deliveries`): each event sent, its
 * status and attempts, and a button to send it again (`…/redeliver`).
 * @module
 */
import { api } from "./api.js";
import { badge, h, notice, replace, time } from "./dom.js";

export function deliveriesView(taskId) {
  const body = h("div");
  const el = h("section", { "aria-labelledby": "deliveries-title" }, h("h2", { id: "deliveries-title" }, "Webhook deliveries"), body);

  async function refresh() {
    let list;
    try {
      list = (await api(`/tasks/${taskId}/deliveries`)).deliveries;
    } catch (error) {
      return replace(body, notice("error", error.message));
    }
    if (!list.length) return replace(body, h("p", { class: "muted" }, "No webhook deliveries (the task has no callback URL, or nothing was sent yet)."));
    replace(
      body,
      h(
        "div",
        { class: "scroll-x", tabindex: 0, role: "region", "aria-label": "Deliveries" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, ...["Event", "Iteration", "Status", "Attempts", "Last answer", "Created", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, ...list.map(row)),
        ),
      ),
    );
  }

  function row(d) {
    const last = d.attempts.at(-1);
    const answer = last ? (last.status !== null ? `HTTP ${last.status}` : (last.error ?? "—")) : "—";
    const button = h(
      "button",
      {
        type: "button",
        disabled: d.status === "pending",
        "aria-label": `Redeliver ${d.event_type} (iteration ${d.iteration})`,
        onclick: async () => {
          button.disabled = true;
          try {
            await api(d.links.redeliver, { method: "POST" });
          } catch (error) {
            body.prepend(notice("error", error.message));
          }
          refresh();
        },
      },
      "Redeliver",
    );
    return h(
      "tr",
      {},
      h("td", {}, d.event_type),
      h("td", {}, d.iteration),
      h("td", {}, badge(d.status)),
      h("td", {}, d.attempts.length),
      h("td", {}, answer),
      h("td", {}, time(d.created_at)),
      h("td", {}, button),
    );
  }

  return { el, refresh };
}
