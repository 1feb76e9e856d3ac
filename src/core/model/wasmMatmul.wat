;; Batched matrix products in WebAssembly SIMD, on the memory of tfjs's wasm backend.
;;
;; tfjs-backend-wasm sends every batched or transposed matmul to a scalar loop (about 1 GMAC/s
;; on the 2-core machine), and the attention's products are all batched. These two functions
;; do the same products four lanes at a time. They import tfjs's own memory and work on its
;; tensors where they lie: every pointer is a byte offset into that memory, given by
;; wasmKernels.ts from tfjs's tensor offsets. The module has no data, stack or globals of its own.
;;
;; Build: npm run build:wasm-kernels (wabt) writes wasmMatmulBinary.ts from this file.

(module
  (import "env" "memory" (memory 1))

  ;; out[z] = A[z] @ B[z] for z < batch, A[z] M x K, B[z] K x N, out[z] M x N, all f32.
  ;; Element (i, k) of A[z] is at a + 4 * (z*M*K + i*rowStride + k*colStride): (K, 1) for A as
  ;; stored, (1, M) for A stored K x M and transposed. Vectorised over the columns of out.
  (func (export "matmulRows")
    (param $a i32) (param $b i32) (param $out i32) (param $batch i32)
    (param $M i32) (param $K i32) (param $N i32) (param $rowStride i32) (param $colStride i32)
    (local $z i32) (local $i i32) (local $k i32) (local $j i32)
    (local $aZ i32) (local $bZ i32) (local $oZ i32) (local $oRow i32) (local $bRow i32) (local $p i32)
    (local $av f32) (local $avv v128) (local $N4 i32)
    (local.set $N4 (i32.and (local.get $N) (i32.const -4)))
    (local.set $z (i32.const 0))
    (block $zDone (loop $zLoop
      (br_if $zDone (i32.ge_u (local.get $z) (local.get $batch)))
      (local.set $aZ (i32.add (local.get $a) (i32.shl (i32.mul (local.get $z) (i32.mul (local.get $M) (local.get $K))) (i32.const 2))))
      (local.set $bZ (i32.add (local.get $b) (i32.shl (i32.mul (local.get $z) (i32.mul (local.get $K) (local.get $N))) (i32.const 2))))
      (local.set $oZ (i32.add (local.get $out) (i32.shl (i32.mul (local.get $z) (i32.mul (local.get $M) (local.get $N))) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $oRow (i32.add (local.get $oZ) (i32.shl (i32.mul (local.get $i) (local.get $N)) (i32.const 2))))
        (memory.fill (local.get $oRow) (i32.const 0) (i32.shl (local.get $N) (i32.const 2)))
        (local.set $k (i32.const 0))
        (block $kDone (loop $kLoop
          (br_if $kDone (i32.ge_u (local.get $k) (local.get $K)))
          (local.set $av (f32.load (i32.add (local.get $aZ)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $rowStride)) (i32.mul (local.get $k) (local.get $colStride))) (i32.const 2)))))
          (local.set $avv (f32x4.splat (local.get $av)))
          (local.set $bRow (i32.add (local.get $bZ) (i32.shl (i32.mul (local.get $k) (local.get $N)) (i32.const 2))))
          (local.set $j (i32.const 0))
          (block $jDone (loop $jLoop
            (br_if $jDone (i32.ge_u (local.get $j) (local.get $N4)))
            (local.set $p (i32.add (local.get $oRow) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store align=4 (local.get $p)
              (f32x4.add (v128.load align=4 (local.get $p))
                (f32x4.mul (local.get $avv) (v128.load align=4 (i32.add (local.get $bRow) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jLoop)))
          (block $tDone (loop $tLoop
            (br_if $tDone (i32.ge_u (local.get $j) (local.get $N)))
            (local.set $p (i32.add (local.get $oRow) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $p)
              (f32.add (f32.load (local.get $p))
                (f32.mul (local.get $av) (f32.load (i32.add (local.get $bRow) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tLoop)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
      (local.set $z (i32.add (local.get $z) (i32.const 1)))
      (br $zLoop))))

  ;; out[z] = A[z] @ B[z]^T for z < batch, A[z] M x K, B[z] N x K (stored), out[z] M x N, all f32:
  ;; each element a dot product of two stored rows, vectorised over K.
  (func (export "matmulDots")
    (param $a i32) (param $b i32) (param $out i32) (param $batch i32)
    (param $M i32) (param $K i32) (param $N i32)
    (local $z i32) (local $i i32) (local $j i32) (local $k i32)
    (local $aRow i32) (local $bRow i32) (local $o i32) (local $K4 i32)
    (local $acc v128) (local $s f32)
    (local.set $K4 (i32.and (local.get $K) (i32.const -4)))
    (local.set $o (local.get $out))
    (local.set $z (i32.const 0))
    (block $zDone (loop $zLoop
      (br_if $zDone (i32.ge_u (local.get $z) (local.get $batch)))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $M)))
        (local.set $aRow (i32.add (local.get $a)
          (i32.shl (i32.add (i32.mul (local.get $z) (i32.mul (local.get $M) (local.get $K))) (i32.mul (local.get $i) (local.get $K))) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $jDone (loop $jLoop
          (br_if $jDone (i32.ge_u (local.get $j) (local.get $N)))
          (local.set $bRow (i32.add (local.get $b)
            (i32.shl (i32.add (i32.mul (local.get $z) (i32.mul (local.get $N) (local.get $K))) (i32.mul (local.get $j) (local.get $K))) (i32.const 2))))
          (local.set $acc (v128.const f32x4 0 0 0 0))
          (local.set $k (i32.const 0))
          (block $kDone (loop $kLoop
            (br_if $kDone (i32.ge_u (local.get $k) (local.get $K4)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load align=4 (i32.add (local.get $aRow) (i32.shl (local.get $k) (i32.const 2))))
                         (v128.load align=4 (i32.add (local.get $bRow) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $kLoop)))
          (local.set $s (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
          (block $tDone (loop $tLoop
            (br_if $tDone (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $s (f32.add (local.get $s)
              (f32.mul (f32.load (i32.add (local.get $aRow) (i32.shl (local.get $k) (i32.const 2))))
                       (f32.load (i32.add (local.get $bRow) (i32.shl (local.get $k) (i32.const 2)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $tLoop)))
          (f32.store (local.get $o) (local.get $s))
          (local.set $o (i32.add (local.get $o) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
      (local.set $z (i32.add (local.get $z) (i32.const 1)))
      (br $zLoop))))
)
