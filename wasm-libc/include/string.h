/* string.h shim for wasm32-unknown-unknown (no libc). memcpy, memmove,
 * memset and memcmp are implemented by Rust's compiler_builtins. */
#ifndef VOXLET_WASM_STRING_H
#define VOXLET_WASM_STRING_H
#include <stddef.h>
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Only the neural build (dnn/parse_lpcnet_weights.c, for external weight
 * files, which voxlet never loads) calls it. */
static inline int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (unsigned char)*a - (unsigned char)*b;
}
#endif
