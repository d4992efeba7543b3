/* stdio.h shim for wasm32-unknown-unknown (no libc). libopus includes it
 * but only prints in debug/hardening builds, which opusic-sys' `no-*`
 * features turn off. Declarations only: a call that survived into the
 * build would show up as an "env" import of the .wasm. */
#ifndef VOXLET_WASM_STDIO_H
#define VOXLET_WASM_STDIO_H
#include <stddef.h>
#include <stdarg.h>
typedef struct voxlet_FILE FILE;
extern FILE *stderr;
extern FILE *stdout;
int fprintf(FILE *f, const char *fmt, ...);
int printf(const char *fmt, ...);
int fflush(FILE *f);
#endif
