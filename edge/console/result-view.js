/**
 * An iteration's result: the figures (cost, tokens, duration, exit code, the pushed branch),
 * the changed files, and the diff with added, removed, hunk and file lines told apart by colour
 * and by their own +/−/@@ marks. The diff goes through the virtualised view, so a large patch
 * costs only the lines on screen.
 * @module
 */
import { duration, h, usd } from "./dom.js";
import { LogView } from "./log-view.js";

function diffRows(patch) {
  return patch.split("\n").map((line) => {
    let cls = "ctx";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) cls = "meta";
    else if (line.startsWith("@@")) cls = "hunk";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    return { text: line, cls: `diff-${cls}` };
  });
}

function tokens(usage) {
  if (!usage) return "—";
  const n = (v) => (v === null || v === undefined ? "?" : v.toLocaleString());
  return `${n(usage.input_tokens)} in, ${n(usage.output_tokens)} out`;
}

/** The result as a section; `result` may lack `patch` (an iteration's summary): `patch` is then passed apart. */
export function resultView(result, { patch = result.patch, task } = {}) {
  const facts = [
    ["Cost", usd(result.cost_usd)],
    ["Tokens", tokens(result.usage)],
    ["Duration", duration(result.duration_ms)],
    ["Exit code", result.exit_code ?? "—"],
    ["Changes", `${result.diff_stat.files_changed} file(s), +${result.diff_stat.insertions} −${result.diff_stat.deletions}`],
    ["Pushed", result.push ? `${result.push.branch} at ${result.push.commit_sha.slice(0, 12)}` : task?.push ? "nothing pushed" : "not asked"],
  ];
  const files = result.changed_files.length
    ? h(
        "ul",
        { class: "files" },
        ...result.changed_files.map((f) => h("li", {}, h("span", { class: `file-${f.status}` }, f.status), " ", h("code", {}, f.path))),
      )
    : h("p", { class: "muted" }, "No files changed.");
  let diff = h("p", { class: "muted" }, "No diff.");
  if (patch) {
    const view = new LogView({ label: "Diff", rowHeight: 18 });
    view.el.classList.add("diff");
    view.following = false;
    view.setRows(diffRows(patch));
    diff = view.el;
  }
  return h(
    "section",
    { class: "result", "aria-labelledby": "result-title" },
    h("h2", { id: "result-title" }, "Result"),
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    result.final_message ? h("blockquote", { class: "final" }, result.final_message) : null,
    h("h3", {}, "Changed files", result.changed_files_truncated ? " (more than listed)" : ""),
    files,
    h("h3", {}, "Diff", result.patch_truncated ? " (cut: the pushed commit has it all)" : ""),
    diff,
  );
}
