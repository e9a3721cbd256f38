/*
 * C baselines for `descent bench --report`: a STREAM-like triad and Adam, AdamW, Lion and SGD with momentum over
 * float32 arrays, one thread, compiled by the bench run itself (gcc -O3 -march=native; no -ffast-math, so the
 * compiler keeps IEEE division and square root and vectorizes them in float32). Arithmetic is float32 throughout
 * (as PyTorch's CPU kernels do), unlike descent's fused loops, which compute in float64 and round on store.
 *
 * Usage: elementwise <elements> <reps>. Prints one JSON object per line:
 *   {"name":"adam","msPerStep":…,"triadMs":…}   … adamw, lion, sgdMomentum
 * msPerStep is the median over reps timed steps after one untimed one; each step is preceded by a triad pass
 * (a[i] = b[i] + s·c[i] over arrays of the same size, 12 bytes moved per element), whose median is triadMs: the
 * roof measured under the same load as the step.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void triad(float *restrict a, const float *restrict b, const float *restrict c, float s, long n) {
  for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

static void adam(float *restrict th, const float *restrict g, float *restrict m, float *restrict v, long n, int t, float decay) {
  const float b1 = 0.9f, b2 = 0.999f, lr = 1e-3f, eps = 1e-8f;
  const float bc2 = sqrtf(1.0f - powf(b2, (float)t)), step = lr / (1.0f - powf(b1, (float)t)), shrink = 1.0f - lr * decay;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    float mi = m[i] = b1 * m[i] + (1.0f - b1) * gi;
    float vi = v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
    th[i] = th[i] * shrink - step * mi / (sqrtf(vi) / bc2 + eps);
  }
}

static void lion(float *restrict th, const float *restrict g, float *restrict m, long n) {
  const float b1 = 0.9f, b2 = 0.99f, lr = 1e-4f;
  for (long i = 0; i < n; i++) {
    float c = b1 * m[i] + (1.0f - b1) * g[i];
    th[i] = th[i] - lr * (float)((c > 0.0f) - (c < 0.0f));
    m[i] = b2 * m[i] + (1.0f - b2) * g[i];
  }
}

static void sgd_momentum(float *restrict th, const float *restrict g, float *restrict b, long n) {
  const float mu = 0.9f, lr = 1e-3f;
  for (long i = 0; i < n; i++) {
    float bi = b[i] = mu * b[i] + g[i];
    th[i] = th[i] - lr * bi;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s elements reps\n", argv[0]);
    return 2;
  }
  long n = atol(argv[1]);
  int reps = atoi(argv[2]);
  if (n <= 0 || reps <= 0) return 2;
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4), *d = aligned_alloc(64, n * 4);
  if (!a || !b || !c || !d) return 3;
  for (long i = 0; i < n; i++) {
    a[i] = 0.5f + (float)(i % 97) * 1e-3f;
    b[i] = 1e-2f * (float)((i % 89) - 44) / 44.0f;
    c[i] = 0.0f;
    d[i] = 0.0f;
  }
  double *ms = malloc(sizeof(double) * reps), *roof = malloc(sizeof(double) * reps);
  float *ta = aligned_alloc(64, n * 4), *tb = aligned_alloc(64, n * 4), *tc = aligned_alloc(64, n * 4);
  if (!ms || !roof || !ta || !tb || !tc) return 3;
  for (long i = 0; i < n; i++) {
    ta[i] = 0.0f;
    tb[i] = 1.0f;
    tc[i] = 2.0f;
  }
  const char *names[] = {"adam", "adamw", "lion", "sgdMomentum"};
  /* Each optimizer is timed alternating with a triad pass (the roof under the same load), after one untimed pair. */
  for (int k = 0; k < 4; k++) {
    for (long i = 0; i < n; i++) c[i] = d[i] = 0.0f;
    for (int r = -1; r < reps; r++) {
      double t0 = now_ms();
      triad(ta, tb, tc, 3.0f, n);
      double t1 = now_ms();
      switch (k) {
        case 0: adam(a, b, c, d, n, r + 2, 0.0f); break;
        case 1: adam(a, b, c, d, n, r + 2, 1e-2f); break;
        case 2: lion(a, b, c, n); break;
        default: sgd_momentum(a, b, c, n); break;
      }
      double t2 = now_ms();
      if (r >= 0) {
        roof[r] = t1 - t0;
        ms[r] = t2 - t1;
      }
    }
    qsort(ms, reps, sizeof(double), cmp);
    qsort(roof, reps, sizeof(double), cmp);
    printf("{\"name\":\"%s\",\"msPerStep\":%.4f,\"triadMs\":%.4f,\"check\":%.6g}\n", names[k], ms[reps / 2], roof[reps / 2], (double)(a[n / 2] + c[n / 3] + ta[n / 4]));
  }
  return 0;
}
