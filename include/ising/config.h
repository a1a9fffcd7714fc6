/*
 * config.h -- the input deck: parsing (libinih), validation, --set overrides.
 *
 * A deck is an INI file with the sections [lattice], [model], [montecarlo],
 * [tempering], [measurement], [output] and [parallel] (README: "Deck
 * reference").  Parsing and validation know nothing of MPI or HDF5, so the
 * parser can be fuzzed on its own; checks that need the machine (rank tiling,
 * replica groups, output path) live with the modules that own those facts and
 * use ising_config_where() to name the key.
 * Every error is one line: "deck.ini:12: [lattice] L = 17: L must be even".
 */
#ifndef ISING_CONFIG_H
#define ISING_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ising/rng.h"

#define ISING_MAX_DIM 3
#define ISING_PATH_MAX 4096
#define ISING_MAX_TEMPS 1024   /* temperatures of a ladder */
#define ISING_MAX_REPLICAS 4096 /* temperatures x copies */

/* The numeric ranges of the physics, chosen so that every acceptance
 * threshold, energy, summary quantity (c = beta^2 N var e, its jackknife
 * error, chi, chi'), exact and baseline value is finite for every lattice
 * (N <= 2^40) and run length (< 2^32 sweeps) the deck allows, with a wide
 * margin: |J|, |H| <= ISING_ENERGY_MAX; every temperature between
 * ISING_T_LOWEST and ISING_T_HIGHEST; and at every temperature the largest
 * local field in units of T, (2 dim |J| + |H|) / T, at most
 * ISING_FIELD_OVER_T_MAX (far beyond it every move is decided exactly: a
 * threshold is 0 once the field over T exceeds about 11). */
#define ISING_ENERGY_MAX 1e100
#define ISING_T_LOWEST 1e-100
#define ISING_T_HIGHEST 1e100
#define ISING_FIELD_OVER_T_MAX 1e50

/* Local updates (metropolis, heatbath: the kernels of [montecarlo] kernel)
 * or cluster updates (swendsen-wang, wolff: backends of their own). */
typedef enum {
  ISING_ALG_METROPOLIS = 0,
  ISING_ALG_HEATBATH = 1,
  ISING_ALG_SWENDSEN_WANG = 2,
  ISING_ALG_WOLFF = 3
} ising_algorithm;
static inline int ising_algorithm_is_cluster(int a) {
  return a == ISING_ALG_SWENDSEN_WANG || a == ISING_ALG_WOLFF;
}
static inline const char *ising_algorithm_name(int a) {
  return a == ISING_ALG_HEATBATH ? "heatbath"
         : a == ISING_ALG_SWENDSEN_WANG ? "swendsen-wang"
         : a == ISING_ALG_WOLFF ? "wolff" : "metropolis";
}
typedef enum { ISING_START_HOT = 0, ISING_START_COLD = 1 } ising_start;
/* Quenched disorder ([disorder], disorder.h): the couplings and the random
 * fields of a sample. */
typedef enum { ISING_DIS_UNIFORM = 0, ISING_DIS_BIMODAL = 1, ISING_DIS_GAUSSIAN = 2 } ising_dis_couplings;
typedef enum { ISING_FIELDS_NONE = 0, ISING_FIELDS_BIMODAL = 1, ISING_FIELDS_GAUSSIAN = 2 } ising_dis_fields;
#define ISING_MAX_SAMPLES 1000000 /* disorder samples */
#define ISING_MAX_ALL_REPLICAS (1 << 22) /* samples x temperatures x copies */
/* How the temperature ladder is given: the explicit list [model] T, or
 * generated from [tempering] T_min, T_max, count. */
typedef enum { ISING_LADDER_LIST = 0, ISING_LADDER_LINEAR = 1, ISING_LADDER_GEOMETRIC = 2 } ising_ladder_kind;
/* Ladder adaptation during thermalisation. */
typedef enum { ISING_ADAPT_NONE = 0, ISING_ADAPT_FEEDBACK = 1 } ising_adapt_kind;

