/* stdlib.h shim for wasm32-unknown-unknown (no libc).
 *
 * There is deliberately no C heap: voxlet creates libopus states with
 * opus_*_get_size + opus_*_init in memory Rust owns (see src/codec/opus.rs),
 * so libopus never needs malloc. These stand-ins make the unused
 * opus_*_create functions fail cleanly (OPUS_ALLOC_FAIL) instead of leaving
 * an undefined `malloc`, which would become an "env" import of the .wasm and
 * stop it from loading. */
#ifndef VOXLET_WASM_STDLIB_H
#define VOXLET_WASM_STDLIB_H
#include <stddef.h>

#if defined(NONTHREADSAFE_PSEUDOSTACK)
#error "libopus must use C99 variable-length arrays on wasm32: its pseudo-stack needs malloc"
#endif

static inline void *malloc(size_t n) { (void)n; return NULL; }
static inline void *calloc(size_t n, size_t m) { (void)n; (void)m; return NULL; }
static inline void *realloc(void *p, size_t n) { (void)p; (void)n; return NULL; }
static inline void free(void *p) { (void)p; }
_Noreturn static inline void abort(void) { __builtin_trap(); }
static inline int abs(int x) { return x < 0 ? -x : x; }
static inline long labs(long x) { return x < 0 ? -x : x; }
#endif
