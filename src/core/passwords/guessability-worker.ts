/**
 * Worker-thread entry of the guessability checker (guessability-checker.ts): keeps zxcvbn's
 * dictionaries in this thread's heap and answers one estimate per message, in order.
 */
import { serveRequests } from "../workers/serve-requests.ts";
import type { EstimateWork } from "./guessability-messages.ts";
import { buildEstimator, estimateWith } from "./password-guessability.ts";

const estimator = buildEstimator();
serveRequests(({ text, userInputs }: EstimateWork) => estimateWith(estimator, text, userInputs));
