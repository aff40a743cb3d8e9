// The CLI bundle's build-time decoding of protobuf descriptors (scripts/proto-literal.mjs): the
// literal makes the very objects fileDesc decodes, a registry built from them has the same
// messages and fields, and the barrel imports are split without losing a name.
import { createFileRegistry, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { fileDesc } from '@bufbuild/protobuf/codegenv2';
import { file_google_protobuf_struct, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { file_loom_v1_docker } from '../../../shared/gen/loom/v1/docker_pb';

/** scripts/proto-literal.mjs (plain Node, build time). */
interface ProtoLiteral {
  PROTOBUF_ESM: string;
  decodeFileDesc(b64: string): object;
  descriptorLiteral(b64: string): string;
  sameObjects(a: unknown, b: unknown): boolean;
  splitBarrelImports(text: string, file: string): string;
}
const { decodeFileDesc, descriptorLiteral, PROTOBUF_ESM, sameObjects, splitBarrelImports } = (await import(
  pathToFileURL(join(__dirname, '../../../scripts/proto-literal.mjs')).href
)) as ProtoLiteral;

const DOCKER_PB = join(__dirname, '../../../shared/gen/loom/v1/docker_pb.ts');
const source = readFileSync(DOCKER_PB, 'utf8');
const b64 = /fileDesc\("([A-Za-z0-9+/=]+)"/.exec(source)?.[1] ?? '';

const fieldView = (f: DescField): unknown[] => {
  const kinds = f as { listKind?: string; mapKind?: string };
  return [f.name, f.number, f.fieldKind, f.jsonName, f.localName, f.presence, f.oneof?.name, f.scalar, f.message?.typeName, f.enum?.typeName, kinds.listKind, kinds.mapKind];
};
const messageView = (m: DescMessage): unknown[] => [m.typeName, m.fields.map(fieldView), m.nestedMessages.map(messageView), m.oneofs.map((o) => o.name)];

describe('descriptorLiteral', () => {
  it("makes the objects fileDesc decodes: own properties, defaults on each message's prototype", () => {
    expect(b64.length).toBeGreaterThan(1000);
    const made = new Function(`return ${descriptorLiteral(b64)}`)() as object;
    expect(sameObjects(made, decodeFileDesc(b64))).toBe(true);
    const field = (made as { messageType: { field: object[] }[] }).messageType[0]!.field[0]!;
    // Set explicitly: own; left at its default: inherited.
    expect(Object.hasOwn(field, 'name')).toBe(true);
    expect(Object.hasOwn(field, 'defaultValue')).toBe(false);
    expect((field as { defaultValue: string }).defaultValue).toBe('');
  });

  it('gives a registry with the same messages and fields as the generated code', () => {
    const root = new Function(`return ${descriptorLiteral(b64)}`)() as FileDescriptorProto;
    root.dependency = [file_google_protobuf_struct.proto.name];
    const resolve = (name: string): typeof file_google_protobuf_struct | undefined => (name === file_google_protobuf_struct.proto.name ? file_google_protobuf_struct : undefined);
    const file = createFileRegistry(root, resolve).getFile(file_loom_v1_docker.proto.name);
    expect(file?.messages.map(messageView)).toEqual(file_loom_v1_docker.messages.map(messageView));
    expect(file?.enums.map((e) => [e.typeName, e.values.map((v) => [v.name, v.number])])).toEqual(file_loom_v1_docker.enums.map((e) => [e.typeName, e.values.map((v) => [v.name, v.number])]));
    // fileDesc itself agrees (the generated code's path).
    expect(fileDesc(b64, [file_google_protobuf_struct]).messages.map(messageView)).toEqual(file?.messages.map(messageView));
  });

  it('tells a field set to its default from one left at it', () => {
    const proto = { a: 0 };
    const inherited = Object.create(proto) as object;
    const own = Object.assign(Object.create(proto) as object, { a: 0 });
    expect(sameObjects(inherited, own)).toBe(false);
    expect(sameObjects(own, Object.assign(Object.create({ a: 0 }) as object, { a: 0 }))).toBe(true);
  });
});

describe('splitBarrelImports', () => {
  it('imports each name from the module that defines it, and no longer imports fileDesc once it is unused', () => {
    const replaced = source.replace(/\bfileDesc\("[A-Za-z0-9+/=]+"/, '__hydrate(null');
    const split = splitBarrelImports(replaced, DOCKER_PB);
    const imports = split.split('\n').filter((l) => l.startsWith('import '));
    expect(imports).toContain(`import { enumDesc } from ${JSON.stringify(join(PROTOBUF_ESM, 'codegenv2', 'enum.js'))};`);
    expect(imports).toContain(`import { messageDesc } from ${JSON.stringify(join(PROTOBUF_ESM, 'codegenv2', 'message.js'))};`);
    expect(imports).toContain(`import { file_google_protobuf_struct } from ${JSON.stringify(join(PROTOBUF_ESM, 'wkt', 'google', 'protobuf', 'struct_pb.js'))};`);
    expect(split).not.toMatch(/\bfileDesc\b/);
    expect(split).not.toMatch(/^import \{[^}]*\} from "@bufbuild\/protobuf\/(codegenv2|wkt)";$/m);
    // Type imports and everything below them are as they were.
    expect(imports).toContain('import type { JsonObject, Message } from "@bufbuild/protobuf";');
    expect(split.slice(split.indexOf('export const file_loom_v1_docker'))).toBe(replaced.slice(replaced.indexOf('export const file_loom_v1_docker')));
  });

  it("leaves other packages' imports alone, and a barrel import of a name it cannot place", () => {
    const text = 'import { x } from "somewhere";\nimport { notAName } from "@bufbuild/protobuf/wkt";\nx(notAName);\n';
    expect(splitBarrelImports(text, '/tmp/a.ts')).toBe(text);
  });
});
