/**
 * The console's entry: finds the session, draws the navigation and routes the path to a page.
 * Navigation stays in the page (History API): links with a same-origin path are followed here,
 * and each page returns a function that stops what it started (timers, the task stream).
 * @module
 */
import { adminAuditPage, adminRunnersPage } from "./admin-pages.js";
import { adminKeysPage } from "./admin-keys-page.js";
import { currentSession, signOut, whenSignedOut } from "./api.js";
import { h, notice, replace } from "./dom.js";
import { newTaskPage } from "./new-task-page.js";
import { signInPage } from "./sign-in-page.js";
import { taskListPage } from "./task-list-page.js";
import { taskPage } from "./task-page.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let session = null;
let stopPage = null;

const ROUTES = [
  [/^\/(tasks)?$/, "Tasks", () => taskListPage],
  [/^\/tasks\/([^/]+)$/, "Task", () => taskPage],
  [/^\/new$/, "New task", () => newTaskPage],
  [/^\/admin\/runners$/, "Runners", () => adminRunnersPage],
  [/^\/admin\/keys$/, "API keys", () => adminKeysPage],
  [/^\/admin\/audit$/, "Audit log", () => adminAuditPage],
];

/** Goes to `path` in the page, as a link would. */
export function navigate(path, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

function drawNav() {
  if (!session) return replace(nav);
  const link = (href, label) => h("a", { href, "aria-current": location.pathname === href ? "page" : null }, label);
  replace(
    nav,
    link("/tasks", "Tasks"),
    link("/new", "New task"),
    session.admin ? [link("/admin/runners", "Runners"), link("/admin/keys", "Keys"), link("/admin/audit", "Audit")] : null,
    h("a", { href: "/api/v1/docs", "data-external": "true" }, "API"),
    h("span", { class: "who" }, session.owner),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: async () => {
          await signOut().catch(() => {});
          session = null;
          navigate("/", { replaceState: true });
        },
      },
      "Sign out",
    ),
  );
}

function render() {
  stopPage?.();
  stopPage = null;
  drawNav();
  if (!session) {
    document.title = "Sign in · CodeForge";
    stopPage = signInPage(main, {
      onSignedIn(signedIn) {
        session = signedIn;
        render();
      },
    });
    return;
  }
  const path = location.pathname;
  for (const [pattern, title, page] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    document.title = `${title} · CodeForge`;
    if (path.startsWith("/admin/") && !session.admin) {
      replace(main, h("h1", {}, title), notice("error", "This page needs an admin key."));
      return;
    }
    stopPage = page()(main, { params: match.slice(1), session, navigate }) ?? null;
    return;
  }
  replace(main, h("h1", {}, "Not found"), h("p", {}, "No console page here. ", h("a", { href: "/tasks" }, "Go to the tasks.")));
}

document.addEventListener("click", (event) => {
  const a = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!a || a.dataset.external || a.target || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
  main.focus();
});
window.addEventListener("popstate", render);

whenSignedOut(() => {
  if (!session) return;
  session = null;
  render();
});

try {
  session = await currentSession();
  render();
} catch (error) {
  replace(main, h("h1", {}, "CodeForge"), notice("error", `The edge did not answer: ${error.message}`));
}
