import { isAuthError } from "../core/errors.ts";
import { startServer } from "./start.ts";

/** `npm start`: the zero-configuration server. Settings come from the environment and `.env`. */
startServer().catch((error: unknown) => {
  // Configuration mistakes get one clear line, not a stack trace.
  if (isAuthError(error)) console.error(`gatehouse: ${error.message}`);
  else console.error("gatehouse: failed to start:", error);
  process.exit(1);
});
