/* math.h shim for wasm32-unknown-unknown (no libc). The functions are
 * implemented by Rust's compiler_builtins (its libm port), which the Rust
 * link always includes; clang lowers sqrt/fabs/floor/ceil/trunc/rint to
 * single wasm instructions itself. */
#ifndef VOXLET_WASM_MATH_H
#define VOXLET_WASM_MATH_H

#define HUGE_VAL  __builtin_huge_val()
#define HUGE_VALF __builtin_huge_valf()
#define INFINITY  __builtin_inff()
#define NAN       __builtin_nanf("")
#define isnan(x)  __builtin_isnan(x)
#define isinf(x)  __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x)  __builtin_signbit(x)
#define M_PI 3.14159265358979323846

double sqrt(double); float sqrtf(float);
double fabs(double); float fabsf(float);
double floor(double); float floorf(float);
double ceil(double); float ceilf(float);
double trunc(double); float truncf(float);
double round(double); float roundf(float);
double rint(double); float rintf(float);
double fmin(double, double); float fminf(float, float);
double fmax(double, double); float fmaxf(float, float);
double fmod(double, double); float fmodf(float, float);
double exp(double); float expf(float);
double exp2(double); float exp2f(float);
double log(double); float logf(float);
double log2(double); float log2f(float);
double log10(double); float log10f(float);
double pow(double, double); float powf(float, float);
double sin(double); float sinf(float);
double cos(double); float cosf(float);
double tan(double); float tanf(float);
double asin(double); float asinf(float);
double acos(double); float acosf(float);
double atan(double); float atanf(float);
double atan2(double, double); float atan2f(float, float);
double tanh(double); float tanhf(float);
double ldexp(double, int); float ldexpf(float, int);
double frexp(double, int *); float frexpf(float, int *);

/* Round to nearest, ties to even (the default rounding mode), like x86's
 * cvtss2si that native libopus uses for float2int: __builtin_rint* is one
 * f32.nearest / f64.nearest instruction. libopus' fallback without lrintf,
 * floor(.5+x), would round ties differently from the native build. */
static inline long lrintf(float x) { return (long)__builtin_rintf(x); }
static inline long lrint(double x) { return (long)__builtin_rint(x); }
static inline long lroundf(float x) { return (long)__builtin_roundf(x); }
static inline long lround(double x) { return (long)__builtin_round(x); }

#endif
