/**
 * Plain-text tables for the terminal: left-aligned columns two spaces apart, long cells cut
 * with "…" at a column's maximum width, and the cell formats the tables share.
 * @module
 */

export interface Column<T> {
  header: string;
  cell: (row: T) => string;
  /** Longer cells are cut to this many characters. */
  maxWidth?: number;
}

/** The table's lines: a header row, then one row per item. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((row) => columns.map((c) => cut(c.cell(row).replace(/\s+/g, " "), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}

function cut(text: string, max: number | undefined): string {
  return max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `2026-11-23 11:22:03` (UTC) from an ISO time; `-` for none. */
export function shortTime(iso: string | null): string {
  return iso === null ? "-" : iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}
