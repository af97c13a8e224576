// onnxruntime-node's native binding creates its output arrays in Node's main realm, while jest runs
// each test file in a vm realm, so ORT's `instanceof Float32Array` checks would reject every result
// (the Silero VAD would silently score nothing). Make this realm's checks brand-based — what the
// check means — for the two array types ORT uses. Only affects tests; production has one realm.
for (const C of [Float32Array, BigInt64Array]) {
  Object.defineProperty(C, Symbol.hasInstance, {
    value: (v: unknown) => ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${C.name}]`,
  });
}
