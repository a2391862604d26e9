/**
 * Unit: the terminal tables of the `codeforge` command — aligned columns, cut cells, no
 * trailing spaces — and the time format they share.
 */
import { describe, expect, it } from "vitest";
import { renderTable, shortTime } from "../../client/cli/table.js";

describe("renderTable", () => {
  const columns = [
    { header: "ID", cell: (r: { id: string; note: string }) => r.id },
    { header: "NOTE", cell: (r: { id: string; note: string }) => r.note, maxWidth: 8 },
  ];

  it("aligns columns two spaces apart, cuts long cells with an ellipsis and folds whitespace", () => {
    expect(
      renderTable(
        [
          { id: "a", note: "short" },
          { id: "longer-id", note: "a note\nthat goes on" },
        ],
        columns,
      ),
    ).toEqual(["ID         NOTE", "a          short", "longer-id  a note …"]);
  });

  it("is a header alone with no rows, and never ends a line with spaces", () => {
    expect(renderTable([], columns)).toEqual(["ID  NOTE"]);
    for (const line of renderTable([{ id: "x", note: "" }], columns)) expect(line).toBe(line.trimEnd());
  });
});

describe("shortTime", () => {
  it("shows ISO times to the second, and a dash for none", () => {
    expect(shortTime("2026-11-23T11:22:03.456Z")).toBe("2026-11-23 11:22:03");
    expect(shortTime("2026-11-23T11:22:03Z")).toBe("2026-11-23 11:22:03");
    expect(shortTime(null)).toBe("-");
  });
});
