// The timeline of one simulation's checkpoints: an SVG drawn from `layoutTimeline`, one row per
// state, with keyboard selection (arrows, Home/End, +/- to zoom) and hover details.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  fullDomain,
  layoutTimeline,
  nearest,
  ROWS,
  type Mark,
  type PlanMark,
  type TimelineItem,
} from "./timeline-layout.ts";

const ROW_HEIGHT = 30;
const TOP = 10;
const AXIS = 26;
const GUTTER = 84;

const COLORS: Record<string, string> = {
  COMPLETE: "#1a7f37",
  PENDING: "#9a6700",
  FAILED: "#cf222e",
  DELETED: "#6e7781",
};

export interface TimelineProps {
  items: readonly TimelineItem[];
  times: Float64Array;
  plan?: ReadonlyMap<string, PlanMark>;
  selected: number;
  onSelect: (index: number) => void;
  onHover: (index: number | undefined) => void;
  describe: (index: number) => string;
  now: number;
}

function star(cx: number, cy: number, r: number): string {
  const points: string[] = [];
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? r : r * 0.45;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    points.push(
      `${(cx + radius * Math.cos(angle)).toFixed(1)},${(cy + radius * Math.sin(angle)).toFixed(1)}`,
    );
  }
  return points.join(" ");
}

function MarkShape({ mark, y, label }: { mark: Mark; y: number; label: string }) {
  const color = COLORS[mark.state];
  const removed = mark.plan === "remove";
  const attrs = {
    "data-state": mark.state,
    ...(mark.count === 1 ? { "data-checkpoint": mark.id } : { "data-count": mark.count }),
    ...(mark.plan ? { "data-plan": mark.plan } : {}),
    ...(mark.favorite ? { "data-favorite": "true" } : {}),
  };
  return (
    <g class="mark" {...attrs}>
      <title>{label}</title>
      {mark.count > 1 ? (
        <rect
          x={mark.x - 1.5}
          y={y - 8}
          width={3}
          height={16}
          fill={removed ? "#fff" : color}
          stroke={color}
          stroke-width={1}
        />
      ) : mark.favorite ? (
        <polygon
          points={star(mark.x, y, 8)}
          fill={removed ? "#fff" : "#bf8700"}
          stroke="#6c4400"
          stroke-width={1.2}
        />
      ) : (
        <circle
          cx={mark.x}
          cy={y}
          r={5}
          fill={removed ? "#fff" : color}
          stroke={color}
          stroke-width={1.5}
        />
      )}
      {mark.plan === "keep" && (
        <circle cx={mark.x} cy={y} r={9.5} fill="none" stroke="#0969da" stroke-width={1.5} />
      )}
      {removed && (
        <path
          d={`M${mark.x - 6} ${y - 6} L${mark.x + 6} ${y + 6} M${mark.x - 6} ${y + 6} L${mark.x + 6} ${y - 6}`}
          stroke="#a40e26"
          stroke-width={2.2}
        />
      )}
      {mark.archived && <rect x={mark.x - 2.5} y={y + 12} width={5} height={4} fill="#0550ae" />}
      {mark.verified && (
        <path
          d={`M${mark.x + 5} ${y - 9} l2 2.5 l4 -5`}
          fill="none"
          stroke="#1a7f37"
          stroke-width={1.8}
        />
      )}
    </g>
  );
}

