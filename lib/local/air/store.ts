import { randomUUID } from "node:crypto";
import type * as z from "zod";
import {
  type AirCheckpointJson,
  type AirCheckpointState,
  type AirRunJson,
  type AirSimulationJson,
  type AirSimulationState,
  type AirTimedState,
  badRequest,
  fieldErrors,
  notFound,
} from "./model.ts";
import { matchesSearch, orderBy, type Sortable } from "./paging.ts";
import type {
  CheckpointListQuery,
  CheckpointPatchBody,
  CloneBody,
  RunListQuery,
  ShutdownBody,
  SimulationListQuery,
  StartBody,
} from "./schemas.ts";

/** How long a simulation stays in each timed state: milliseconds, or `manual` (until `advance`). */
export type AirDelays = Record<AirTimedState, number | "manual">;

/** A checkpoint a test or the demo puts in place, as if an earlier run had saved it. */
export interface AirCheckpointSeed {
  id?: string;
  name?: string;
  favorite?: boolean;
  state?: AirCheckpointState;
  metadata?: unknown;
  created?: Date;
}

/** A simulation a test or the demo puts in place; its checkpoints each come from an ended run. */
export interface AirSimulationSeed {
  id?: string;
  name: string;
  /** INACTIVE (the default) or ACTIVE (with an ongoing run), or any state to start in. */
  state?: AirSimulationState;
  creator?: string;
  created?: Date;
  sleepAt?: Date | null;
  expiresAt?: Date | null;
  metadata?: string | null;
  checkpoints?: AirCheckpointSeed[];
}

interface Simulation {
  id: string;
  name: string;
  creator: string;
  created: Date;
  modified: Date;
  state: AirSimulationState;
  sleepAt: Date | null;
  expiresAt: Date | null;
  metadata: string | null;
  currentRun?: Run;
  /** The states still to come on the current path, each with what happens on entering it. */
  plan: Step[];
  timer?: NodeJS.Timeout;
  /** Bumped whenever the path is replaced, so a step started by an older path stops. */
  generation: number;
  idleWaiters: (() => void)[];
}

interface Run {
  id: string;
  name: string;
  simulation: string;
  startedFrom: string | null;
  startedAt: Date;
  endedAt: Date | null;
  created: Date;
  modified: Date;
}

interface Checkpoint {
  id: string;
  run: string;
  simulation: string;
  state: AirCheckpointState;
  metadata: unknown;
  created: Date;
  modified: Date;
  name: string;
  favorite: boolean;
}

interface Step {
  state: AirSimulationState;
  enter?: () => void;
}

const START_PATH: readonly AirSimulationState[] = [
  "REQUESTING",
  "PROVISIONING",
  "PREPARE_BOOT",
  "BOOTING",
  "ACTIVE",
];

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null): string | null => (date === null ? null : iso(date));

/** `Checkpoint 2026-12-01 10:00:00`, the name Air gives a checkpoint it saves on shutdown. */
const checkpointName = (at: Date): string =>
  `Checkpoint ${at.toISOString().slice(0, 19).replace("T", " ")}`;

/**
 * Everything the local Air server holds, in memory, and the clock that moves simulations along
 * Air's documented paths (start, shutdown with and without a checkpoint, clone) after configurable
 * delays. Requests and test hooks change it only through these methods, so the rules (only
 * COMPLETE checkpoints start, clone or delete; Air makes room by deleting non-favorites first,
 * then older ones) live in one place, and every intermediate state is visible through GET.
 */
export class AirStore {
  private readonly simulations = new Map<string, Simulation>();
  private readonly runs = new Map<string, Run>();
  private readonly checkpoints = new Map<string, Checkpoint>();
  private lastTime = 0;

  constructor(
    private readonly delays: AirDelays,
    private readonly maxCheckpointsPerSimulation: number,
  ) {}

  /** Now, strictly after every earlier timestamp, so "most recent" is never a tie. */
  private now(): Date {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    return new Date(this.lastTime);
  }

  // ---- seeding and test hooks -----------------------------------------------------------------

