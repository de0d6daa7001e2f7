/**
 * Checks real HTTP answers against the OpenAPI document: the status must be documented for that
 * operation, and the body must match the schema documented for that status (ajv, JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1). Records which (operation, status) pairs were seen.
 */
import assert from "node:assert/strict";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";

export interface Operation {
  operationId: string;
  method: string;
  /** Template as in the document: `/auth/sessions/{id}`. */
  path: string;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  requestBody?: { content: Record<string, unknown> };
  security?: Record<string, unknown>[];
}

export interface DocumentLike {
  paths: Record<string, Record<string, Omit<Operation, "method" | "path">>>;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** Every operation of the document, flattened. */
export function operationsOf(document: DocumentLike): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ ...op, method, path })),
  );
}

export class DocumentChecker {
  readonly #ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  readonly #compiled = new Map<object, ValidateFunction>();
  readonly #operations: Map<string, Operation>;
  /** `operationId status` pairs answered so far. */
  readonly seen = new Set<string>();

  constructor(document: DocumentLike) {
    this.#operations = new Map(operationsOf(document).map((op) => [op.operationId, op]));
  }

  operation(operationId: string): Operation {
    const op = this.#operations.get(operationId);
    assert.ok(op, `no operation ${operationId} in the document`);
    return op;
  }

  get operations(): Operation[] {
    return [...this.#operations.values()];
  }

  /** Compiles a schema (cached); fails when ajv in strict mode refuses it. */
  compile(schema: object): ValidateFunction {
    let validate = this.#compiled.get(schema);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(schema, validate);
    }
    return validate;
  }

  /** Asserts that `answer` is documented for `operationId` and matches its schema. */
  check(operationId: string, answer: Answer): void {
    const op = this.operation(operationId);
    const where = `${op.method.toUpperCase()} ${op.path} → ${answer.status}`;
    const documented = op.responses[String(answer.status)];
    assert.ok(documented, `${where} is not in the document (body: ${answer.text.slice(0, 200)})`);
    const media = Object.keys(documented.content ?? {});
    const schema = documented.content?.["application/json"]?.schema;
    if (media.length === 0) {
      assert.equal(answer.text, "", `${where}: documented without a body, but one came`);
    } else if (schema === undefined) {
      // A text answer (e.g. metrics): its media type must be the documented one.
      const type = answer.headers.get("content-type") ?? "";
      const matches = media.some((documentedType) => type.startsWith(documentedType.split(";")[0]!));
      assert.ok(matches, `${where}: ${type} is not ${media.join(" or ")}`);
    } else {
      assert.match(answer.headers.get("content-type") ?? "", /^application\/json/, `${where}: not JSON`);
      const validate = this.compile(schema);
      assert.ok(
        validate(answer.body),
        `${where}: body does not match the document: ${JSON.stringify(validate.errors)} in ${answer.text.slice(0, 300)}`,
      );
    }
    this.seen.add(`${operationId} ${answer.status}`);
  }

  /** Every documented (operation, status) pair not yet seen. */
  unseen(): string[] {
    return this.operations.flatMap((op) =>
      Object.keys(op.responses)
        .map((status) => `${op.operationId} ${status}`)
        .filter((pair) => !this.seen.has(pair)),
    );
  }
}
