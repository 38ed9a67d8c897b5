/**
 * The catalog table's key design, shared by the CDK stack, the local runtime (which creates the
 * table in dynalite) and the stores, so the three agree by construction.
 *
 * One table holds checkpoints, jobs, location claims, the simulation registry and cached tags:
 * - `pk`/`sk`: `CKPT#<id>`/`CKPT`, `JOB#<id>`/`JOB`, `LOC#<bucket>/<key>`/`LOC`,
 *   `SIMULATIONS`/`SIM#<simulation>` (with its first checkpoint's and newest completion's times),
 *   `TAGS#<simulation key>`/`TAGS` (a simulation's tags as last read, removed by TTL),
 *   `RETENTION#<checkpoints|archives>#<simulation>`/`BASE` (its last approved retention run).
 * - `byCreated` (GSI1 `gsi1pk`/`gsi1sk`): `SIM#<simulation>#CKPT` or `SIM#<simulation>#JOB`,
 *   sorted by `<createdAt or startTime>#<id>`, for listings by simulation in creation order; and
 *   `CLAIMS#<checkpoint id>`/`<bucket>/<key>` on each claim item, the files a checkpoint claimed.
 * - `openJobs` (GSI2 `gsi2pk`/`gsi2sk`, sparse): `OPEN#<simulation>` while a job is RUNNING,
 *   removed when it finishes, so open jobs are found without scanning finished ones.
 */
export const catalogTable = {
  partitionKey: "pk",
  sortKey: "sk",
  timeToLiveAttribute: "expiresAt",
  indexes: {
    byCreated: { name: "byCreated", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    openJobs: { name: "openJobs", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  },
} as const;
