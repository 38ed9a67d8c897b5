import packageJson from "../package.json" with { type: "json" };

/**
 * The simsnap release that wrote a record, from package.json (bundled into each function), so an
 * archive manifest read years later says which code produced it.
 */
export const SIMSNAP_VERSION: string = packageJson.version;
