export { createGatehouse } from "./gatehouse.ts";
export type { CreateGatehouseOptions, Gatehouse, OpenApiOptions } from "./gatehouse.ts";
export type { OpenApiDocument } from "./express/openapi.ts";
export type { GatehouseOptions, GatehouseConfig } from "./core/config.ts";
export { AuthError, isAuthError } from "./core/errors.ts";
export type { AuthErrorCode } from "./core/errors.ts";
export type { AuthContext, PublicUser } from "./core/auth-service.ts";
export type { RequireAuthOptions } from "./express/require-auth.ts";
export { hardenHttpServer } from "./express/http-server.ts";
export type { AccessTokenClaims } from "./core/tokens/access-token-verifier.ts";
export type { SecretBox } from "./core/crypto/secret-box.ts";
export { systemClock, ManualClock } from "./core/clock.ts";
export type { Clock } from "./core/clock.ts";
export type {
  AuditEventQuery,
  AuditEventRecord,
  AuditEventStore,
  CounterLimiter,
  CounterOptions,
  CounterStore,
  OutboxClaimRequest,
  OutboxClaims,
  OutboxFailure,
  OutboxRecord,
  OutboxStore,
  RefreshTokenRecord,
  SessionRecord,
  SigningKeyChanges,
  SigningKeyRecord,
  Store,
  StoredSecret,
  StoredSecretStore,
  StoreOps,
  TransactionOps,
  UserRecord,
} from "./core/store/store.ts";
export { memoryCounters } from "./core/throttle/limiter-backend.ts";
export { createLogger } from "./logging/logger.ts";
import "./express/request-auth.ts";
export { createResourceServer } from "./resource-server.ts";
export type { ResourceServer, ResourceServerOptions } from "./resource-server.ts";
export type { CloseHook } from "./gatehouse.ts";
export type { HealthHandlers } from "./observability/health-endpoints.ts";
export type { Metrics } from "./core/observability/metrics.ts";
export { SECURITY_EVENT_TYPES } from "./core/events/security-event.ts";
export type { SecurityEvent, SecurityEventData, SecurityEventType } from "./core/events/security-event.ts";
export type { SecurityEventListener, SecurityEvents } from "./core/events/security-events.ts";
export { PermanentDeliveryError } from "./core/outbox/delivery-errors.ts";
export type { Outbox, OutboxDelivery, OutboxMessageInput, PayloadSealer } from "./core/outbox/outbox.ts";
export type { OutboxHandler, OutboxHandlerOptions, OutboxWorker } from "./core/outbox/outbox-worker.ts";
