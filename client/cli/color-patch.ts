/**
 * A unified diff coloured for a terminal, as `git diff` colours it: file headers bold, hunk
 * headers cyan, added lines green, removed lines red. Which lines are headers is tracked, so a
 * removed line that reads `--- x` inside a hunk stays red. Without colour the patch is returned
 * unchanged, byte for byte (`codeforge diff … | git apply` needs exactly that).
 * @module
 */

const paint = (code: string, text: string) => (text === "" ? text : `\x1b[${code}m${text}\x1b[0m`);

/** `patch` with ANSI colours when `color`, else as it is. */
export function colorPatch(patch: string, color: boolean): string {
  if (!color) return patch;
  let inHunk = false;
  return patch
    .split("\n")
    .map((line) => {
      if (line.startsWith("diff --git ")) {
        inHunk = false;
        return paint("1", line);
      }
      if (line.startsWith("@@")) {
        inHunk = true;
        return paint("36", line);
      }
      if (!inHunk) return paint("1", line);
      if (line.startsWith("+")) return paint("32", line);
      if (line.startsWith("-")) return paint("31", line);
      return line;
    })
    .join("\n");
}