  /** Adds a simulation as if created (and run) earlier; returns it in the API's shape. */
  seed(seed: AirSimulationSeed): AirSimulationJson {
    const id = seed.id?.toLowerCase() ?? randomUUID();
    if (this.simulations.has(id)) throw new Error(`Air simulation ${id} already exists`);
    const created = seed.created ?? this.now();
    const sim: Simulation = {
      id,
      name: seed.name,
      creator: seed.creator ?? "simsnap@example.com",
      created,
      modified: created,
      state: seed.state ?? "INACTIVE",
      sleepAt: seed.sleepAt ?? null,
      expiresAt: seed.expiresAt ?? null,
      metadata: seed.metadata ?? null,
      plan: [],
      generation: 0,
      idleWaiters: [],
    };
    this.simulations.set(id, sim);
    for (const checkpointSeed of seed.checkpoints ?? []) {
      const at = checkpointSeed.created ?? this.now();
      const run = this.addRun(sim, `Run ${iso(at)}`, null, at);
      run.endedAt = at;
      const checkpoint = this.addCheckpoint(
        sim,
        run,
        checkpointSeed.name ?? checkpointName(at),
        at,
      );
      const wantedId = checkpointSeed.id?.toLowerCase();
      if (wantedId !== undefined) {
        if (this.checkpoints.has(wantedId)) {
          throw new Error(`Air checkpoint ${wantedId} already exists`);
        }
        this.checkpoints.delete(checkpoint.id);
        checkpoint.id = wantedId;
        this.checkpoints.set(wantedId, checkpoint);
      }
      checkpoint.favorite = checkpointSeed.favorite ?? false;
      checkpoint.state = checkpointSeed.state ?? "COMPLETE";
      checkpoint.metadata = checkpointSeed.metadata ?? null;
    }
    if (sim.state === "ACTIVE") {
      sim.currentRun = this.addRun(
        sim,
        `Run ${iso(created)}`,
        this.latestComplete(sim)?.id ?? null,
      );
    }
    return this.simulationJson(sim);
  }

  /** Every simulation, in the API's shape, in the order they were added. */
  allSimulations(): AirSimulationJson[] {
    return [...this.simulations.values()].map((sim) => this.simulationJson(sim));
  }

  /**
   * Deletes a checkpoint the way Air does on its own (to make room, or for its own reasons): the
   * checkpoint becomes DELETED without any request, as a client syncing with Air will find it.
   */
  deleteByAir(checkpointId: string): AirCheckpointJson {
    const checkpoint = this.checkpoints.get(checkpointId.toLowerCase());
    if (!checkpoint) throw new Error(`No Air checkpoint ${checkpointId}`);
    if (checkpoint.state === "DELETED") throw new Error(`Checkpoint ${checkpointId} is DELETED`);
    this.markDeleted(checkpoint);
    return this.checkpointJson(checkpoint);
  }

  /**
   * Forces a state, as Air does on its own (INVALID after a failure, an operator's action); the
   * rest of the simulation's current path is abandoned (a PENDING checkpoint stays PENDING).
   */
  forceState(simulationId: string, state: AirSimulationState): AirSimulationJson {
    const sim = this.mustHook(simulationId);
    this.replacePlan(sim, []);
    this.setState(sim, state);
    this.notifyIdle(sim);
    return this.simulationJson(sim);
  }

  /**
   * Moves a simulation to the next state of its path now, whatever its delay (the way to leave a
   * `manual` state); returns the state entered. Throws when the simulation is not on a path.
   */
  advance(simulationId: string): AirSimulationState {
    const sim = this.mustHook(simulationId);
    if (sim.plan.length === 0)
      throw new Error(`Air simulation ${sim.id} is ${sim.state}, not moving`);
    this.step(sim);
    return sim.state;
  }

