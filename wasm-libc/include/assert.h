/* assert.h shim for wasm32-unknown-unknown (no libc): assert() traps. */
#ifndef VOXLET_WASM_ASSERT_H
#define VOXLET_WASM_ASSERT_H
#ifdef NDEBUG
#define assert(x) ((void)0)
#else
#define assert(x) ((x) ? (void)0 : __builtin_trap())
#endif
#endif
