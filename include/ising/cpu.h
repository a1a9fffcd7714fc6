/*
 * cpu.h -- what the kernels need to know of the CPU beyond its instruction
 * set (the path is sweeper.h's choice).
 */
#ifndef ISING_CPU_H
#define ISING_CPU_H

/* Whether the avx2 path of the packed kernels (msc, msc-async) emulates
 * BMI2 pdep/pext (the same bits by plain shifts and byte shuffles): on AMD
 * and Hygon CPUs before family 0x19 (Zen 3), whose pdep/pext are
 * microcoded (hundreds of cycles each), or where the environment's
 * ISING_PDEP = emulated; ISING_PDEP = native forces the instructions. */
int ising_cpu_pdep_emulated(void);
/* ISING_ERR_INPUT, one line, when ISING_PDEP is set to another value. */
int ising_cpu_pdep_check(void);

#endif
