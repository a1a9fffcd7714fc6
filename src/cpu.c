/*
 * cpu.c -- what the kernels need to know of the CPU beyond its instruction
 * set (cpu.h).
 */
#include "ising/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

/* AMD (and Hygon) CPUs before family 0x19 (Zen 3) run pdep and pext in
 * microcode, hundreds of cycles each (Zen 1, Zen+, Zen 2; the BMI2 of the
 * older families 0x15 alike); every other CPU with BMI2 in a few cycles. */
static int cpu_slow_pdep(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
  const int amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;   /* AuthenticAMD */
  const int hygon = b == 0x6f677948u && d == 0x6e65476eu && c == 0x656e6975u; /* HygonGenuine */
  if (!(amd || hygon) || !__get_cpuid(1, &a, &b, &c, &d)) return 0;
  unsigned family = (a >> 8) & 0xF;
  if (family == 0xF) family += (a >> 20) & 0xFF;
  return family < 0x19;
#else
  return 0;
#endif
}

static int pdep_forced(void) {
  const char *v = getenv("ISING_PDEP");
  if (!v || !*v) return -1;
  if (strcmp(v, "native") == 0) return 0;
  if (strcmp(v, "emulated") == 0) return 1;
  return -2;
}

int ising_cpu_pdep_emulated(void) {
  const int f = pdep_forced();
  return f >= 0 ? f : cpu_slow_pdep();
}

int ising_cpu_pdep_check(void) {
  ISING_CHECK(pdep_forced() != -2, ISING_ERR_INPUT, "ISING_PDEP=%s: must be native or emulated",
              getenv("ISING_PDEP"));
  return ISING_OK;
}