typedef struct ising_config {
  /* [lattice] */
  int dim;                   /* 2 or 3 */
  int64_t L[ISING_MAX_DIM];  /* extent per axis, x (fastest) first; even, >= 2 */
  /* [model] */
  double J; /* nearest-neighbour coupling, any sign, finite */
  double H; /* field, finite */
  /* temperatures: [model] T (one value or a strictly increasing list), or
   * the ladder generated from [tempering]; always strictly increasing */
  int n_temps;                   /* 1 .. ISING_MAX_TEMPS */
  double temps[ISING_MAX_TEMPS]; /* each finite, > 0 */
  /* [montecarlo] */
  ising_algorithm algorithm;
  ising_start start;
  char kernel[32]; /* the update backend's name (sweeper.h: the registry checks it) */
  int rng;        /* enum ising_rng_alg (rng.h): philox or ars */
  uint64_t seed;
  int64_t thermalization; /* sweeps before measuring, >= 0 */
  int64_t sweeps;         /* measured sweeps, >= 1 */
  int copies;             /* independent replicas per temperature, >= 1 */
  int64_t clusters_per_sweep; /* wolff: single-cluster updates per sweep, 0 = automatic */
  /* [tempering] */
  ising_ladder_kind ladder;
  double T_min, T_max; /* generated ladders */
  int count;           /* generated ladders: number of temperatures, >= 2 */
  int64_t exchange_interval; /* exchange attempt every k sweeps, >= 1 */
  ising_adapt_kind adapt;
  int adapt_rounds;    /* feedback rounds within thermalisation, >= 1 */
  /* [parallel] */
  int ranks_per_replica; /* ranks per replica group; 0 = all ranks in one group */
  /* [checkpoint] (run control: may change on resume) */
  int64_t ckpt_sweeps;   /* checkpoint every this many sweeps, 0 = off */
  double ckpt_minutes;   /* checkpoint every this many minutes of wall time, 0 = off */
  /* [measurement] */
  int64_t interval; /* measure every `interval` sweeps, 1 <= interval <= sweeps */
  int correlation;  /* 1: S(0), S(k_min) at every measurement (corr.h) */
  int64_t sk_every; /* the full S(k) (FFT) every this many measurements, 0 = never */
  int64_t corr_rmax; /* largest r of the written G(r) profiles, 0 .. min_a L_a / 2; 0 = L/2 */
  int overlap;       /* overlaps between copies: 1 yes, 0 no, -1 auto (yes with [disorder] and
                       copies >= 2); ising_config_overlap() resolves it */
  /* [disorder] (absent: the uniform model of [model], bit for bit) */
  int disorder;      /* 1 when any [disorder] key is given */
  ising_dis_couplings dis_couplings;
  double bond_dilution;  /* fraction of bonds set to 0, 0 .. 1 */
  ising_dis_fields dis_fields;
  double field_strength; /* of the random fields, >= 0 */
  int samples;           /* disorder samples, 1 .. ISING_MAX_SAMPLES (1 without [disorder]) */
  uint64_t dis_seed;     /* the disorder seed (not the Monte Carlo seed) */
  char dis_file[ISING_PATH_MAX]; /* couplings and fields from this HDF5 file ("" : drawn) */
  /* [output] */
  char file[ISING_PATH_MAX]; /* output HDF5 file, relative to the cwd */
  double progress;           /* seconds between progress lines, 0 = off */

  /* provenance */
  char deck_name[ISING_PATH_MAX]; /* path the deck was read from */
  char *deck_text;                /* full deck text, then the --set lines */
  char *deck_source;              /* the deck text alone, as read */
  char **set_list;                /* the --set overrides, in order */
  int n_set;
  struct ising_config_entry *entries; /* where each key was set (private) */
  int n_entries;
} ising_config;

/* Defaults of every key (README lists them). deck_text stays NULL. */
void ising_config_defaults(ising_config *cfg);

/* Parse `text` (the content of a deck named `name`) and then the `nset`
 * overrides "section.key=value", validate, and fill *cfg.  On failure return
 * ISING_ERR_INPUT with a one-line message (see error.h) and leave *cfg
 * freed (safe to ising_config_free again). */
int ising_config_parse_string(const char *text, const char *name, int nset,
                              char *const *set, ising_config *cfg);

/* Read the deck file `path` into *text (malloc'ed, NUL-terminated; the
 * caller frees it): what can be read exactly, at most 1 MiB of text without
 * NUL bytes.  A missing, unreadable or oversized deck, a directory, or a
 * NUL byte is ISING_ERR_INPUT with a one-line message naming the path (and
 * the line of a NUL byte); *text is then NULL. */
int ising_config_read_file(const char *path, char **text);

/* Read the file `path` (ising_config_read_file) and call
 * ising_config_parse_string. */
int ising_config_parse_file(const char *path, int nset, char *const *set,
                            ising_config *cfg);

/* Where a key got its value, for messages of later checks:
 * "deck.ini:3: [lattice] L = 10", "--set lattice.L=10", or
 * "[lattice] L = 64 (default)".  Writes at most `size` bytes to `buf`
 * and returns buf. */
const char *ising_config_where(const ising_config *cfg, const char *section,
                               const char *key, char *buf, int size);

/* Whether one temperature T of a `dim`-dimensional model with coupling J and
 * field H lies within the ranges above (the deck's keys are checked against
 * the same ranges; `ising bench` checks its options with this).  Returns
 * ISING_OK, or ISING_ERR_INPUT with the reason, naming J, H or T, in why
 * (at most n bytes; nothing is recorded by ising_err_set). */
int ising_config_check_scales(int dim, double J, double H, double T, char *why, size_t n);

/* Replace [montecarlo] sweeps of a parsed config by `sweeps` given by the
 * command-line option `option` (e.g. "--sweeps 700" of resume): checked
 * like the deck key (1 .. 10^18, at least [measurement] interval), and from
 * then on ising_config_where() names `option` for the key.  ISING_OK, or
 * ISING_ERR_INPUT naming the option (cfg unchanged). */
int ising_config_set_sweeps(ising_config *cfg, int64_t sweeps, const char *option);

/* Number of sites (product of L). */
int64_t ising_config_sites(const ising_config *cfg);

/* The update backend a deck runs on (sweeper.h): the algorithm's own for a
 * cluster algorithm, else [montecarlo] kernel. */
static inline const char *ising_config_backend(const ising_config *cfg) {
  return ising_algorithm_is_cluster(cfg->algorithm) ? ising_algorithm_name(cfg->algorithm)
                                                    : cfg->kernel;
}

/* Whether overlaps between copies are measured: [measurement] overlap, auto
 * = with [disorder] and copies >= 2. */
static inline int ising_config_overlap(const ising_config *cfg) {
  return cfg->overlap >= 0 ? cfg->overlap : cfg->disorder && cfg->copies >= 2;
}

/* Whether the key was given (in the deck, by --set or an option) rather
 * than left at its default. */
int ising_config_given(const ising_config *cfg, const char *section, const char *key);

/* Release what parse allocated; safe on a defaults-only or freed config. */
void ising_config_free(ising_config *cfg);

#endif
