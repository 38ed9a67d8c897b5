import { describe, expect, it } from "vitest";
import { drfMessages, toAirError } from "../../../../lib/adapters/air/client.ts";
import { ProviderError } from "../../../../lib/domain/errors.ts";

const PATCH_CHECKPOINT = {
  operation: "update checkpoint c1",
  method: "PATCH",
  path: "simulations/runs/checkpoints/c1/",
  scope: "air:simulation_edit",
} as const;

describe("drfMessages", () => {
  it("reads detail, field lists, nested fields and non-field errors, skipping request_id", () => {
    expect(drfMessages({ detail: "Not found.", request_id: "r-1" })).toEqual(["Not found."]);
    expect(
      drfMessages({
        name: ["Ensure this field has no more than 128 characters."],
        non_field_errors: ["Only COMPLETE checkpoints may be deleted."],
        content: { nodes: ["This field is required."] },
      }),
    ).toEqual([
      "name: Ensure this field has no more than 128 characters.",
      "Only COMPLETE checkpoints may be deleted.",
      "content.nodes: This field is required.",
    ]);
    expect(drfMessages(["a", "b"])).toEqual(["a", "b"]);
    expect(drfMessages(undefined)).toEqual([]);
  });
});

describe("toAirError", () => {
  it("401: Unauthorized, naming where the token comes from and what to do", () => {
    const error = toAirError(
      401,
      { detail: "Invalid token." },
      PATCH_CHECKPOINT,
      "the AIR_API_TOKEN environment variable",
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: "Unauthorized", status: 401, retryable: false });
    expect(error.message).toContain("Invalid token.");
    expect(error.message).toContain("the AIR_API_TOKEN environment variable");
    expect(error.message).toMatch(/expired/);
  });

  it("403: Forbidden, naming the scope the endpoint needs", () => {
    const error = toAirError(
      403,
      { detail: "You do not have permission to perform this action.", request_id: "req-9" },
      PATCH_CHECKPOINT,
    );
    expect(error).toMatchObject({ code: "Forbidden", status: 403, retryable: false });
    expect(error.message).toContain("air:simulation_edit");
    expect(error.message).toContain("PATCH /simulations/runs/checkpoints/c1/");
    expect(error.requestId).toBe("req-9");
  });

  it("404: ResourceNotFoundException, the code use cases treat as not found", () => {
    expect(toAirError(404, { detail: "Not found." }, PATCH_CHECKPOINT)).toMatchObject({
      code: "ResourceNotFoundException",
      status: 404,
      retryable: false,
    });
  });

  it("400: ValidationException carrying DRF's field messages", () => {
    const error = toAirError(400, { name: ["This field may not be blank."] }, PATCH_CHECKPOINT);
    expect(error).toMatchObject({ code: "ValidationException", status: 400, retryable: false });
    expect(error.message).toContain("name: This field may not be blank.");
  });

  it("409: ConflictException", () => {
    expect(toAirError(409, { detail: "busy" }, PATCH_CHECKPOINT)).toMatchObject({
      code: "ConflictException",
      retryable: false,
    });
  });

  it.each([429, 500, 502, 503, 504])("%i is retryable", (status) => {
    const error = toAirError(status, "", PATCH_CHECKPOINT);
    expect(error.retryable).toBe(true);
    expect(error.code).toBe(status === 429 ? "ThrottlingException" : "InternalServerException");
  });

  it("another 4xx keeps its status in the code and is not retried (408 is)", () => {
    expect(toAirError(418, "teapot", PATCH_CHECKPOINT)).toMatchObject({
      code: "Http418Error",
      retryable: false,
    });
    expect(toAirError(408, "", PATCH_CHECKPOINT).retryable).toBe(true);
  });
});
