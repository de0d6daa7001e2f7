import type { GuessEstimate } from "./password-guessability.ts";

/** What the guessability checker sends its worker. */
export interface EstimateRequest {
  id: number;
  text: string;
  userInputs: readonly string[];
}

/** What the worker answers: the estimate, or why there is none. */
export type EstimateReply = { id: number; estimate: GuessEstimate } | { id: number; error: string };