export function Timeline(props: TimelineProps) {
  const { items, times, plan, selected, onSelect, onHover, describe, now } = props;
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [domain, setDomain] = useState<[number, number] | undefined>(undefined);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, element.clientWidth)));
    observer.observe(element);
    setWidth(Math.max(200, element.clientWidth));
    return () => observer.disconnect();
  }, []);
  const full = useMemo(() => fullDomain(times, now), [times, now]);
  const view = domain ?? full;
  const plotWidth = Math.max(100, width - GUTTER - 12);
  const layout = useMemo(
    () => layoutTimeline(items, times, view, plotWidth, plan),
    [items, times, view[0], view[1], plotWidth, plan],
  );
  const height = TOP + ROWS.length * ROW_HEIGHT + AXIS;
  const rowY = (row: number) => TOP + row * ROW_HEIGHT + ROW_HEIGHT / 2;

  // Keep the selection in view: pan (not zoom) when it falls outside.
  useEffect(() => {
    if (selected < 0 || domain === undefined) return;
    const time = times[selected];
    if (time === undefined || (time >= domain[0] && time <= domain[1])) return;
    const span = domain[1] - domain[0];
    setDomain([time - span / 2, time + span / 2]);
  }, [selected]);

  const zoom = (factor: number) => {
    const span = (view[1] - view[0]) * factor;
    const center = selected >= 0 ? (times[selected] as number) : (view[0] + view[1]) / 2;
    if (factor > 1 && span >= full[1] - full[0]) return setDomain(undefined);
    setDomain([center - span / 2, center + span / 2]);
  };

  const onKey = (event: KeyboardEvent) => {
    const last = items.length - 1;
    const move = (index: number) => {
      event.preventDefault();
      if (last >= 0) onSelect(Math.min(last, Math.max(0, index)));
    };
    const step = Math.max(1, Math.round(items.length / 20));
    switch (event.key) {
      case "ArrowRight":
        return move(selected < 0 ? 0 : selected + 1);
      case "ArrowLeft":
        return move(selected < 0 ? last : selected - 1);
      case "PageDown":
        return move(selected + step);
      case "PageUp":
        return move(selected - step);
      case "Home":
        return move(0);
      case "End":
        return move(last);
      case "+":
      case "=":
        event.preventDefault();
        return zoom(0.5);
      case "-":
        event.preventDefault();
        return zoom(2);
      case "0":
        event.preventDefault();
        return setDomain(undefined);
    }
  };

  const indexAt = (event: MouseEvent) => {
    const svg = event.currentTarget as SVGSVGElement;
    const x = event.clientX - svg.getBoundingClientRect().left - GUTTER;
    const index = nearest(times, layout.timeOf(x));
    if (index < 0) return undefined;
    return Math.abs(layout.xOf(times[index] as number) - x) <= 12 ? index : undefined;
  };

  const selectedX = selected >= 0 ? layout.xOf(times[selected] as number) : undefined;
  const labelOf = (mark: Mark) =>
    mark.count === 1
      ? describe(mark.first)
      : `${mark.count} ${mark.state} checkpoints${mark.plan === "remove" ? ", would be removed" : ""}`;
  // The marks change with the checkpoints, the preview and the zoom, not with the selection:
  // moving it with the keyboard redraws only the cursor.
  const drawn = useMemo(
    () =>
      layout.marks.map((mark) => (
        <MarkShape
          key={`${mark.row}:${mark.first}`}
          mark={mark}
          y={rowY(mark.row)}
          label={labelOf(mark)}
        />
      )),
    [layout],
  );

  return (
    <div class="timeline" ref={box}>
      <div class="timeline-tools" role="toolbar" aria-label="Timeline zoom">
        <button type="button" onClick={() => zoom(0.5)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoom(2)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => setDomain(undefined)}>
          Show all
        </button>
        <span class="hint" id="timeline-help">
          Arrow keys pick a checkpoint, Home/End the first/last, + and − zoom.
        </span>
      </div>
      <div
        class="plot"
        tabIndex={0}
        role="group"
        aria-label={`Timeline of ${items.length} checkpoints`}
        aria-describedby="timeline-help"
        data-marks={layout.marks.length}
        onKeyDown={onKey}
      >
        <svg
          width={width}
          height={height}
          onMouseMove={(event) => onHover(indexAt(event))}
          onMouseLeave={() => onHover(undefined)}
          onClick={(event) => {
            const index = indexAt(event);
            if (index !== undefined) onSelect(index);
          }}
        >
          {ROWS.map((state, row) => (
            <g key={state}>
              <rect
                x={0}
                y={TOP + row * ROW_HEIGHT}
                width={width}
                height={ROW_HEIGHT}
                fill={row % 2 === 0 ? "#f6f8fa" : "#ffffff"}
              />
              <text x={8} y={rowY(row) + 4} class="row-label">
                {state}
              </text>
            </g>
          ))}
          <g transform={`translate(${GUTTER},0)`}>
            {layout.ticks.map((tick) => (
              <g key={tick.x}>
                <line
                  x1={tick.x}
                  x2={tick.x}
                  y1={TOP}
                  y2={TOP + ROWS.length * ROW_HEIGHT}
                  stroke="#d0d7de"
                />
                <text x={tick.x} y={height - 8} text-anchor="middle" class="tick">
                  {tick.label}
                </text>
              </g>
            ))}
            {selectedX !== undefined && (
              <line
                class="cursor"
                x1={selectedX}
                x2={selectedX}
                y1={TOP}
                y2={TOP + ROWS.length * ROW_HEIGHT}
                stroke="#0550ae"
                stroke-width={2}
                stroke-dasharray="4 3"
              />
            )}
            {drawn}
          </g>
        </svg>
      </div>
    </div>
  );
}
