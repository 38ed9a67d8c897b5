import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";

/**
 * Delays the redelivery of a failed SQS message. Lambda leaves a failed record in the queue until
 * its visibility timeout ends; changing it per record is how a retry gets its backoff without a
 * timer in memory. The queue URL is looked up from the record's ARN (and cached), which works the
 * same in AWS and against the local queue server.
 */
export class SqsVisibility {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly client: SQSClient) {}

  async delay(
    record: Pick<SQSRecord, "eventSourceARN" | "receiptHandle">,
    seconds: number,
  ): Promise<void> {
    const QueueUrl = await this.urlOf(record.eventSourceARN);
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: Math.min(43_200, Math.max(0, Math.round(seconds))),
      }),
    );
  }

  private urlOf(arn: string): Promise<string> {
    let url = this.urls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(":");
      url = this.client
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then((r) => r.QueueUrl ?? "");
      this.urls.set(arn, url);
    }
    return url;
  }
}
