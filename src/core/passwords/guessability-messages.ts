/** One job of the guessability checker; its worker answers a GuessEstimate. */
export interface EstimateWork {
  text: string;
  userInputs: readonly string[];
}
