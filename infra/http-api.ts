import { CfnOutput, Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { SimsnapFunction } from "./simsnap-function.ts";

/** What the HTTP API fronts and how it describes itself. */
export interface SimsnapHttpApiProps {
  handler: SimsnapFunction;
  description: string;
}

/**
 * The catalog API: an API Gateway HTTP API whose one `$default` route sends every request to the
 * API function, which routes it itself (so the routes are declared once, in `lib/http/`), behind
 * IAM authorization: callers sign with SigV4 and need `execute-api:Invoke` on the API. The stage
 * writes JSON access logs with the caller's identity and is throttled, so one runaway client
 * cannot exhaust the function's concurrency.
 */
export class SimsnapHttpApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: SimsnapHttpApiProps) {
    super(scope, id);
    const integration = new HttpLambdaIntegration("Integration", props.handler.function, {
      timeout: Duration.seconds(29),
    });
    this.api = new HttpApi(this, "HttpApi", {
      description: props.description,
      defaultIntegration: integration,
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: false,
    });
    // The web console's page, script and styles (docs/console.md): a browser cannot sign the
    // request that loads a page, so these three paths take no authorization. They hold no data;
    // every API call the page makes is signed with the credentials its user types in.
    for (const [id, path] of [
      ["ConsolePage", "/"],
      ["ConsoleAssets", "/console/{file}"],
    ] as const) {
      for (const route of this.api.addRoutes({
        path,
        methods: [HttpMethod.GET],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      })) {
        Validations.of(route).acknowledge({
          id: "AwsSolutions-APIG4",
          reason: `${id}: the web console's static files, which a browser loads unsigned; they hold no data, and every API route stays IAM-authorized`,
        });
      }
    }
    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, "Stage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            time: "$context.requestTime",
            caller: "$context.identity.userArn",
            sourceIp: "$context.identity.sourceIp",
            method: "$context.httpMethod",
            path: "$context.path",
            status: "$context.status",
            latencyMs: "$context.responseLatency",
            integrationError: "$context.integrationErrorMessage",
          }),
        ),
      },
    });
    new CfnOutput(this, "Url", {
      description:
        "Endpoint of the simsnap API (SigV4-signed requests, service execute-api); the web console is at its root",
      value: this.api.apiEndpoint,
    });
  }
}
