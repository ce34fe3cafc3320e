/**
 * The subset of sentencepiece_model.proto (ModelProto) the encoder needs, parsed with protobufjs.
 * Field numbers and defaults follow google/sentencepiece's src/sentencepiece_model.proto.
 */
import * as protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
package sentencepiece;
message TrainerSpec {
  enum ModelType { UNIGRAM = 1; BPE = 2; WORD = 3; CHAR = 4; }
  optional ModelType model_type = 3 [default = UNIGRAM];
  optional int32 vocab_size = 4 [default = 8000];
  optional bool treat_whitespace_as_suffix = 24 [default = false];
  optional bool allow_whitespace_only_pieces = 26 [default = false];
  optional bool split_digits = 25 [default = false];
  optional bool byte_fallback = 35 [default = false];
  optional int32 unk_id = 40 [default = 0];
  optional int32 bos_id = 41 [default = 1];
  optional int32 eos_id = 42 [default = 2];
  optional int32 pad_id = 43 [default = -1];
  optional string unk_surface = 44 [default = " \\xE2\\x81\\x87 "];
}
message NormalizerSpec {
  optional string name = 1;
  optional bytes precompiled_charsmap = 2;
  optional bool add_dummy_prefix = 3 [default = true];
  optional bool remove_extra_whitespaces = 4 [default = true];
  optional bool escape_whitespaces = 5 [default = true];
}
message ModelProto {
  message SentencePiece {
    enum Type { NORMAL = 1; UNKNOWN = 2; CONTROL = 3; USER_DEFINED = 4; BYTE = 6; UNUSED = 5; }
    optional string piece = 1;
    optional float score = 2;
    optional Type type = 3 [default = NORMAL];
  }
  repeated SentencePiece pieces = 1;
  optional TrainerSpec trainer_spec = 2;
  optional NormalizerSpec normalizer_spec = 3;
  optional NormalizerSpec denormalizer_spec = 5;
}
`;

export const enum PieceType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

export interface SpmPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SpmModel {
  pieces: SpmPiece[];
  modelType: 'unigram' | 'bpe' | 'word' | 'char';
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  normalizer: {
    name: string;
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

let modelType: protobuf.Type | undefined;

/** The protobufjs type of ModelProto (also used to write small models in tests). */
export function spmModelSchema(): protobuf.Type {
  return schema();
}

function schema(): protobuf.Type {
  modelType ??= protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('sentencepiece.ModelProto');
  return modelType;
}

const MODEL_TYPES = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' } as const;

/** Decodes a SentencePiece `.model` file; throws on bytes that are not a ModelProto. */
export function parseSpmModel(bytes: Uint8Array): SpmModel {
  const type = schema();
  const msg = type.decode(bytes);
  const o = type.toObject(msg, { defaults: true, enums: Number, bytes: Uint8Array as unknown as typeof String }) as {
    pieces: { piece: string; score: number; type: number }[];
    trainer_spec?: Record<string, unknown>;
    normalizer_spec?: Record<string, unknown>;
  };
  const ts = (o.trainer_spec ?? {}) as Record<string, number | boolean>;
  const ns = (o.normalizer_spec ?? {}) as Record<string, unknown>;
  if (!Array.isArray(o.pieces) || o.pieces.length === 0) throw new Error('no pieces: not a SentencePiece model');
  const mt = MODEL_TYPES[(ts.model_type as 1 | 2 | 3 | 4) ?? 1] ?? 'unigram';
  return {
    pieces: o.pieces.map((p) => ({ piece: p.piece ?? '', score: p.score ?? 0, type: (p.type ?? 1) as PieceType })),
    modelType: mt,
    byteFallback: Boolean(ts.byte_fallback),
    treatWhitespaceAsSuffix: Boolean(ts.treat_whitespace_as_suffix),
    unkId: Number(ts.unk_id ?? 0),
    bosId: Number(ts.bos_id ?? 1),
    eosId: Number(ts.eos_id ?? 2),
    padId: Number(ts.pad_id ?? -1),
    normalizer: {
      name: String(ns.name ?? ''),
      precompiledCharsmap: ns.precompiled_charsmap instanceof Uint8Array ? ns.precompiled_charsmap : new Uint8Array(0),
      addDummyPrefix: ns.add_dummy_prefix !== false,
      removeExtraWhitespaces: ns.remove_extra_whitespaces !== false,
      escapeWhitespaces: ns.escape_whitespaces !== false,
    },
  };
}
