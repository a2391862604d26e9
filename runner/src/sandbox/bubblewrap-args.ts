/**
 * The bubblewrap command line for one attempt: what the sandbox's world contains.
 *
 * A pure function, so what the sandbox lets in can be read (and tested) in one place. The
 * sandbox starts from an empty root and gets, in order:
 * - the system, read-only: `/usr` and the merged-usr links or directories beside it (`/bin`,
 *   `/lib`, …), and from `/etc` only the files programs need to run (certificates — not `/etc/ssl/private` —, name
 *   service switch, dynamic linker cache) — never all of `/etc`: the sandbox user is the runner's own
 *   user to the kernel's permission checks, so a runner running as root would otherwise hand it
 *   `/etc/shadow`. Its own `/etc/passwd` and `/etc/group` name the sandbox user.
 * - the CLI's installation, read-only, at the paths it has on the host;
 * - the attempt's checkout at `/workspace`, its HOME at `/home/agent` and its TMPDIR at `/tmp`,
 *   writable, and a scratch directory at `/scratch` for files the runner hands the CLI;
 * - for the setup phase only, its repository's dependency cache at `/cache`, writable;
 * - a fresh `/proc` (its own PID namespace: it shows only the sandbox) and a minimal `/dev`;
 * - with egress, the proxy's Unix socket and the bridge program under `/run/codeforge`.
 * Nothing else: not the runner's code, configuration, logs or secret, not the workspace root
 * with the other attempts, not the runner's corner of this attempt (askpass helper, push
 * repository).
 *
 * Every namespace is new (user, mount, PID, network, IPC, UTS, cgroup): the network namespace
 * has only its own loopback, so the host's loopback, private networks and the metadata address
 * are not reachable at all, and the proxy is the only way out. The user is unprivileged
 * (uid 1000, every capability dropped), in a session of its own (no terminal injection), and
 * the sandbox dies with the runner (`--die-with-parent`); when its first process exits, the
 * kernel ends every process left in its PID namespace, so nothing outlives the attempt.
 * @module
 */
import path from "node:path";

/** The sandbox user's ids: unprivileged, the usual first user. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

/** Where the attempt's directories appear inside the sandbox. */
export const SANDBOX_PATHS = {
  repo: "/workspace",
  home: "/home/agent",
  tmp: "/tmp",
  scratch: "/scratch",
  /** The dependency cache lent to the setup phase (never to the CLI). */
  dependencyCache: "/cache",
  /** The proxy socket and the bridge program. */
  run: "/run/codeforge",
} as const;

/** Files of `/etc` a program may need; each is bound read-only when the host has it. */
export const ETC_FILES: readonly string[] = [
  "alternatives",
  "ca-certificates",
  "ca-certificates.conf",
  "gitconfig",
  "host.conf",
  "hosts",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "mime.types",
  "nsswitch.conf",
  "os-release",
  "pki/ca-trust/extracted",
  "pki/tls/certs",
  "protocols",
  "services",
  "ssl/certs",
  "timezone",
];

/** Top-level system paths: bound read-only when directories, recreated when links (merged /usr). */
export const SYSTEM_DIRS: readonly string[] = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

export interface HostPath {
  path: string;
  /** The link's target when the host path is a symbolic link; null for a directory or file. */
  link: string | null;
}

export interface BubblewrapArgsInput {
  /** The system directories present on the host (see `SYSTEM_DIRS`). */
  system: readonly HostPath[];
  /** The `/etc` entries present on the host, by name (see `ETC_FILES`). */
  etc: readonly string[];
  /** Generated `passwd` and `group` files naming the sandbox user. */
  passwdFile: string;
  groupFile: string;
  /** Read-only paths of the CLI's installation, bound at the same path. */
  readOnly: readonly string[];
  /** The attempt's directories on the host. */
  repoDir: string;
  homeDir: string;
  tmpDir: string;
  scratchDir: string;
  /** The dependency cache to bind writable at `/cache` (the setup phase's only), or null. */
  dependencyCacheDir?: string | null;
  /** The egress proxy socket and the bridge program, when the attempt has egress. */
  egress: { socketPath: string; initScript: string } | null;
  /** Hold the program until the runner lets it go (fds 3 and 4). */
  held: boolean;
}

/** Where the bridge program and the proxy socket appear inside. */
export const SANDBOX_INIT_PATH = `${SANDBOX_PATHS.run}/sandbox-init.mjs`;
export const SANDBOX_PROXY_SOCKET = `${SANDBOX_PATHS.run}/egress.sock`;

/**
 * bubblewrap's arguments up to and including `--`; the program and its arguments follow.
 * @example
 * const args = [...bubblewrapArgs(input), "/usr/bin/node", "cli.js"];
 */
export function bubblewrapArgs(input: BubblewrapArgsInput): string[] {
  const args = [
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--uid",
    String(SANDBOX_UID),
    "--gid",
    String(SANDBOX_GID),
    "--cap-drop",
    "ALL",
    "--hostname",
    "codeforge-sandbox",
  ];
  for (const entry of input.system) {
    if (entry.link !== null) args.push("--symlink", entry.link, entry.path);
    else args.push("--ro-bind", entry.path, entry.path);
  }
  for (const name of input.etc) args.push("--ro-bind", path.join("/etc", name), path.join("/etc", name));
  args.push("--ro-bind", input.passwdFile, "/etc/passwd", "--ro-bind", input.groupFile, "/etc/group");
  args.push("--proc", "/proc", "--dev", "/dev");
  args.push(
    "--bind",
    input.repoDir,
    SANDBOX_PATHS.repo,
    "--bind",
    input.homeDir,
    SANDBOX_PATHS.home,
    "--bind",
    input.tmpDir,
    SANDBOX_PATHS.tmp,
    "--bind",
    input.scratchDir,
    SANDBOX_PATHS.scratch,
  );
  if (input.dependencyCacheDir) args.push("--bind", input.dependencyCacheDir, SANDBOX_PATHS.dependencyCache);
  // After the workspace: an installation under the host's /tmp is not hidden by the sandbox's.
  for (const ro of input.readOnly) args.push("--ro-bind", ro, ro);
  if (input.egress) {
    args.push("--ro-bind", input.egress.initScript, SANDBOX_INIT_PATH, "--bind", input.egress.socketPath, SANDBOX_PROXY_SOCKET);
  }
  args.push("--chdir", SANDBOX_PATHS.repo);
  if (input.held) args.push("--info-fd", "3", "--block-fd", "4");
  args.push("--");
  return args;
}

/** `/etc/passwd` and `/etc/group` for the sandbox: its user and the usual nobody. */
export function sandboxIdentityFiles(): { passwd: string; group: string } {
  return {
    passwd: `agent:x:${SANDBOX_UID}:${SANDBOX_GID}:CodeForge agent:${SANDBOX_PATHS.home}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `agent:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
  };
}
