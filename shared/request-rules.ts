// The shapes of request fields that both the engine (electron/main/engine/request/request.ts, the
// authority) and the request form (renderer/src/lib/validate.ts, as the user types) check:
// one definition, so the form never lets through what the engine refuses, or the reverse.

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
// Docker's reference grammar, simplified: [registry[:port]/]path[:tag][@digest], lowercase path.
export const IMAGE_REF =
  /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const PIP_VERSION_CLAUSE = String.raw`(?:===|==|!=|~=|>=|<=|>|<)[A-Za-z0-9.*+!_-]+`;
// A PEP 508 requirement without URLs, markers or spaces: name[extras]specifiers.
export const PIP_REQUIREMENT = new RegExp(
  String.raw`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._-]+(?:,[A-Za-z0-9._-]+)*\])?` +
    `(?:${PIP_VERSION_CLAUSE}(?:,${PIP_VERSION_CLAUSE})*)?$`,
);
// An npm name (optionally scoped) with an optional version, range or tag, without spaces.
export const NPM_SPEC = /^(?:@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*(?:@[A-Za-z0-9.^~<>=*+_|-]+)?$/;
/** Package files the installers take from a local source, by runtime. */
export const LOCAL_PACKAGE_FILE: Record<'python' | 'node', RegExp> = {
  python: /\.(?:whl|tar\.gz|zip)$/,
  node: /\.(?:tgz|tar\.gz)$/,
};
/** A '..' segment: refused in local package paths before any file is looked at. */
export function hasParentSegment(path: string): boolean {
  return path.split(/[\\/]/).includes('..');
}
export const MAX_PACKAGES = 200;
export const MAX_COMMAND_BYTES = 1024 * 1024;
