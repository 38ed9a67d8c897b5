import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod";
import { matchesPattern, type EventPattern } from "./event-pattern.ts";
import { FaultDice, type FaultRate } from "./faults.ts";

/** An event as EventBridge delivers it to targets. */
export interface BusEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

type Target = (event: BusEvent) => Promise<void> | void;

interface Rule {
  name: string;
  bus: string;
  pattern: EventPattern;
  target: Target;
}

const PutEventsSchema = z.object({
  Entries: z
    .array(
      z.object({
        Source: z.string().min(1),
        DetailType: z.string().min(1),
        Detail: z.string(),
        EventBusName: z.string().optional(),
        Resources: z.array(z.string()).optional(),
        Time: z.union([z.string(), z.number()]).optional(),
      }),
    )
    .min(1)
    .max(10),
});

/**
 * Chaos mode on the bus: a seeded share of the events matching `pattern` is lost before any rule
 * sees it, as when S3 or EventBridge never delivers an event.
 */
export interface EventDrop extends FaultRate {
  pattern: EventPattern;
  /** Told of every event dropped, e.g. to print it. */
  onDrop?: (event: BusEvent) => void;
}

/**
 * The local stand-in for EventBridge: named buses, rules with real event patterns, and a
 * `PutEvents` endpoint speaking the service's JSON protocol, so the functions' EventBridge client
 * publishes locally exactly as it does in AWS. With `drop`, it loses a seeded share of some events.
 */
export class LocalEventBus {
  private readonly rules: Rule[] = [];
  private server?: Server;
  private readonly pending = new Set<Promise<void>>();
  private readonly dropDice?: FaultDice;

  constructor(
    private readonly options: {
      account?: string;
      region?: string;
      onError?: (error: unknown) => void;
      drop?: EventDrop;
    } = {},
  ) {
    if (options.drop && options.drop.rate > 0) this.dropDice = new FaultDice(options.drop, "bus");
  }

  /** Routes matching events on `bus` to `target`. */
  addRule(name: string, bus: string, pattern: EventPattern, target: Target): void {
    this.rules.push({ name, bus, pattern, target });
  }

  /** Puts one event on a bus, as a service (S3) or PutEvents would (unless chaos mode drops it). */
  put(
    bus: string,
    entry: Omit<BusEvent, "version" | "id" | "account" | "region" | "time"> & { time?: string },
  ): BusEvent {
    const event: BusEvent = {
      version: "0",
      id: randomUUID(),
      account: this.options.account ?? "123456789012",
      region: this.options.region ?? "us-east-1",
      time: entry.time ?? new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      "detail-type": entry["detail-type"],
      source: entry.source,
      resources: entry.resources,
      detail: entry.detail,
    };
    const drop = this.options.drop;
    if (drop && this.dropDice && matchesPattern(drop.pattern, event) && this.dropDice.roll()) {
      drop.onDrop?.(event);
      return event;
    }
    for (const rule of this.rules) {
      if (rule.bus !== bus || !matchesPattern(rule.pattern, event)) continue;
      const delivery = Promise.resolve()
        .then(() => rule.target(event))
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
    return event;
  }

  /** Waits for deliveries in flight (used on shutdown). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Serves `AWSEvents.PutEvents` on loopback and returns the endpoint URL. */
  async listen(host = "127.0.0.1", port = 0): Promise<string> {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        const reply = (status: number, payload: unknown, type?: string) => {
          res.writeHead(status, {
            "content-type": "application/x-amz-json-1.1",
            ...(type ? { "x-amzn-errortype": type } : {}),
          });
          res.end(JSON.stringify(payload));
        };
        if (req.headers["x-amz-target"] !== "AWSEvents.PutEvents") {
          reply(
            400,
            { __type: "UnknownOperationException", message: "Only PutEvents is served locally" },
            "UnknownOperationException",
          );
          return;
        }
        let parsed;
        try {
          parsed = PutEventsSchema.safeParse(JSON.parse(body));
        } catch {
          parsed = undefined;
        }
        if (!parsed?.success) {
          reply(
            400,
            { __type: "ValidationException", message: "Malformed PutEvents request" },
            "ValidationException",
          );
          return;
        }
        const entries = parsed.data.Entries.map((entry) => {
          let detail: unknown;
          try {
            detail = JSON.parse(entry.Detail);
          } catch {
            return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is not valid JSON" };
          }
          const event = this.put(entry.EventBusName ?? "default", {
            source: entry.Source,
            "detail-type": entry.DetailType,
            resources: entry.Resources ?? [],
            detail: (detail ?? {}) as Record<string, unknown>,
          });
          return { EventId: event.id };
        });
        reply(200, {
          FailedEntryCount: entries.filter((e) => "ErrorCode" in e).length,
          Entries: entries,
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    this.server = server;
    return `http://${host}:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await this.drain();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
