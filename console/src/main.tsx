// The simsnap web console (docs/console.md): simulations, a timeline of one simulation's
// checkpoints with a retention preview, jobs, and the actions the HTTP API offers.
import { render, type ComponentChildren } from "preact";
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { allCheckpoints, ApiError, createApi, type Api } from "./api.ts";
import { formatAge, formatBytes, formatTime } from "./format.ts";
import type { Credentials } from "./sign.ts";
import { Timeline } from "./timeline.tsx";
import { timesOf, type PlanMark, type TimelineItem } from "./timeline-layout.ts";
import type { Checkpoint, Job, RetentionPlan, Simulation } from "./types.ts";
import "./styles.css";

const CREDENTIALS_KEY = "simsnap.credentials";
const JOB_POLL_MS = 2000;
const SIMULATION_POLL_MS = 5000;

function storedCredentials(): Credentials | undefined {
  try {
    const text = sessionStorage.getItem(CREDENTIALS_KEY);
    return text ? (JSON.parse(text) as Credentials) : undefined;
  } catch {
    return undefined;
  }
}

const regionOfHost = (host: string) =>
  /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host)?.[1] ?? "";

/** Runs an API call for a button, shows the API's refusal or `done`; true when it went through. */
type Act = (work: () => Promise<unknown>, done?: string) => Promise<boolean>;

/** An error to show: the API's own words, or what went wrong on the way. */
interface Shown {
  status: number;
  code: string;
  message: string;
  details: { path: string; message: string }[];
  correlationId?: string;
}

const shown = (error: unknown): Shown =>
  error instanceof ApiError
    ? {
        status: error.status,
        code: error.code,
        message: error.message,
        details: error.details,
        ...(error.correlationId ? { correlationId: error.correlationId } : {}),
      }
    : { status: 0, code: "Error", message: String(error), details: [] };

function ErrorBanner({ error, onClose }: { error: Shown | undefined; onClose: () => void }) {
  return (
    <div role="alert" class={error ? "error" : "error empty"}>
      {error && (
        <>
          <p>
            <strong>
              {error.status > 0 ? `${error.status} ` : ""}
              {error.code}
            </strong>
            : {error.message}
          </p>
          {error.details.length > 0 && (
            <ul>
              {error.details.map((d) => (
                <li key={d.path}>
                  <code>{d.path}</code>: {d.message}
                </li>
              ))}
            </ul>
          )}
          {error.correlationId && <p class="muted">Correlation id {error.correlationId}</p>}
          <button type="button" onClick={onClose}>
            Dismiss
          </button>
        </>
      )}
    </div>
  );
}

function SignIn({ onSave }: { onSave: (credentials: Credentials | undefined) => void }) {
  const current = storedCredentials();
  const [region, setRegion] = useState(current?.region ?? regionOfHost(location.hostname));
  const [accessKeyId, setAccessKeyId] = useState(current?.accessKeyId ?? "");
  const [secretAccessKey, setSecret] = useState(current?.secretAccessKey ?? "");
  const [sessionToken, setToken] = useState(current?.sessionToken ?? "");
  return (
    <form
      class="panel signin"
      aria-labelledby="signin-title"
      onSubmit={(event) => {
        event.preventDefault();
        onSave({ region, accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) });
      }}
    >
      <h2 id="signin-title">Sign requests (AWS)</h2>
      <p class="muted">
        The API in AWS accepts SigV4-signed requests only. The credentials stay in this browser tab
        (session storage) and sign each request here; they are never sent.
      </p>
      <label>
        Region
        <input value={region} onInput={(e) => setRegion(e.currentTarget.value)} required />
      </label>
      <label>
        Access key id
        <input
          value={accessKeyId}
          onInput={(e) => setAccessKeyId(e.currentTarget.value)}
          required
          autocomplete="off"
        />
      </label>
      <label>
        Secret access key
        <input
          type="password"
          value={secretAccessKey}
          onInput={(e) => setSecret(e.currentTarget.value)}
          required
          autocomplete="off"
        />
      </label>
      <label>
        Session token (temporary credentials)
        <input
          type="password"
          value={sessionToken}
          onInput={(e) => setToken(e.currentTarget.value)}
          autocomplete="off"
        />
      </label>
      <div class="row">
        <button type="submit">Sign requests</button>
        <button type="button" onClick={() => onSave(undefined)}>
          Send unsigned
        </button>
      </div>
    </form>
  );
}

