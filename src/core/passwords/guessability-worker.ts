/**
 * Worker-thread entry of the guessability checker (guessability-checker.ts): keeps zxcvbn's
 * dictionaries in this thread's heap and answers one estimate per message, in order.
 */
import { parentPort } from "node:worker_threads";
import { buildEstimator, estimateWith } from "./password-guessability.ts";
import type { EstimateReply, EstimateRequest } from "./guessability-messages.ts";

const port = parentPort;
if (port === null) throw new Error("guessability-worker.ts runs only as a worker thread.");

const estimator = buildEstimator();
port.on("message", ({ id, text, userInputs }: EstimateRequest) => {
  let reply: EstimateReply;
  try {
    reply = { id, estimate: estimateWith(estimator, text, userInputs) };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