  /**
   * Resolves once the simulation (every simulation when no id is given) has reached the end of its
   * path. Never resolves while a `manual` state waits for `advance`.
   */
  async idle(simulationId?: string): Promise<void> {
    // A simulation already deleted is at the end of its path.
    const one = simulationId && this.simulations.get(simulationId.toLowerCase());
    const sims = simulationId === undefined ? [...this.simulations.values()] : one ? [one] : [];
    await Promise.all(
      sims.map((sim) =>
        sim.plan.length === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => sim.idleWaiters.push(resolve)),
      ),
    );
  }

  /** Cancels every pending transition; the server is closing. */
  cancelTimers(): void {
    for (const sim of this.simulations.values()) clearTimeout(sim.timer);
  }

  // ---- simulations ----------------------------------------------------------------------------

  listSimulations(query: z.output<typeof SimulationListQuery>): AirSimulationJson[] {
    const matching = [...this.simulations.values()].filter(
      (sim) =>
        (query.id === undefined || sim.id === query.id.toLowerCase()) &&
        (query.name === undefined || sim.name === query.name) &&
        (query.creator === undefined || sim.creator === query.creator) &&
        (query.state === undefined || sim.state === query.state),
    );
    const views = matching.map((sim) => this.simulationJson(sim));
    return orderBy(
      views,
      query.ordering ?? [],
      [{ field: "created", descending: false }],
      (view, field) => (field === "assigned_to" ? null : (view[field] as Sortable)),
    );
  }

  getSimulation(id: string): AirSimulationJson {
    return this.simulationJson(this.mustSimulation(id));
  }

  /**
   * Starts an INACTIVE simulation on a new run, from the given COMPLETE checkpoint of its own, the
   * most recent COMPLETE one when none is named, or from scratch when `null` is sent.
   */
  start(id: string, body: z.output<typeof StartBody>): AirSimulationJson {
    const sim = this.mustSimulation(id);
    if (sim.state !== "INACTIVE") {
      throw badRequest(`Simulation is ${sim.state}; only an INACTIVE simulation can be started.`);
    }
    const from =
      body.checkpoint === undefined
        ? this.latestComplete(sim)
        : body.checkpoint === null
          ? undefined
          : this.ownCompleteCheckpoint(sim, "checkpoint", body.checkpoint);
    this.beginStart(sim, from);
    return this.simulationJson(sim);
  }

  /**
   * Shuts an ACTIVE simulation down: saving a new checkpoint (PENDING while SAVING, COMPLETE once
   * INACTIVE, older ones deleted to make room) unless `create_checkpoint` is false (a purge).
   */
  shutdown(id: string, body: z.output<typeof ShutdownBody>): AirSimulationJson {
    const sim = this.mustSimulation(id);
    if (sim.state !== "ACTIVE") {
      throw badRequest(`Simulation is ${sim.state}; only an ACTIVE simulation can be shut down.`);
    }
    const run = sim.currentRun ?? this.addRun(sim, `Run ${iso(sim.modified)}`, null);
    const endRun = (): void => {
      run.endedAt = this.now();
      run.modified = run.endedAt;
      sim.currentRun = undefined;
    };
    if (body.create_checkpoint === false) {
      this.runPlan(sim, [
        { state: "PREPARE_PURGE" },
        { state: "PURGING" },
        { state: "INACTIVE", enter: endRun },
      ]);
    } else {
      let saving: Checkpoint | undefined;
      this.runPlan(sim, [
        { state: "PREPARE_SHUTDOWN" },
        { state: "SHUTTING_DOWN" },
        {
          state: "SAVING",
          enter: () => {
            const at = this.now();
            saving = this.addCheckpoint(sim, run, checkpointName(at), at);
            this.makeRoom(sim, saving);
          },
        },
        {
          state: "INACTIVE",
          enter: () => {
            if (saving?.state === "PENDING") {
              saving.state = "COMPLETE";
              saving.modified = this.now();
            }
            endRun();
          },
        },
      ]);
    }
    return this.simulationJson(sim);
  }

  /**
   * Clones an INACTIVE (or CLONING) simulation into a new one, copying the named COMPLETE
   * checkpoint (the most recent one when none is named, none when `null`), then starting the
   * clone when `attempt_start` asks.
   */
  clone(body: z.output<typeof CloneBody>): AirSimulationJson {
    const source = this.simulations.get(body.simulation.toLowerCase());
    if (!source) {
      throw fieldErrors({
        simulation: [`Invalid pk "${body.simulation}" - object does not exist.`],
      });
    }
    if (source.state !== "INACTIVE" && source.state !== "CLONING") {
      throw fieldErrors({
        simulation: [`Simulation is ${source.state}; it must be INACTIVE or CLONING to be cloned.`],
      });
    }
    const from =
      body.checkpoint === undefined
        ? this.latestComplete(source)
        : body.checkpoint === null
          ? undefined
          : this.ownCompleteCheckpoint(source, "checkpoint", body.checkpoint);
    const created = this.now();
    const clone: Simulation = {
      id: randomUUID(),
      name: body.name ?? source.name,
      creator: source.creator,
      created,
      modified: created,
      state: "CLONING",
      sleepAt: null,
      expiresAt: null,
      metadata: source.metadata,
      plan: [],
      generation: 0,
      idleWaiters: [],
    };
    this.simulations.set(clone.id, clone);
    let copy: Checkpoint | undefined;
    if (from) {
      const run = this.addRun(clone, `Cloned from ${source.name}`, from.id, created);
      run.endedAt = created;
      copy = this.addCheckpoint(clone, run, from.name, created);
      copy.state = "COMPLETE";
      copy.metadata = from.metadata;
    }
    this.runPlan(clone, [
      { state: "CLONING" },
      {
        state: "INACTIVE",
        enter: body.attempt_start === true ? () => this.beginStart(clone, copy) : undefined,
      },
    ]);
    return this.simulationJson(clone);
  }

  /**
   * Starts deleting a simulation, as the reference's `DELETE simulations/{id}/` does: it is
   * DELETING for a while (still listed, its path abandoned), then gone with its runs and
   * checkpoints (each answers 404 from then on). The reference lists a 400 without saying when;
   * here it answers one for a simulation already DELETING.
   */
  deleteSimulation(id: string): void {
    const sim = this.mustSimulation(id);
    if (sim.state === "DELETING") {
      throw badRequest("Simulation is DELETING; it is already being deleted.");
    }
    this.runPlan(sim, [{ state: "DELETING" }, { state: "DELETING", enter: () => this.drop(sim) }]);
  }

  // ---- runs -----------------------------------------------------------------------------------

  listRuns(query: z.output<typeof RunListQuery>): AirRunJson[] {
    const simulation = query.simulation?.toLowerCase();
    const views = [...this.runs.values()]
      .filter((run) => simulation === undefined || run.simulation === simulation)
      .map((run) => this.runJson(run));
    return orderBy(
      views,
      query.ordering ?? [],
      [{ field: "created", descending: false }],
      (view, field) => view[field],
    );
  }

  getRun(id: string): AirRunJson {
    const run = this.runs.get(id.toLowerCase());
    if (!run) throw notFound("Run");
    return this.runJson(run);
  }

  // ---- checkpoints ----------------------------------------------------------------------------

  listCheckpoints(query: z.output<typeof CheckpointListQuery>): AirCheckpointJson[] {
    const simulation = query.simulation?.toLowerCase();
    const run = query.run?.toLowerCase();
    const matching = [...this.checkpoints.values()].filter(
      (checkpoint) =>
        (simulation === undefined || checkpoint.simulation === simulation) &&
        (run === undefined || checkpoint.run === run) &&
        (query.state === undefined || checkpoint.state === query.state) &&
        (query.favorite === undefined || checkpoint.favorite === query.favorite) &&
        matchesSearch(query.search, [checkpoint.name, checkpoint.state]),
    );
    const views = matching.map((checkpoint) => this.checkpointJson(checkpoint));
    return orderBy(
      views,
      query.ordering ?? [],
      [{ field: "created", descending: false }],
      (view, field) => view[field],
    );
  }

  getCheckpoint(id: string): AirCheckpointJson {
    return this.checkpointJson(this.mustCheckpoint(id));
  }

  /** Renames and (un)favorites a checkpoint; nothing else about it can be changed. */
  updateCheckpoint(id: string, body: z.output<typeof CheckpointPatchBody>): AirCheckpointJson {
    const checkpoint = this.mustCheckpoint(id);
    if (body.name !== undefined) checkpoint.name = body.name;
    if (body.favorite !== undefined) checkpoint.favorite = body.favorite;
    checkpoint.modified = this.now();
    return this.checkpointJson(checkpoint);
  }

  /** Deletes a COMPLETE checkpoint (it becomes DELETED); any other state is refused. */
  deleteCheckpoint(id: string): void {
    const checkpoint = this.mustCheckpoint(id);
    if (checkpoint.state !== "COMPLETE") {
      throw badRequest(
        `Only checkpoints in the COMPLETE state may be deleted; this one is ${checkpoint.state}.`,
      );
    }
    this.markDeleted(checkpoint);
  }

  // ---- internals ------------------------------------------------------------------------------

  private mustSimulation(id: string): Simulation {
    const sim = this.simulations.get(id.toLowerCase());
    if (!sim) throw notFound("Simulation");
    return sim;
  }

  private mustCheckpoint(id: string): Checkpoint {
    const checkpoint = this.checkpoints.get(id.toLowerCase());
    if (!checkpoint) throw notFound("Checkpoint");
    return checkpoint;
  }

  private mustHook(simulationId: string): Simulation {
    const sim = this.simulations.get(simulationId.toLowerCase());
    if (!sim) throw new Error(`No Air simulation ${simulationId}`);
    return sim;
  }

  /** The checkpoint a start or clone names, refused unless it is a COMPLETE one of `sim`'s. */
  private ownCompleteCheckpoint(sim: Simulation, field: string, id: string): Checkpoint {
    const checkpoint = this.checkpoints.get(id.toLowerCase());
    if (!checkpoint) {
      throw fieldErrors({ [field]: [`Invalid pk "${id}" - object does not exist.`] });
    }
    if (checkpoint.simulation !== sim.id) {
      throw fieldErrors({ [field]: ["The checkpoint does not belong to this simulation."] });
    }
    if (checkpoint.state !== "COMPLETE") {
      throw fieldErrors({
        [field]: [`Only a COMPLETE checkpoint can be used; this one is ${checkpoint.state}.`],
      });
    }
    return checkpoint;
  }

  private latestComplete(sim: Simulation): Checkpoint | undefined {
    let latest: Checkpoint | undefined;
    for (const checkpoint of this.checkpoints.values()) {
      if (checkpoint.simulation !== sim.id || checkpoint.state !== "COMPLETE") continue;
      if (!latest || checkpoint.created > latest.created) latest = checkpoint;
    }
    return latest;
  }

  private beginStart(sim: Simulation, from: Checkpoint | undefined): void {
    const at = this.now();
    sim.currentRun = this.addRun(sim, `Run ${iso(at)}`, from?.id ?? null, at);
    this.runPlan(
      sim,
      START_PATH.map((state) => ({ state })),
    );
  }

  private addRun(sim: Simulation, name: string, startedFrom: string | null, at = this.now()): Run {
    const run: Run = {
      id: randomUUID(),
      name,
      simulation: sim.id,
      startedFrom,
      startedAt: at,
      endedAt: null,
      created: at,
      modified: at,
    };
    this.runs.set(run.id, run);
    return run;
  }

  private addCheckpoint(sim: Simulation, run: Run, name: string, at: Date): Checkpoint {
    const checkpoint: Checkpoint = {
      id: randomUUID(),
      run: run.id,
      simulation: sim.id,
      state: "PENDING",
      metadata: null,
      created: at,
      modified: at,
      name,
      favorite: false,
    };
    this.checkpoints.set(checkpoint.id, checkpoint);
    return checkpoint;
  }

  /** The end of a delete: the simulation, its runs and its checkpoints are no more. */
  private drop(sim: Simulation): void {
    this.simulations.delete(sim.id);
    for (const [id, run] of this.runs) if (run.simulation === sim.id) this.runs.delete(id);
    for (const [id, checkpoint] of this.checkpoints) {
      if (checkpoint.simulation === sim.id) this.checkpoints.delete(id);
    }
  }

  private markDeleted(checkpoint: Checkpoint): void {
    checkpoint.state = "DELETED";
    checkpoint.modified = this.now();
  }

  /**
   * Air's eviction, as the shutdown reference describes it: while `sim` holds more checkpoints
   * than allowed (counting the one being saved), delete COMPLETE ones, keeping favorites over
   * non-favorites and newer over older.
   */
  private makeRoom(sim: Simulation, saving: Checkpoint): void {
    const held = [...this.checkpoints.values()].filter(
      (checkpoint) =>
        checkpoint.simulation === sim.id &&
        (checkpoint.state === "COMPLETE" || checkpoint.state === "PENDING"),
    );
    const victims = held
      .filter((checkpoint) => checkpoint !== saving && checkpoint.state === "COMPLETE")
      .sort(
        (a, b) =>
          Number(a.favorite) - Number(b.favorite) || a.created.getTime() - b.created.getTime(),
      );
    for (const victim of victims.slice(
      0,
      Math.max(0, held.length - this.maxCheckpointsPerSimulation),
    )) {
      this.markDeleted(victim);
    }
  }

  private setState(sim: Simulation, state: AirSimulationState): void {
    sim.state = state;
    sim.modified = this.now();
  }

  private replacePlan(sim: Simulation, steps: Step[]): void {
    clearTimeout(sim.timer);
    sim.timer = undefined;
    sim.plan = steps;
    sim.generation++;
  }

  /** Puts `sim` on a new path and enters its first state now. */
  private runPlan(sim: Simulation, steps: Step[]): void {
    this.replacePlan(sim, steps);
    this.step(sim);
  }

  /** Enters the next state of the path, then waits that state's delay (unless a hook moved on). */
  private step(sim: Simulation): void {
    clearTimeout(sim.timer);
    sim.timer = undefined;
    const next = sim.plan.shift();
    if (!next) return;
    const generation = sim.generation;
    this.setState(sim, next.state);
    next.enter?.();
    if (sim.generation !== generation) return;
    if (sim.plan.length === 0) {
      this.notifyIdle(sim);
      return;
    }
    const delay = this.delays[sim.state as AirTimedState];
    if (delay === "manual") return;
    sim.timer = setTimeout(() => {
      if (sim.generation === generation) this.step(sim);
    }, delay ?? 0);
  }

  private notifyIdle(sim: Simulation): void {
    const waiters = sim.idleWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }

  private simulationJson(sim: Simulation): AirSimulationJson {
    let complete = 0;
    for (const checkpoint of this.checkpoints.values()) {
      if (checkpoint.simulation === sim.id && checkpoint.state === "COMPLETE") complete++;
    }
    return {
      id: sim.id,
      created: iso(sim.created),
      modified: iso(sim.modified),
      name: sim.name,
      state: sim.state,
      creator: sim.creator,
      auto_oob_enabled: false,
      enable_dhcp: false,
      sleep_at: isoOrNull(sim.sleepAt),
      expires_at: isoOrNull(sim.expiresAt),
      documentation: null,
      complete_checkpoint_count: complete,
      metadata: sim.metadata,
    };
  }

  private runJson(run: Run): AirRunJson {
    return {
      id: run.id,
      name: run.name,
      simulation: run.simulation,
      started_from: run.startedFrom,
      started_at: iso(run.startedAt),
      ended_at: isoOrNull(run.endedAt),
      created: iso(run.created),
      modified: iso(run.modified),
    };
  }

  private checkpointJson(checkpoint: Checkpoint): AirCheckpointJson {
    return {
      id: checkpoint.id,
      run: checkpoint.run,
      state: checkpoint.state,
      metadata: checkpoint.metadata,
      created: iso(checkpoint.created),
      modified: iso(checkpoint.modified),
      name: checkpoint.name,
      favorite: checkpoint.favorite,
    };
  }
}