/** An action that asks again before it acts. */
function Confirm(props: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<unknown> | void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" disabled={props.disabled} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        ref={(button) => button?.focus()}
        onClick={async () => {
          setAsking(false);
          await props.onConfirm();
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Age of the newest completed checkpoint, and what the schedule's staleness alarm says of it. */
function freshnessOf(simulation: Simulation, now: number) {
  const f = simulation.freshness;
  if (f) {
    const undecided = f.undecided?.length
      ? ` Schedules selecting on tags (${f.undecided.join(", ")}) may select it too.`
      : "";
    if (f.late === undefined || f.lateAfterSeconds === undefined) {
      return {
        age: formatAge(f.ageSeconds),
        verdict: "unscheduled",
        rule: `No snapshot schedule selects it by name.${undecided}`,
      };
    }
    return {
      age: formatAge(f.ageSeconds),
      verdict: f.late ? "late" : "fresh",
      rule: `Late after ${formatAge(f.lateAfterSeconds)} without a completed checkpoint: twice the longest interval of schedule ${f.schedule}, the staleness alarm's rule.${undecided}`,
    };
  }
  if (!simulation.lastCheckpointAt) return { age: "never", verdict: "", rule: "" };
  return {
    age: formatAge((now - Date.parse(simulation.lastCheckpointAt)) / 1000),
    verdict: "",
    rule: "",
  };
}

function Simulations(props: {
  simulations: Simulation[];
  openJobs: Job[];
  selected: string | undefined;
  onSelect: (name: string) => void;
  now: number;
}) {
  return (
    <TablePanel
      id="simulations"
      title="Simulations"
      columns={[
        { label: "Name" },
        { label: "Provider", optional: true },
        { label: "Status" },
        { label: "Newest complete", optional: true },
        { label: "Age" },
        { label: "Checkpoints", optional: true },
        { label: "Open jobs" },
      ]}
    >
      {props.simulations.map((simulation) => {
        const fresh = freshnessOf(simulation, props.now);
        const open = props.openJobs.filter((j) => j.simulation === simulation.name);
        const current = simulation.name === props.selected;
        return (
          <tr key={simulation.name} class={current ? "current" : ""}>
            <th scope="row">
              <button
                type="button"
                class="link"
                aria-current={current ? "true" : undefined}
                onClick={() => props.onSelect(simulation.name)}
              >
                {simulation.name}
              </button>
            </th>
            <td class="optional">{simulation.provider}</td>
            <td>
              <span class={`badge status-${simulation.status.toLowerCase()}`}>
                {simulation.status}
              </span>
            </td>
            <td class="optional">{formatTime(simulation.lastCheckpointAt)}</td>
            <td title={fresh.rule}>
              <span>{fresh.age}</span>
              {fresh.verdict && (
                <span class={`badge freshness-${fresh.verdict}`}>{fresh.verdict}</span>
              )}
              {fresh.rule && <span class="sr-only"> {fresh.rule}</span>}
            </td>
            <td class="optional">
              {simulation.checkpoints.COMPLETE} complete
              {simulation.checkpoints.PENDING > 0 && `, ${simulation.checkpoints.PENDING} pending`}
              {simulation.checkpoints.FAILED > 0 && `, ${simulation.checkpoints.FAILED} failed`}
            </td>
            <td>
              {open.length === 0
                ? "—"
                : open.map((j) => (
                    <span key={j.id} class="badge status-running">
                      {j.kind}
                    </span>
                  ))}
            </td>
          </tr>
        );
      })}
    </TablePanel>
  );
}

/** A table column; `optional` ones give way on narrow screens (styles.css). */
interface Column {
  label: string;
  optional?: boolean;
}

/** A panel of one scrolling table, labelled for screen readers by its heading. */
function TablePanel(props: {
  id: string;
  title: string;
  columns: Column[];
  children: ComponentChildren;
}) {
  return (
    <section class="panel" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              {props.columns.map((column) => (
                <th key={column.label} scope="col" class={column.optional ? "optional" : undefined}>
                  {column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{props.children}</tbody>
        </table>
      </div>
    </section>
  );
}

const itemOf = (checkpoint: Checkpoint): TimelineItem => ({
  id: checkpoint.id,
  createdAt: checkpoint.createdAt,
  state: checkpoint.state,
  favorite: checkpoint.favorite,
  archived: checkpoint.archive !== undefined,
  verified: checkpoint.verification?.status === "PASSED",
});

/**
 * In the trash: DELETED, with a `purgeAfter` and not yet purged. Read from the record alone, so
 * every kind the server's trash covers shows here; whether an undelete can still succeed (the
 * bytes, the kind, the time) is the API's to say, in its own words.
 */
const inTrash = (c: Checkpoint): c is Checkpoint & { purgeAfter: string } =>
  c.state === "DELETED" && c.purgeAfter !== undefined && c.purgedAt === undefined;

/** When a trashed checkpoint's deletion becomes final, as a person reads it. */
function purgeText(purgeAfter: string, now: number): string {
  const left = (Date.parse(purgeAfter) - now) / 1000;
  return left > 0 ? `in ${formatAge(left)}` : "due: the daily purge makes the deletion final";
}

/** What became of a DELETED checkpoint's bytes (docs/trash.md). */
function trashText(c: Checkpoint, now: number): string {
  if (c.purgedAt) return `purged ${formatTime(c.purgedAt)}: the deletion is final`;
  if (inTrash(c))
    return `in the trash until ${formatTime(c.purgeAfter)} (${purgeText(c.purgeAfter, now)})`;
  return "not in the trash: deleted for good";
}

/** The simulation's trash: what an undelete can bring back, soonest purged first. */
function Trash(props: {
  checkpoints: (Checkpoint & { purgeAfter: string })[];
  now: number;
  onShow: (id: string) => void;
  onUndelete: (checkpoint: Checkpoint) => Promise<boolean>;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <section id="trash" class="trash" aria-labelledby="trash-title">
      <h3 id="trash-title" tabIndex={-1} ref={heading}>
        Trash
      </h3>
      <p class="muted">
        A deleted or pruned checkpoint waits here until the daily purge after its time; undelete
        brings it back COMPLETE, as a favorite.
      </p>
      {props.checkpoints.length === 0 ? (
        <p>Nothing in the trash.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="optional">
                  Taken
                </th>
                <th scope="col" class="optional">
                  Size
                </th>
                <th scope="col">Purged after</th>
                <th scope="col">
                  <span class="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.checkpoints.map((c) => (
                <tr key={c.id} data-trashed={c.id}>
                  <th scope="row">
                    <button type="button" class="link" onClick={() => props.onShow(c.id)}>
                      {c.name}
                    </button>
                  </th>
                  <td class="optional">{formatTime(c.createdAt)}</td>
                  <td class="optional">{formatBytes(c.size)}</td>
                  <td>
                    {formatTime(c.purgeAfter)}
                    <br />
                    <span class="muted">{purgeText(c.purgeAfter, props.now)}</span>
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={async () => {
                        // The row leaves with its button: keep the keyboard in the trash.
                        if (await props.onUndelete(c)) heading.current?.focus();
                      }}
                    >
                      Undelete<span class="sr-only"> {c.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/**
 * The name field of the selected checkpoint. What it shows is worked out while rendering: the
 * checkpoint's name until the person types, then what they typed (kept through a refused rename
 * and through reloads, dropped when another checkpoint is picked: a new key). Not an effect
 * that copies the name in: effects run after the next paint, so text typed before it (quick
 * typing, a busy machine) was overwritten and the old name submitted.
 */
function RenameForm(props: { name: string; onRename: (name: string) => Promise<unknown> }) {
  const [typed, setTyped] = useState<string | undefined>(undefined);
  const name = typed ?? props.name;
  return (
    <form
      class="rename"
      onSubmit={(event) => {
        event.preventDefault();
        void props.onRename(name);
      }}
    >
      <label>
        Name
        <input value={name} onInput={(e) => setTyped(e.currentTarget.value)} />
      </label>
      <button type="submit">Rename</button>
    </form>
  );
}

function Details(props: {
  checkpoint: Checkpoint | undefined;
  plan: RetentionPlan | undefined;
  hovering: boolean;
  now: number;
  act: Act;
  api: Api;
}) {
  const { checkpoint, plan, act, api } = props;
  if (!checkpoint) {
    return (
      <section class="details" aria-labelledby="details-title">
        <h3 id="details-title">Checkpoint</h3>
        <p class="muted">Select a checkpoint on the timeline (click, or arrow keys).</p>
      </section>
    );
  }
  const kept = plan?.keep.find((k) => k.id === checkpoint.id);
  const removed = plan?.remove.some((r) => r.id === checkpoint.id);
  const where = checkpoint.location
    ? `s3://${checkpoint.location.bucket}/${checkpoint.location.key}`
    : checkpoint.platformId
      ? `held by ${checkpoint.provider} (${checkpoint.platformId})`
      : "—";
  return (
    <section class="details" aria-labelledby="details-title" data-checkpoint={checkpoint.id}>
      <h3 id="details-title">
        {checkpoint.favorite && <span aria-label="favorite">★ </span>}
        {checkpoint.name}
        {props.hovering && <span class="muted"> (hovered)</span>}
      </h3>
      <dl>
        <dt>State</dt>
        <dd>
          <span class={`badge state-${checkpoint.state.toLowerCase()}`}>{checkpoint.state}</span>
          {checkpoint.error && ` ${checkpoint.error.code}: ${checkpoint.error.message}`}
        </dd>
        {checkpoint.state === "DELETED" && (
          <>
            <dt>Trash</dt>
            <dd data-trash>{trashText(checkpoint, props.now)}</dd>
          </>
        )}
        <dt>Taken</dt>
        <dd>{formatTime(checkpoint.createdAt)}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(checkpoint.size)}</dd>
        <dt>Location</dt>
        <dd class="wrap">{where}</dd>
        <dt>Archive copy</dt>
        <dd class="wrap">
          {checkpoint.archive
            ? `s3://${checkpoint.archive.bucket}/${checkpoint.archive.key} (${checkpoint.archive.storageClass}, ${formatTime(checkpoint.archive.archivedAt)})`
            : "none"}
        </dd>
        <dt>Trigger</dt>
        <dd>{checkpoint.trigger}</dd>
        <dt>Job</dt>
        <dd class="wrap">{checkpoint.jobId ?? "—"}</dd>
        {checkpoint.verification && (
          <>
            <dt>Restore test</dt>
            <dd class="wrap">
              <span
                class={`badge state-${checkpoint.verification.status === "PASSED" ? "complete" : "failed"}`}
              >
                {checkpoint.verification.status}
              </span>{" "}
              {formatTime(checkpoint.verification.at)}
              {checkpoint.verification.detail && `: ${checkpoint.verification.detail}`}
            </dd>
          </>
        )}
        <dt>Id</dt>
        <dd class="wrap">
          <code>{checkpoint.id}</code>
        </dd>
        {plan && (
          <>
            <dt>Retention preview</dt>
            <dd data-preview={removed ? "remove" : kept ? "keep" : "none"}>
              {removed
                ? "would be removed"
                : kept
                  ? `kept: ${kept.reasons.join("; ")}`
                  : "not considered (only COMPLETE checkpoints are)"}
            </dd>
          </>
        )}
      </dl>
      {!props.hovering && (
        <div class="actions">
          {checkpoint.state === "DELETED" && (
            // Offered for every DELETED one: the API says why when it cannot (docs/trash.md).
            <button
              type="button"
              onClick={() =>
                act(
                  () => api.undelete(checkpoint.id),
                  `Undeleted ${checkpoint.name}: COMPLETE again`,
                )
              }
            >
              Undelete
            </button>
          )}
          <button
            type="button"
            aria-pressed={checkpoint.favorite}
            disabled={checkpoint.state === "DELETED"}
            onClick={() =>
              act(
                () => api.updateCheckpoint(checkpoint.id, { favorite: !checkpoint.favorite }),
                checkpoint.favorite ? "Unfavorited" : "Favorited",
              )
            }
          >
            {checkpoint.favorite ? "★ Unfavorite" : "☆ Favorite"}
          </button>
          <RenameForm
            key={checkpoint.id}
            name={checkpoint.name}
            onRename={(name) => act(() => api.updateCheckpoint(checkpoint.id, { name }), "Renamed")}
          />
          <Confirm
            label="Restore…"
            question={`Start a new simulation from ${checkpoint.name}?`}
            confirmLabel="Restore"
            disabled={checkpoint.state !== "COMPLETE"}
            onConfirm={() => act(() => api.restore(checkpoint.id), "Restore started")}
          />
        </div>
      )}
    </section>
  );
}

function SimulationView(props: {
  api: Api;
  simulation: Simulation;
  jobs: Job[];
  act: Act;
  onError: (error: unknown) => void;
  now: number;
}) {
  const { api, simulation, act, onError } = props;
  const [checkpoints, setCheckpoints] = useState<Checkpoint[] | undefined>(undefined);
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const [hover, setHover] = useState<number | undefined>(undefined);
  const [plan, setPlan] = useState<RetentionPlan | undefined>(undefined);
  const [showTrash, setShowTrash] = useState(false);
  const [snapshotName, setSnapshotName] = useState("");
  const [renderMs, setRenderMs] = useState<number | undefined>(undefined);
  // Until the first complete read, the timeline shows what is read so far, newest first.
  const [reading, setReading] = useState(true);
  const firstRead = useRef(true);
  const loadedAt = useRef(0);

  const reload = useCallback(async () => {
    try {
      const all = await allCheckpoints(api, simulation.name, (soFar) => {
        if (firstRead.current) setCheckpoints(soFar);
      });
      loadedAt.current = performance.now();
      firstRead.current = false;
      setReading(false);
      setCheckpoints(all);
    } catch (error) {
      onError(error);
    }
  }, [api, simulation.name]);

  useEffect(() => {
    setCheckpoints(undefined);
    setSelectedId(undefined);
    setPlan(undefined);
    void reload();
  }, [simulation.name]);

  // The newest checkpoints, merged in: what a running job changes (a PENDING one, then COMPLETE).
  const refreshNewest = useCallback(async () => {
    try {
      const page = await api.newestCheckpoints(simulation.name);
      loadedAt.current = performance.now();
      setCheckpoints((current) => {
        if (!current) return current;
        const byId = new Map(current.map((c) => [c.id, c]));
        for (const c of page.items) byId.set(c.id, c);
        return [...byId.values()].sort(
          (a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || (a.id < b.id ? -1 : 1),
        );
      });
    } catch (error) {
      onError(error);
    }
  }, [api, simulation.name]);

  // While a job of this simulation runs, its newest checkpoints are read at every jobs poll;
  // once one ends (a prune may have removed old ones), all of them are read again.
  const ours = props.jobs.filter((j) => j.simulation === simulation.name);
  const running = ours.some((j) => j.status === "RUNNING");
  const signature = ours.map((j) => `${j.id}:${j.status}`).join(",");
  const seen = useRef(signature);
  useEffect(() => {
    if (running) void refreshNewest();
  }, [props.jobs]);
  useEffect(() => {
    if (seen.current === signature || running) return;
    seen.current = signature;
    void reload();
    if (plan) void preview();
  }, [signature, running]);

  const items = useMemo(() => (checkpoints ?? []).map(itemOf), [checkpoints]);
  const times = useMemo(() => timesOf(items), [items]);
  const planMarks = useMemo(() => {
    if (!plan) return undefined;
    const marks = new Map<string, PlanMark>();
    for (const k of plan.keep) marks.set(k.id, "keep");
    for (const r of plan.remove) marks.set(r.id, "remove");
    return marks;
  }, [plan]);
  const indexOf = useMemo(() => new Map(items.map((item, i) => [item.id, i])), [items]);
  const selected = selectedId === undefined ? -1 : (indexOf.get(selectedId) ?? -1);

  useEffect(() => {
    if (checkpoints === undefined || reading) return;
    // The time from the answer to the painted timeline (the figure docs/console.md quotes).
    requestAnimationFrame(() => setRenderMs(Math.round(performance.now() - loadedAt.current)));
  }, [checkpoints, reading]);

  async function preview() {
    try {
      const answer = await api.prunePlan(simulation.name);
      setPlan(answer.plans.find((p) => p.simulation === simulation.name));
    } catch (error) {
      onError(error);
    }
  }

  const describe = (index: number) => {
    const c = checkpoints?.[index];
    if (!c) return "";
    const mark = planMarks?.get(c.id);
    return [
      c.name,
      c.state,
      formatTime(c.createdAt),
      c.favorite ? "favorite" : "",
      c.archive ? "archived" : "",
      inTrash(c) ? "in the trash" : "",
      mark === "remove" ? "would be removed" : mark === "keep" ? "kept" : "",
      `${index + 1} of ${items.length}`,
    ]
      .filter(Boolean)
      .join(", ");
  };
  const trashed = useMemo(
    () =>
      (checkpoints ?? [])
        .filter(inTrash)
        .sort((a, b) => Date.parse(a.purgeAfter) - Date.parse(b.purgeAfter)),
    [checkpoints],
  );
  // An edit or an undelete answers with the checkpoint as it is now: put it in place of the old
  // one, rather than reading thousands again.
  const actOnCheckpoint: Act = (work, done) =>
    act(async () => {
      const answer = await work();
      if (typeof answer === "object" && answer !== null && "version" in answer) {
        const updated = answer as Checkpoint;
        setCheckpoints((current) => current?.map((c) => (c.id === updated.id ? updated : c)));
      }
      return answer;
    }, done);
  const shownIndex = hover ?? (selected >= 0 ? selected : undefined);
  const shownCheckpoint = shownIndex === undefined ? undefined : checkpoints?.[shownIndex];

  return (
    <section class="panel simulation" aria-labelledby="simulation-title">
      <div class="heading">
        <h2 id="simulation-title">{simulation.name}</h2>
        <span class="muted">
          {simulation.provider}, {simulation.status}
        </span>
      </div>
      <div class="actions">
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void act(
              () => api.snapshot(simulation.name, snapshotName.trim() || undefined),
              "Snapshot started",
            );
            setSnapshotName("");
          }}
        >
          <label>
            Snapshot name (optional)
            <input value={snapshotName} onInput={(e) => setSnapshotName(e.currentTarget.value)} />
          </label>
          <button type="submit">Snapshot now</button>
        </form>
        <Confirm
          label="Stop with snapshot…"
          question={`Stop ${simulation.name} after a final snapshot?`}
          confirmLabel="Stop"
          onConfirm={() => act(() => api.stop(simulation.name), "Stop started")}
        />
        <button
          type="button"
          aria-pressed={plan !== undefined}
          onClick={() => (plan ? setPlan(undefined) : void preview())}
        >
          {plan ? "Hide retention preview" : "Preview retention"}
        </button>
        <button
          type="button"
          aria-expanded={showTrash}
          aria-controls={showTrash ? "trash" : undefined}
          onClick={() => setShowTrash(!showTrash)}
        >
          Trash ({trashed.length})
        </button>
      </div>
      {plan && (
        <div
          class="preview"
          role="status"
          data-remove={plan.remove.length}
          data-keep={plan.keep.length}
        >
          <p>
            Retention would keep <strong>{plan.keep.length}</strong> and remove{" "}
            <strong>{plan.remove.length}</strong> complete checkpoints.
            {plan.refused && <span class="refused"> Refused: {plan.refused}</span>}
          </p>
          <p class="legend">
            <span class="legend-item">
              <span class="key keep" aria-hidden="true" /> kept (blue ring; reasons in the details)
            </span>
            <span class="legend-item">
              <span class="key remove" aria-hidden="true" /> would be removed (crossed out)
            </span>
          </p>
          <Confirm
            label={`Prune… (remove ${plan.remove.length})`}
            question={`Remove ${plan.remove.length} checkpoints of ${simulation.name} now?`}
            confirmLabel="Prune"
            disabled={plan.remove.length === 0 || plan.refused !== null}
            onConfirm={async () => {
              await act(() => api.prune(simulation.name), "Prune started");
              setPlan(undefined);
            }}
          />
        </div>
      )}
      {checkpoints === undefined ? (
        <p role="status">Loading checkpoints…</p>
      ) : (
        <>
          <p class="muted" data-render-ms={reading ? undefined : renderMs}>
            {reading
              ? `${items.length} newest checkpoints so far; reading older ones…`
              : `${items.length} checkpoints`}
            {!reading && renderMs !== undefined && ` · drawn in ${renderMs} ms`}
          </p>
          <Timeline
            items={items}
            times={times}
            {...(planMarks ? { plan: planMarks } : {})}
            selected={selected}
            onSelect={(index) => setSelectedId(items[index]?.id)}
            onHover={setHover}
            describe={describe}
            now={props.now}
          />
          <p class="sr-only" aria-live="polite">
            {selected >= 0 ? describe(selected) : ""}
          </p>
          <Legend />
        </>
      )}
      {showTrash && checkpoints !== undefined && (
        <Trash
          checkpoints={trashed}
          now={props.now}
          onShow={setSelectedId}
          onUndelete={(c) =>
            actOnCheckpoint(() => api.undelete(c.id), `Undeleted ${c.name}: COMPLETE again`)
          }
        />
      )}
      <Details
        checkpoint={shownCheckpoint}
        plan={plan}
        hovering={hover !== undefined && hover !== selected}
        now={props.now}
        act={actOnCheckpoint}
        api={api}
      />
    </section>
  );
}

function Legend() {
  const item = (key: string, label: string) => (
    <span class="legend-item">
      <span class={`key ${key}`} aria-hidden="true" /> {label}
    </span>
  );
  return (
    <p class="legend">
      {item("complete", "complete")}
      {item("pending", "pending")}
      {item("failed", "failed")}
      {item("deleted", "deleted")}
      <span class="legend-item">
        <span aria-hidden="true">★</span> favorite
      </span>
      {item("archived", "archived")}
      <span class="legend-item">
        <span aria-hidden="true" class="check">
          ✓
        </span>{" "}
        verified
      </span>
      <span class="legend-item">a bar stands for several</span>
    </p>
  );
}

function Jobs({ jobs }: { jobs: Job[] }) {
  return (
    <TablePanel
      id="jobs"
      title="Jobs"
      columns={[
        { label: "Kind" },
        { label: "Simulation" },
        { label: "Status" },
        { label: "Started", optional: true },
        { label: "Steps" },
        { label: "Id", optional: true },
      ]}
    >
      {jobs.map((job) => (
        <tr key={job.id} data-job={job.id}>
          <td>{job.kind}</td>
          <td>{job.simulation}</td>
          <td>
            <span class={`badge status-${job.status.toLowerCase()}`}>{job.status}</span>
            {job.error && (
              <span class="job-error">
                {" "}
                {job.error.code}: {job.error.message}
              </span>
            )}
          </td>
          <td class="optional">{formatTime(job.startTime)}</td>
          <td>
            {job.steps?.map((s) => `${s.name}: ${s.status}`).join(", ") ??
              (job.restore ? `${job.restore.phase} → ${job.restore.target}` : "—")}
          </td>
          <td class="optional">
            <code>{job.id.slice(0, 8)}</code>
          </td>
        </tr>
      ))}
    </TablePanel>
  );
}

function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(storedCredentials);
  const [signIn, setSignIn] = useState(false);
  const credentialsRef = useRef(credentials);
  credentialsRef.current = credentials;
  const api = useMemo(
    () => createApi({ base: location.origin, credentials: () => credentialsRef.current }),
    [],
  );
  const [simulations, setSimulations] = useState<Simulation[] | undefined>(undefined);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [openJobs, setOpenJobs] = useState<Job[]>([]);
  const [selected, setSelected] = useState<string | undefined>(
    () => new URLSearchParams(location.search).get("simulation") ?? undefined,
  );
  const [error, setError] = useState<Shown | undefined>(undefined);
  const [notice, setNotice] = useState("");
  const [now, setNow] = useState(() => Date.now());

  const onError = useCallback((e: unknown) => {
    const s = shown(e);
    // API Gateway's answer to an unsigned request: ask for credentials.
    if (s.status === 403 || s.status === 401) setSignIn(true);
    setError(s);
  }, []);

  const loadSimulations = useCallback(async () => {
    try {
      const answer = await api.simulations();
      setSimulations(answer.items);
      setNow(Date.now());
      setSelected((current) => current ?? answer.items[0]?.name);
    } catch (e) {
      onError(e);
    }
  }, [api]);
  const loadJobs = useCallback(async () => {
    try {
      const [recent, open] = await Promise.all([
        api.jobs("limit=30"),
        api.jobs("status=RUNNING&limit=200"),
      ]);
      setJobs(recent.items);
      setOpenJobs(open.items);
    } catch (e) {
      onError(e);
    }
  }, [api]);

  useEffect(() => {
    void loadSimulations();
    void loadJobs();
    const jobsTimer = setInterval(() => void loadJobs(), JOB_POLL_MS);
    const simulationsTimer = setInterval(() => void loadSimulations(), SIMULATION_POLL_MS);
    return () => {
      clearInterval(jobsTimer);
      clearInterval(simulationsTimer);
    };
  }, [credentials]);

  useEffect(() => {
    if (!selected) return;
    const url = new URL(location.href);
    url.searchParams.set("simulation", selected);
    history.replaceState(null, "", url);
  }, [selected]);

  const act = useCallback(
    async (work: () => Promise<unknown>, done?: string) => {
      try {
        await work();
        setError(undefined);
        if (done) setNotice(`${done}.`);
        void loadJobs();
        void loadSimulations();
        return true;
      } catch (e) {
        onError(e);
        return false;
      }
    },
    [loadJobs, loadSimulations],
  );

  const simulation = simulations?.find((s) => s.name === selected);
  return (
    <>
      <header>
        <h1>simsnap</h1>
        <span class="muted">{location.host}</span>
        <p class="notice" role="status">
          {notice}
        </p>
        <button type="button" onClick={() => setSignIn(!signIn)} aria-expanded={signIn}>
          {credentials ? `Signing as ${credentials.accessKeyId.slice(0, 8)}…` : "AWS credentials"}
        </button>
      </header>
      <main>
        <ErrorBanner error={error} onClose={() => setError(undefined)} />
        {signIn && (
          <SignIn
            onSave={(c) => {
              if (c) sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(c));
              else sessionStorage.removeItem(CREDENTIALS_KEY);
              setCredentials(c);
              setSignIn(false);
              setError(undefined);
            }}
          />
        )}
        {simulations === undefined ? (
          <p>Loading simulations…</p>
        ) : (
          <Simulations
            simulations={simulations}
            openJobs={openJobs}
            selected={selected}
            onSelect={setSelected}
            now={now}
          />
        )}
        {simulation && (
          <SimulationView
            key={simulation.name}
            api={api}
            simulation={simulation}
            jobs={jobs}
            act={act}
            onError={onError}
            now={now}
          />
        )}
        <Jobs jobs={jobs} />
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
