import type { IncomingMessage } from "node:http";
import { FaultDice, type FaultRate } from "./faults.ts";
import { ServiceFault, type SimulatorOperation } from "./simulator-wire.ts";

/** The transient errors chaos mode answers with: a server fault, a throttle, a conflict. */
export type InjectableError =
  "InternalServerException" | "ThrottlingException" | "ConflictException";

/**
 * Which of the injectable errors each operation can really return. The official model
 * (simspaceweaver-2022-10-28, the `errors` of each operation) declares InternalServerException
 * for every operation here but ListTagsForResource, and ConflictException for CreateSnapshot,
 * StartSimulation, StopSimulation and DeleteSimulation only; ThrottlingException is declared by
 * none, being one of the errors common to every AWS API action (HTTP 400, per the API reference's
 * Common Errors).
 */
export const INJECTABLE_ERRORS: Readonly<
  Record<SimulatorOperation, readonly [InjectableError, ...InjectableError[]]>
> = {
  CreateSnapshot: ["InternalServerException", "ThrottlingException", "ConflictException"],
  DescribeSimulation: ["InternalServerException", "ThrottlingException"],
  ListSimulations: ["InternalServerException", "ThrottlingException"],
  StartSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  StopSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  DeleteSimulation: ["InternalServerException", "ThrottlingException", "ConflictException"],
  ListTagsForResource: ["ThrottlingException"],
};

/** Status and message of each injectable error, as the service sends them. */
const INJECTED: Record<InjectableError, { status: number; message: string }> = {
  InternalServerException: {
    status: 500,
    message: "An internal error occurred; try again (fault injected by the local simulator).",
  },
  ThrottlingException: {
    status: 400,
    message: "Rate exceeded (fault injected by the local simulator).",
  },
  ConflictException: {
    status: 409,
    message:
      "The simulation is busy with another request; try again (fault injected by the local simulator).",
  },
};

/** A fault chaos mode injected: which call got which error. */
export interface InjectedFault {
  operation: SimulatorOperation;
  error: InjectableError;
  status: number;
}

/**
 * The simulator's chaos mode, kept apart from the API it disturbs: a seeded stream of decisions
 * (its own stream, so it does not shift the faults injected elsewhere) and the errors each
 * operation may really answer with.
 */
export class SimulatorFaults {
  private dice?: FaultDice;

  constructor(
    faults: FaultRate | undefined,
    private readonly onFault?: (fault: InjectedFault) => void,
  ) {
    this.set(faults);
  }

  /** Undefined or a rate of 0 turns chaos mode off. */
  set(faults: FaultRate | undefined): void {
    this.dice = faults && faults.rate > 0 ? new FaultDice(faults, "simspaceweaver") : undefined;
  }

  /** Throws the injected fault for this call, if chaos mode picks it, with its body read. */
  async inject(name: SimulatorOperation, request: IncomingMessage): Promise<void> {
    if (!this.dice?.roll()) return;
    const error = this.dice.pick(INJECTABLE_ERRORS[name]);
    const { status, message } = INJECTED[error];
    for await (const chunk of request as AsyncIterable<Buffer>) void chunk;
    this.onFault?.({ operation: name, error, status });
    throw new ServiceFault(error, status, message);
  }
}
