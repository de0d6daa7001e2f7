/**
 * `gatehouse/client`: the browser side of Gatehouse. Zero dependencies, no Node APIs.
 *
 * The access token stays in memory (a closure), the refresh token in an HttpOnly cookie;
 * tokens are refreshed silently before expiry and on a 401, once at a time across tabs.
 */
export {
  createGatehouseClient,
  type GatehouseActivityEvent,
  type GatehouseActivityPage,
  type GatehouseClient,
  type GatehouseClientOptions,
  type GatehouseMe,
  type GatehouseSessionInfo,
  type GatehouseState,
  type GatehouseStatus,
  type GatehouseUser,
} from "./gatehouse-client.ts";
export { GatehouseClientError, type GatehouseErrorCode, isGatehouseClientError } from "./errors.ts";
