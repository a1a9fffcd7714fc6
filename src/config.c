/*
 * config.c -- the input deck: INI syntax (libinih), validation of every key,
 * --set overrides, and the record of where each value came from.
 *
 * inih does the INI syntax; this file owns the meaning.  inih is built
 * without line numbers for its handler, so we feed it the deck through our
 * own ini_reader: the reader hands over one line at a time from memory,
 * counts lines, rejects a line too long for inih's buffer (inih would
 * silently split it) and classifies each line the way inih is about to
 * (section header, continuation of the previous value, key), so that every
 * message can name the right line and an indented key that inih reads as a
 * continuation gets its own explanation.  Reading is two-phase: first the raw
 * text of each key is collected (deck, then overrides), rejecting unknown
 * sections and keys and duplicates; then every value is converted and checked
 * in the order the user wrote it, so that a value continued on the next line
 * is complete, a --set is validated exactly like a deck line, and the first
 * mistake in the deck is the one reported; cross-key checks come last.  The
 * key table below is the single source of names, defaults and allowed
 * values; ising_config_defaults() runs it, so defaults cannot drift from what
 * the messages say.  The temperatures always end in cfg->temps[]: [model] T
 * (one value or a strictly increasing list) or, for a generated ladder, the
 * linear or geometric ladder that the cross-key checks build from
 * [tempering] T_min, T_max, count; which keys were given explicitly (not
 * their values, which may equal a default) decides the conflicts between the
 * two.  Everything the user typed is echoed sanitised (control bytes as \xNN,
 * long text cut), so every message stays one line.  No MPI and no HDF5 here:
 * the parser is fuzzed on its own (tests/fuzz_deck.c).
 */
#include "ising/config.h"

#include "ising/error.h"

#include <ini.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define AXIS_MAX 1048576                          /* 2^20 sites along one axis */
#define SITES_MAX ((int64_t)1 << 40)              /* product of the extents */
#define COUNT_MAX 1000000000000000000LL           /* sweeps, thermalization */
#define DECK_MAX_BYTES (1 << 20)                  /* a deck is a few hundred bytes */
#define SHOW_MAX 160                              /* user text echoed in a message */
#define COPIES_MAX 64                             /* replicas per temperature */
#define CLUSTERS_MAX 1000000000LL                 /* wolff clusters per sweep */
#define ADAPT_ROUNDS_MAX 30                       /* the last round is 2^29 times the first */
#define ADAPT_MIN_ATTEMPTS 10                     /* exchange attempts in the first round */
#define SUFFIX_MAX 9 /* the longest suffix of a name derived from the output: .ckpt.old, .ckpt.tmp */
#ifndef NAME_MAX
#define NAME_MAX 255 /* bytes in one name of a path (POSIX file systems) */
#endif

/* Where one key got its final value: entries[k] for key k of the table. */
struct ising_config_entry {
  int line;    /* deck line (> 0) when the value came from the deck, else 0 */
  char *value; /* the value as written; NULL: the default */
  char *set;   /* the whole override "section.key=value" when from --set */
  char *option; /* the command-line option that replaced the value ("--sweeps 700") */
};

/* ------------------------------------------------------------ key table */

/* In the order messages list them. */
enum {
  SEC_LATTICE, SEC_MODEL, SEC_MONTECARLO, SEC_TEMPERING, SEC_MEASUREMENT, SEC_OUTPUT,
  SEC_PARALLEL, SEC_CHECKPOINT, SEC_DISORDER, N_SECTIONS
};
static const char *const section_names[N_SECTIONS] = {
    "lattice", "model", "montecarlo", "tempering", "measurement", "output", "parallel",
    "checkpoint", "disorder"};

enum {
  K_DIM, K_L, K_J, K_H, K_T, K_ALGORITHM, K_START, K_KERNEL, K_RNG, K_SEED,
  K_THERMALIZATION, K_SWEEPS, K_COPIES, K_CLUSTERS, K_LADDER, K_T_MIN, K_T_MAX, K_COUNT,
  K_EXCHANGE_INTERVAL, K_ADAPT, K_ADAPT_ROUNDS, K_INTERVAL, K_FILE, K_PROGRESS,
  K_RANKS_PER_REPLICA, K_CKPT_SWEEPS, K_CKPT_MINUTES, K_CORRELATION, K_SK_EVERY,
  K_CORR_RMAX, K_OVERLAP, K_DIS_COUPLINGS, K_DIS_DILUTION, K_DIS_FIELDS, K_DIS_STRENGTH,
  K_DIS_SAMPLES, K_DIS_SEED, K_DIS_FILE, N_KEYS
};

/* The L values as read, before dim (perhaps set later) says how to use them. */
typedef struct lattice_values {
  int n;
  int64_t v[ISING_MAX_DIM];
} lattice_values;

/* Convert `v` into cfg (and lv for L); on failure write the reason to why
 * ("T must be a finite number > 0") and return 0. */
typedef int (*key_parser)(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                          size_t n);

typedef struct key_spec {
  int section;
  const char *name;
  const char *deflt; /* default, as deck text; NULL: none (set it when it is needed) */
  key_parser parse;
} key_spec;

static int key_dim(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_L(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_J(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_H(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_T(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_algorithm(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_start(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_kernel(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_rng(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_seed(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_thermalization(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_sweeps(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_interval(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_file(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_progress(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_copies(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_clusters(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_ladder(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_T_min(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_T_max(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_count(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_exchange_interval(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_adapt(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_adapt_rounds(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_ranks_per_replica(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_ckpt_sweeps(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_correlation(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_sk_every(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_corr_rmax(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_ckpt_minutes(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_overlap(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_couplings(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_dilution(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_fields(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_strength(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_samples(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_seed(const char *, ising_config *, lattice_values *, char *, size_t);
static int key_dis_file(const char *, ising_config *, lattice_values *, char *, size_t);

/* Indexed by the K_ enum; within a section in the order messages list them. */
static const key_spec keys[N_KEYS] = {
    [K_DIM] = {SEC_LATTICE, "dim", "2", key_dim},
    [K_L] = {SEC_LATTICE, "L", "64", key_L},
    [K_J] = {SEC_MODEL, "J", "1.0", key_J},
    [K_H] = {SEC_MODEL, "H", "0.0", key_H},
    [K_T] = {SEC_MODEL, "T", "2.269185314213022", key_T}, /* 2 / ln(1 + sqrt 2) */
    [K_ALGORITHM] = {SEC_MONTECARLO, "algorithm", "metropolis", key_algorithm},
    [K_START] = {SEC_MONTECARLO, "start", "hot", key_start},
    [K_KERNEL] = {SEC_MONTECARLO, "kernel", "fast", key_kernel},
    [K_RNG] = {SEC_MONTECARLO, "rng", "philox", key_rng},
    [K_SEED] = {SEC_MONTECARLO, "seed", "1", key_seed},
    [K_THERMALIZATION] = {SEC_MONTECARLO, "thermalization", "1000", key_thermalization},
    [K_SWEEPS] = {SEC_MONTECARLO, "sweeps", "10000", key_sweeps},
    [K_COPIES] = {SEC_MONTECARLO, "copies", "1", key_copies},
    [K_CLUSTERS] = {SEC_MONTECARLO, "clusters_per_sweep", "0", key_clusters},
    [K_LADDER] = {SEC_TEMPERING, "ladder", "list", key_ladder},
    [K_T_MIN] = {SEC_TEMPERING, "T_min", NULL, key_T_min},
    [K_T_MAX] = {SEC_TEMPERING, "T_max", NULL, key_T_max},
    [K_COUNT] = {SEC_TEMPERING, "count", NULL, key_count},
    [K_EXCHANGE_INTERVAL] = {SEC_TEMPERING, "interval", "10", key_exchange_interval},
    [K_ADAPT] = {SEC_TEMPERING, "adapt", "none", key_adapt},
    [K_ADAPT_ROUNDS] = {SEC_TEMPERING, "adapt_rounds", "5", key_adapt_rounds},
    [K_INTERVAL] = {SEC_MEASUREMENT, "interval", "1", key_interval},
    [K_FILE] = {SEC_OUTPUT, "file", "ising.h5", key_file},
    [K_PROGRESS] = {SEC_OUTPUT, "progress", "10", key_progress},
    [K_RANKS_PER_REPLICA] = {SEC_PARALLEL, "ranks_per_replica", "0", key_ranks_per_replica},
    [K_CKPT_SWEEPS] = {SEC_CHECKPOINT, "every_sweeps", "0", key_ckpt_sweeps},
    [K_CKPT_MINUTES] = {SEC_CHECKPOINT, "every_minutes", "10", key_ckpt_minutes},
    [K_CORRELATION] = {SEC_MEASUREMENT, "correlation", "no", key_correlation},
    [K_SK_EVERY] = {SEC_MEASUREMENT, "sk_every", "100", key_sk_every},
    [K_CORR_RMAX] = {SEC_MEASUREMENT, "correlation_rmax", "0", key_corr_rmax},
    [K_OVERLAP] = {SEC_MEASUREMENT, "overlap", "auto", key_overlap},
    [K_DIS_COUPLINGS] = {SEC_DISORDER, "couplings", "uniform", key_dis_couplings},
    [K_DIS_DILUTION] = {SEC_DISORDER, "bond_dilution", "0", key_dis_dilution},
    [K_DIS_FIELDS] = {SEC_DISORDER, "fields", "none", key_dis_fields},
    [K_DIS_STRENGTH] = {SEC_DISORDER, "field_strength", "0", key_dis_strength},
    [K_DIS_SAMPLES] = {SEC_DISORDER, "samples", "1", key_dis_samples},
    [K_DIS_SEED] = {SEC_DISORDER, "seed", "1", key_dis_seed},
    [K_DIS_FILE] = {SEC_DISORDER, "file", NULL, key_dis_file},
};

/* `name` has `len` bytes and need not end there.  (strncmp first: the
 * fuzzer learns the names from its arguments.) */
static int find_section(const char *name, size_t len) {
  for (int s = 0; s < N_SECTIONS; s++)
    if (strncmp(section_names[s], name, len) == 0 && section_names[s][len] == '\0') return s;
  return -1;
}

static int find_key(int section, const char *name) {
  for (int k = 0; k < N_KEYS; k++)
    if (keys[k].section == section && strcmp(keys[k].name, name) == 0) return k;
  return -1;
}

/* ------------------------------------------------------------ echoing user text */

/* A string small enough to pass by value; C11 keeps the temporary alive for
 * the whole printf-like call it appears in. */
typedef struct shown {
  char s[SHOW_MAX + 8];
} shown;

static size_t esc_width(unsigned char c) { return (c < 0x20 || c == 0x7f) ? 4 : 1; }

static char *esc_put(char *o, unsigned char c) {
  if (esc_width(c) == 1) {
    *o++ = (char)c;
  } else {
    static const char hex[] = "0123456789abcdef";
    *o++ = '\\';
    *o++ = 'x';
    *o++ = hex[c >> 4];
    *o++ = hex[c & 15];
  }
  return o;
}

/* `s` for a one-line message: control bytes as \xNN, at most SHOW_MAX
 * characters; a longer text keeps its head ("abc...") or, for paths, its
 * tail ("...dir/deck.ini") where the file name is. */
static shown show_text(const char *s, int keep_tail) {
  shown r;
  char *o = r.s;
  if (!s) s = "(null)";
  size_t len = strlen(s), width = 0;
  for (size_t i = 0; i < len; i++) width += esc_width((unsigned char)s[i]);
  if (width <= SHOW_MAX) {
    for (size_t i = 0; i < len; i++) o = esc_put(o, (unsigned char)s[i]);
  } else if (!keep_tail) {
    size_t w = 0;
    for (size_t i = 0; i < len && w + esc_width((unsigned char)s[i]) <= SHOW_MAX - 3; i++) {
      w += esc_width((unsigned char)s[i]);
      o = esc_put(o, (unsigned char)s[i]);
    }
    memcpy(o, "...", 3);
    o += 3;
  } else {
    size_t start = len, w = 0;
    while (start > 0 && w + esc_width((unsigned char)s[start - 1]) <= SHOW_MAX - 3)
      w += esc_width((unsigned char)s[--start]);
    memcpy(o, "...", 3);
    o += 3;
    for (size_t i = start; i < len; i++) o = esc_put(o, (unsigned char)s[i]);
  }
  *o = '\0';
  return r;
}

static shown show(const char *s) { return show_text(s, 0); }
static shown show_path(const char *s) { return show_text(s, 1); }
/* A value: an empty one is shown as "" so that "file = :" never appears. */
static shown show_value(const char *s) { return show_text(s && *s ? s : "\"\"", 0); }

/* The `len` bytes at `p` (one word of a list), shown like show(). */
static shown show_span(const char *p, size_t len) {
  char tmp[SHOW_MAX + 2];
  size_t keep = len < SHOW_MAX + 1 ? len : SHOW_MAX + 1; /* longer: cut by show() */
  memcpy(tmp, p, keep);
  tmp[keep] = '\0';
  return show(tmp);
}

/* ------------------------------------------------------------ value syntax */

enum { NUM_OK = 0, NUM_SYNTAX = 1, NUM_RANGE = 2 };

/* Strict decimal: an optional sign then digits, nothing else. */
static int decimal_syntax(const char *s, int allow_minus) {
  if (*s == '+' || (allow_minus && *s == '-')) s++;
  if (!*s) return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

static int parse_int64(const char *s, int64_t *out) {
  if (!decimal_syntax(s, 1)) return NUM_SYNTAX;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (errno == ERANGE) return NUM_RANGE;
  if (*end) return NUM_SYNTAX;
  *out = (int64_t)v;
  return NUM_OK;
}

static int parse_uint64(const char *s, uint64_t *out) {
  if (!decimal_syntax(s, 0)) return NUM_SYNTAX; /* strtoull would wrap "-1" */
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE) return NUM_RANGE;
  if (*end) return NUM_SYNTAX;
  *out = (uint64_t)v;
  return NUM_OK;
}

/* A finite real, the whole string (no leading blanks either). */
static int parse_real(const char *s, double *out) {
  if (!*s || isspace((unsigned char)*s)) return 0;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

/* An integer key with bounds lo..hi; `allowed` ends "must be ..." */
static int int_key(const char *v, int64_t lo, int64_t hi, int64_t *out, const char *allowed,
                   char *why, size_t n) {
  int64_t x = 0;
  if (parse_int64(v, &x) != NUM_OK || x < lo || x > hi) {
    snprintf(why, n, "%s", allowed);
    return 0;
  }
  *out = x;
  return 1;
}

static int real_key(const char *v, double lo, double *out, const char *allowed, char *why,
                    size_t n) {
  double x;
  if (!parse_real(v, &x) || !(x >= lo)) {
    snprintf(why, n, "%s", allowed);
    return 0;
  }
  *out = x;
  return 1;
}

/* ------------------------------------------------------------ the keys */

static int key_dim(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  int64_t d;
  if (!int_key(v, 2, 3, &d, "dim must be 2 or 3", why, n)) return 0;
  cfg->dim = (int)d;
  return 1;
}

static int key_L(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)cfg;
  lattice_values got = {0, {0}};
  const char *p = v;
  for (;;) {
    while (isspace((unsigned char)*p)) p++;
    if (!*p) break;
    const char *q = p;
    while (*q && !isspace((unsigned char)*q)) q++;
    char tok[32]; /* longer than any int64 */
    size_t len = (size_t)(q - p), keep = len < sizeof tok ? len : sizeof tok - 1;
    memcpy(tok, p, keep);
    tok[keep] = '\0';
    p = q;
    if (got.n == ISING_MAX_DIM) {
      snprintf(why, n, "L takes one value for all axes or one per axis (at most %d values)",
               ISING_MAX_DIM);
      return 0;
    }
    int64_t x = 0;
    int rc = parse_int64(tok, &x);
    if (keep < len) rc = rc == NUM_SYNTAX ? NUM_SYNTAX : NUM_RANGE; /* cut: too long */
    if (rc == NUM_SYNTAX) {
      snprintf(why, n, "L must be even integers separated by blanks, got %s", show(tok).s);
      return 0;
    }
    if (rc == NUM_RANGE || x > AXIS_MAX) {
      snprintf(why, n, "L must be <= %d (each axis), got %s", AXIS_MAX, show(tok).s);
      return 0;
    }
    if (x < 2) {
      snprintf(why, n, "L must be >= 2 (each axis), got %s", show(tok).s);
      return 0;
    }
    if (x % 2 != 0) {
      snprintf(why, n, "L must be even (each axis), got %s", show(tok).s);
      return 0;
    }
    got.v[got.n++] = x;
  }
  if (got.n == 0) {
    snprintf(why, n, "L needs a value: one even integer for all axes, or one per axis");
    return 0;
  }
  *lv = got;
  return 1;
}

/* J or H: finite, |x| <= ISING_ENERGY_MAX (config.h). */
static int energy_key(const char *v, double *out, const char *name, char *why, size_t n) {
  double x;
  if (!parse_real(v, &x) || !(fabs(x) <= ISING_ENERGY_MAX)) {
    snprintf(why, n, "%s must be a finite number between -%g and %g", name, ISING_ENERGY_MAX,
             ISING_ENERGY_MAX);
    return 0;
  }
  *out = x;
  return 1;
}

static int key_J(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  return energy_key(v, &cfg->J, "J", why, n);
}

static int key_H(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  return energy_key(v, &cfg->H, "H", why, n);
}

/* A temperature within ISING_T_LOWEST .. ISING_T_HIGHEST (config.h). */
static int temperature_ok(double t) {
  return isfinite(t) && t >= ISING_T_LOWEST && t <= ISING_T_HIGHEST;
}

/* The separator of list values: blanks, also what inih puts between the
 * lines of a continued value.  Other control bytes stay in a word and make
 * it a bad number. */
static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* One temperature, or a strictly increasing list of them (a ladder). */
static int key_T(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  int words = 0;
  for (const char *p = v; *p;) {
    while (is_blank(*p)) p++;
    if (!*p) break;
    words++;
    while (*p && !is_blank(*p)) p++;
  }
  if (words > ISING_MAX_TEMPS) {
    snprintf(why, n, "T takes at most %d temperatures, got %d", ISING_MAX_TEMPS, words);
    return 0;
  }
  int k = 0;
  const char *prev = NULL;
  size_t prev_len = 0;
  for (const char *p = v; *p;) {
    while (is_blank(*p)) p++;
    if (!*p) break;
    const char *q = p;
    while (*q && !is_blank(*q)) q++;
    char *end = NULL;
    double t = 0;
    if (!isspace((unsigned char)*p)) t = strtod(p, &end); /* strtod would skip \r, \v... */
    if (end != q || !temperature_ok(t)) {
      if (words == 1)
        snprintf(why, n, "T must be a finite number > 0, between %g and %g", ISING_T_LOWEST,
                 ISING_T_HIGHEST);
      else
        snprintf(why, n, "every temperature must be a finite number > 0, between %g and %g "
                 "(got %s)", ISING_T_LOWEST, ISING_T_HIGHEST, show_span(p, (size_t)(q - p)).s);
      return 0;
    }
    if (k > 0 && !(t > cfg->temps[k - 1])) {
      snprintf(why, n, "temperatures must be strictly increasing (%s after %s)",
               show_span(p, (size_t)(q - p)).s, show_span(prev, prev_len).s);
      return 0;
    }
    cfg->temps[k++] = t;
    prev = p;
    prev_len = (size_t)(q - p);
    p = q;
  }
  if (k == 0) {
    snprintf(why, n, "T must be a finite number > 0, between %g and %g", ISING_T_LOWEST,
             ISING_T_HIGHEST);
    return 0;
  }
  cfg->n_temps = k;
  return 1;
}

static int key_algorithm(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                         size_t n) {
  (void)lv;
  if (strcmp(v, "metropolis") == 0) cfg->algorithm = ISING_ALG_METROPOLIS;
  else if (strcmp(v, "heatbath") == 0) cfg->algorithm = ISING_ALG_HEATBATH;
  else if (strcmp(v, "swendsen-wang") == 0) cfg->algorithm = ISING_ALG_SWENDSEN_WANG;
  else if (strcmp(v, "wolff") == 0) cfg->algorithm = ISING_ALG_WOLFF;
  else return snprintf(why, n, "algorithm must be metropolis, heatbath, swendsen-wang or wolff"), 0;
  return 1;
}

static int key_start(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                     size_t n) {
  (void)lv;
  if (strcmp(v, "hot") == 0) cfg->start = ISING_START_HOT;
  else if (strcmp(v, "cold") == 0) cfg->start = ISING_START_COLD;
  else return snprintf(why, n, "start must be hot (random spins) or cold (all up)"), 0;
  return 1;
}

/* A backend's name (sweeper.h); which names exist and what each can run is
 * the registry's to check (ising_sweeper_validate), so that this parser
 * knows no kernel. */
static int key_kernel(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                      size_t n) {
  (void)lv;
  size_t len = strlen(v);
  int ok = len > 0 && len < sizeof cfg->kernel;
  for (size_t i = 0; i < len && ok; i++)
    ok = islower((unsigned char)v[i]) || isdigit((unsigned char)v[i]) || v[i] == '-';
  if (!ok)
    return snprintf(why, n, "kernel must be a backend name of at most %d characters a-z, 0-9, '-'",
                    (int)sizeof cfg->kernel - 1), 0;
  memcpy(cfg->kernel, v, len + 1);
  return 1;
}

/* The generator (rng.h); whether this CPU runs ars is the engine's check. */
static int key_rng(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  if (strcmp(v, "philox") == 0) cfg->rng = ISING_RNG_PHILOX;
  else if (strcmp(v, "ars") == 0) cfg->rng = ISING_RNG_ARS;
  else
    return snprintf(why, n, "rng must be philox (Philox4x32-10) or ars (ARS-7, needs AES-NI)"), 0;
  return 1;
}

static int key_seed(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  if (parse_uint64(v, &cfg->seed) != NUM_OK) {
    snprintf(why, n, "seed must be an integer between 0 and %llu", (unsigned long long)UINT64_MAX);
    return 0;
  }
  return 1;
}

static int key_thermalization(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                              size_t n) {
  (void)lv;
  return int_key(v, 0, COUNT_MAX, &cfg->thermalization,
                 "thermalization must be an integer between 0 and 1000000000000000000", why, n);
}

static int key_sweeps(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                      size_t n) {
  (void)lv;
  return int_key(v, 1, COUNT_MAX, &cfg->sweeps,
                 "sweeps must be an integer between 1 and 1000000000000000000", why, n);
}

static int key_interval(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv; /* <= sweeps is checked once both are known */
  return int_key(v, 1, COUNT_MAX, &cfg->interval,
                 "interval must be an integer between 1 and sweeps", why, n);
}

static int key_file(const char *v, ising_config *cfg, lattice_values *lv, char *why, size_t n) {
  (void)lv;
  size_t len = strlen(v);
  int ctrl = 0;
  for (size_t i = 0; i < len; i++) ctrl |= esc_width((unsigned char)v[i]) != 1;
  if (len == 0 || len + SUFFIX_MAX >= ISING_PATH_MAX || ctrl) {
    snprintf(why, n, "file must be a non-empty path shorter than %d bytes, without control "
             "characters", ISING_PATH_MAX - SUFFIX_MAX);
    return 0;
  }
  if (v[0] == '"' || v[0] == '\'') {
    snprintf(why, n, "file is taken literally: write it without quotes");
    return 0;
  }
  for (const char *p = v; *p;) { /* each name in the path */
    size_t c = strcspn(p, "/");
    int last = p[c] == '\0';
    if (c + (last ? SUFFIX_MAX : 0) > NAME_MAX) {
      if (last)
        snprintf(why, n, "the file name '%s' has %zu bytes; with the suffix '.ckpt.old' of its "
                 "checkpoint it must fit in the file system's %d, so at most %d",
                 show_span(p, c).s, c, NAME_MAX, NAME_MAX - SUFFIX_MAX);
      else
        snprintf(why, n, "the directory name '%s' has %zu bytes, more than the file system's %d",
                 show_span(p, c).s, c, NAME_MAX);
      return 0;
    }
    p += c + !last;
  }
  memcpy(cfg->file, v, len + 1);
  return 1;
}

static int key_progress(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv;
  return real_key(v, 0.0, &cfg->progress,
                  "progress must be a finite number >= 0 (seconds between progress lines, "
                  "0 = off)", why, n);
}

static int key_ckpt_sweeps(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                           size_t n) {
  (void)lv;
  return int_key(v, 0, COUNT_MAX, &cfg->ckpt_sweeps,
                 "every_sweeps must be an integer >= 0 (a checkpoint every this many sweeps, "
                 "0 = off)", why, n);
}

static int key_correlation(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                           size_t n) {
  (void)lv;
  if (strcmp(v, "no") == 0) cfg->correlation = 0;
  else if (strcmp(v, "yes") == 0) cfg->correlation = 1;
  else return snprintf(why, n, "correlation must be yes (S(0), S(k_min) and xi at every "
                       "measurement) or no"), 0;
  return 1;
}

static int key_sk_every(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv;
  return int_key(v, 0, COUNT_MAX, &cfg->sk_every,
                 "sk_every must be an integer >= 0 (the full S(k) every this many "
                 "measurements, 0 = never)", why, n);
}

/* <= L/2 of the smallest axis is checked once the lattice is known */
static int key_corr_rmax(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                         size_t n) {
  (void)lv;
  return int_key(v, 0, COUNT_MAX, &cfg->corr_rmax,
                 "correlation_rmax must be an integer between 0 and L/2 of the smallest axis (the "
                 "largest separation r of the G(r) profiles; 0 = L/2)", why, n);
}

static int key_ckpt_minutes(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                            size_t n) {
  (void)lv;
  return real_key(v, 0.0, &cfg->ckpt_minutes,
                  "every_minutes must be a finite number >= 0 (a checkpoint every this many "
                  "minutes of wall time, 0 = off)", why, n);
}

static int key_overlap(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                       size_t n) {
  (void)lv;
  if (strcmp(v, "auto") == 0) cfg->overlap = -1;
  else if (strcmp(v, "yes") == 0) cfg->overlap = 1;
  else if (strcmp(v, "no") == 0) cfg->overlap = 0;
  else return snprintf(why, n, "overlap must be auto (yes with [disorder] and copies >= 2), yes "
                       "or no"), 0;
  return 1;
}

static int key_dis_couplings(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                             size_t n) {
  (void)lv;
  if (strcmp(v, "uniform") == 0) cfg->dis_couplings = ISING_DIS_UNIFORM;
  else if (strcmp(v, "bimodal") == 0) cfg->dis_couplings = ISING_DIS_BIMODAL;
  else if (strcmp(v, "gaussian") == 0) cfg->dis_couplings = ISING_DIS_GAUSSIAN;
  else return snprintf(why, n, "couplings must be uniform (every bond J), bimodal (+J or -J) or "
                       "gaussian (mean 0, standard deviation |J|)"), 0;
  return 1;
}

static int key_dis_dilution(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                            size_t n) {
  (void)lv;
  if (!real_key(v, 0.0, &cfg->bond_dilution, "", why, n) || !(cfg->bond_dilution <= 1.0))
    return snprintf(why, n, "bond_dilution must be a number between 0 and 1 (the fraction of "
                    "bonds set to 0)"), 0;
  return 1;
}

static int key_dis_fields(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                          size_t n) {
  (void)lv;
  if (strcmp(v, "none") == 0) cfg->dis_fields = ISING_FIELDS_NONE;
  else if (strcmp(v, "bimodal") == 0) cfg->dis_fields = ISING_FIELDS_BIMODAL;
  else if (strcmp(v, "gaussian") == 0) cfg->dis_fields = ISING_FIELDS_GAUSSIAN;
  else return snprintf(why, n, "fields must be none, bimodal (+-field_strength) or gaussian "
                       "(mean 0, standard deviation field_strength)"), 0;
  return 1;
}

static int key_dis_strength(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                            size_t n) {
  (void)lv;
  if (!real_key(v, 0.0, &cfg->field_strength, "", why, n) ||
      !(cfg->field_strength <= ISING_ENERGY_MAX))
    return snprintf(why, n, "field_strength must be a number between 0 and %g", ISING_ENERGY_MAX), 0;
  return 1;
}

static int key_dis_samples(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                           size_t n) {
  (void)lv;
  int64_t x;
  if (!int_key(v, 1, ISING_MAX_SAMPLES, &x, "", why, n))
    return snprintf(why, n, "samples must be an integer between 1 and %d (disorder samples)",
                    ISING_MAX_SAMPLES), 0;
  cfg->samples = (int)x;
  return 1;
}

static int key_dis_seed(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv;
  if (parse_uint64(v, &cfg->dis_seed) != NUM_OK)
    return snprintf(why, n, "seed must be an integer between 0 and %llu (the disorder seed)",
                    (unsigned long long)UINT64_MAX), 0;
  return 1;
}

static int key_dis_file(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv;
  size_t len = strlen(v);
  int ctrl = 0;
  for (size_t i = 0; i < len; i++) ctrl |= esc_width((unsigned char)v[i]) != 1;
  if (len == 0 || len >= ISING_PATH_MAX || ctrl || v[0] == '"' || v[0] == '\'')
    return snprintf(why, n, "file must be a path of an HDF5 file of couplings (README: "
                    "\"Disorder\"), shorter than %d bytes, without quotes or control characters",
                    ISING_PATH_MAX), 0;
  memcpy(cfg->dis_file, v, len + 1);
  return 1;
}

static int key_clusters(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                        size_t n) {
  (void)lv;
  return int_key(v, 0, CLUSTERS_MAX, &cfg->clusters_per_sweep,
                 "clusters_per_sweep must be an integer between 0 (automatic) and 1000000000 "
                 "(single-cluster updates per wolff sweep)", why, n);
}

static int key_copies(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                      size_t n) {
  (void)lv;
  int64_t x;
  if (!int_key(v, 1, COPIES_MAX, &x, "copies must be an integer between 1 and 64 (independent "
               "replicas per temperature)", why, n))
    return 0;
  cfg->copies = (int)x;
  return 1;
}

static int key_ladder(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                      size_t n) {
  (void)lv;
  if (strcmp(v, "list") == 0) cfg->ladder = ISING_LADDER_LIST;
  else if (strcmp(v, "linear") == 0) cfg->ladder = ISING_LADDER_LINEAR;
  else if (strcmp(v, "geometric") == 0) cfg->ladder = ISING_LADDER_GEOMETRIC;
  else return snprintf(why, n, "ladder must be list (the temperatures of [model] T), linear or "
                       "geometric (from T_min, T_max and count)"), 0;
  return 1;
}

static int key_T_min(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                     size_t n) {
  (void)lv; /* < T_max is checked once both are known */
  double t;
  if (!parse_real(v, &t) || !temperature_ok(t))
    return snprintf(why, n, "T_min must be a finite number > 0, between %g and %g", ISING_T_LOWEST,
                    ISING_T_HIGHEST), 0;
  cfg->T_min = t;
  return 1;
}

static int key_T_max(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                     size_t n) {
  (void)lv;
  double t;
  if (!parse_real(v, &t) || !temperature_ok(t))
    return snprintf(why, n, "T_max must be a finite number > 0, between %g and %g", ISING_T_LOWEST,
                    ISING_T_HIGHEST), 0;
  cfg->T_max = t;
  return 1;
}

static int key_count(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                     size_t n) {
  (void)lv;
  int64_t x;
  char allowed[96];
  snprintf(allowed, sizeof allowed, "count must be an integer between 2 and %d (temperatures "
           "of the ladder)", ISING_MAX_TEMPS);
  if (!int_key(v, 2, ISING_MAX_TEMPS, &x, allowed, why, n)) return 0;
  cfg->count = (int)x;
  return 1;
}

static int key_exchange_interval(const char *v, ising_config *cfg, lattice_values *lv,
                                 char *why, size_t n) {
  (void)lv;
  return int_key(v, 1, COUNT_MAX, &cfg->exchange_interval,
                 "interval must be an integer between 1 and 1000000000000000000 (sweeps "
                 "between replica-exchange attempts)", why, n);
}

static int key_adapt(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                     size_t n) {
  (void)lv;
  if (strcmp(v, "none") == 0) cfg->adapt = ISING_ADAPT_NONE;
  else if (strcmp(v, "feedback") == 0) cfg->adapt = ISING_ADAPT_FEEDBACK;
  else return snprintf(why, n, "adapt must be none (a fixed ladder) or feedback (the ladder "
                       "is optimised during thermalization)"), 0;
  return 1;
}

static int key_adapt_rounds(const char *v, ising_config *cfg, lattice_values *lv, char *why,
                            size_t n) {
  (void)lv;
  int64_t x;
  if (!int_key(v, 1, ADAPT_ROUNDS_MAX, &x, "adapt_rounds must be an integer between 1 and 30",
               why, n))
    return 0;
  cfg->adapt_rounds = (int)x;
  return 1;
}

static int key_ranks_per_replica(const char *v, ising_config *cfg, lattice_values *lv,
                                 char *why, size_t n) {
  (void)lv; /* that it divides the rank count is checked by the layout */
  int64_t x;
  if (!int_key(v, 0, INT_MAX, &x, "ranks_per_replica must be an integer between 0 and "
               "2147483647 (0: all ranks form one replica group)", why, n))
    return 0;
  cfg->ranks_per_replica = (int)x;
  return 1;
}

/* Put the L values into cfg->L for `dim` axes (unused axes get 1). */
static void lattice_fill(ising_config *cfg, const lattice_values *lv) {
  for (int k = 0; k < ISING_MAX_DIM; k++)
    cfg->L[k] = k >= cfg->dim ? 1 : lv->n == 1 ? lv->v[0] : lv->v[k];
}

void ising_config_defaults(ising_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  lattice_values lv = {0, {0}};
  char why[256];
  for (int k = 0; k < N_KEYS; k++) {
    if (!keys[k].deflt) continue; /* no default: stays 0 */
    int ok = keys[k].parse(keys[k].deflt, cfg, &lv, why, sizeof why);
    assert(ok && "a default in the key table does not pass its own check");
    (void)ok;
  }
  lattice_fill(cfg, &lv);
}

/* ------------------------------------------------------------ the parse */

/* One value as given: a deck line (line > 0) or the override set[set]. */
typedef struct assign {
  int key;
  int line;
  int set; /* index of the override, -1 for the deck */
  char *value;
} assign;

typedef struct parser {
  const char *name;   /* deck name for messages */
  const char *text;   /* the deck */
  const char *next;   /* reader: first byte not yet handed to inih */
  int line;           /* reader: number of the line inih is working on */
  int have_prev;      /* inih's "prev_name is set": an indented line continues it */
  int cont;           /* the current line is such a continuation */
  int err;            /* first error we found in the deck (message in msg) */
  int err_line;
  char msg[1024];
  char *const *set;
  int nset;
  assign *as;         /* deck values in line order, then the overrides */
  int nas, cap;
  int final[N_KEYS];  /* index into as of each key's final value, -1: default */
  lattice_values lv;
} parser;

/* Note a deck error at `line` (only the first counts); inih may still report
 * an earlier syntax error, so the message is recorded at the end. */
__attribute__((format(printf, 3, 4))) static int deck_error(parser *ps, int line,
                                                            const char *fmt, ...) {
  if (ps->err) return 0;
  int n = snprintf(ps->msg, sizeof ps->msg, "%s:%d: ", show_path(ps->name).s, line);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof ps->msg) vsnprintf(ps->msg + n, sizeof ps->msg - (size_t)n, fmt, ap);
  va_end(ap);
  ps->err = ISING_ERR_INPUT;
  ps->err_line = line;
  return 0;
}

/* Append to buf (holding `used` of its `n` bytes); returns the new length,
 * at most n - 1. */
__attribute__((format(printf, 4, 5))) static size_t append(char *buf, size_t used, size_t n,
                                                           const char *fmt, ...) {
  if (used + 1 >= n) return used;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(buf + used, n - used, fmt, ap);
  va_end(ap);
  if (w < 0) return used;
  return used + (size_t)w < n ? used + (size_t)w : n - 1;
}

/* " (interval belongs in [tempering] or [measurement])" when `name` is a key
 * of sections other than `section` (-1: of any section); else nothing. */
static size_t append_belongs(int section, const char *name, char *buf, size_t used, size_t n) {
  int found = 0;
  for (int s = 0; s < N_SECTIONS; s++)
    if (s != section && find_key(s, name) >= 0) {
      if (found++) used = append(buf, used, n, " or [%s]", section_names[s]);
      else used = append(buf, used, n, " (%s belongs in [%s]", name, section_names[s]);
    }
  return found ? append(buf, used, n, ")") : used;
}

/* "allowed in [model]: J, H, T" and, if the key lives elsewhere or differs
 * only in case, a hint. */
static void describe_keys(int section, const char *name, char *buf, size_t n) {
  size_t used = append(buf, 0, n, "allowed in [%s]:", section_names[section]);
  const char *sep = " ";
  for (int k = 0; k < N_KEYS; k++)
    if (keys[k].section == section) {
      used = append(buf, used, n, "%s%s", sep, keys[k].name);
      sep = ", ";
    }
  size_t before = used;
  used = append_belongs(section, name, buf, used, n);
  if (used != before) return;
  for (int k = 0; k < N_KEYS; k++)
    if (keys[k].section == section && strcasecmp(keys[k].name, name) == 0) {
      append(buf, used, n, " (names are case-sensitive: %s)", keys[k].name);
      return;
    }
}

static void describe_sections(const char *name, size_t len, char *buf, size_t n) {
  size_t used = append(buf, 0, n, "allowed:");
  for (int s = 0; s < N_SECTIONS; s++)
    used = append(buf, used, n, "%s%s", s ? ", " : " ", section_names[s]);
  for (int s = 0; s < N_SECTIONS && used < n; s++)
    if (strlen(section_names[s]) == len && strncasecmp(section_names[s], name, len) == 0) {
      snprintf(buf + used, n - used, " (names are case-sensitive: [%s])", section_names[s]);
      return;
    }
}

static int push(parser *ps, int key, int line, int set, const char *value) {
  if (ps->nas == ps->cap) {
    int cap = ps->cap ? 2 * ps->cap : 16;
    assign *as = realloc(ps->as, (size_t)cap * sizeof *as);
    if (!as) return 0;
    ps->as = as;
    ps->cap = cap;
  }
  char *copy = strdup(value);
  if (!copy) return 0;
  ps->as[ps->nas++] = (assign){key, line, set, copy};
  return 1;
}

static void rstrip(char *s) {
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
}

/* End a value at ';' or '#' after a blank (or at its very start, where the
 * blank before it is already gone).  inih does this for ';' on key lines
 * but, as built by Debian, not on continuation lines, and never for '#'. */
static void strip_comment(char *v) {
  for (char *p = v; *p; p++)
    if ((*p == ';' || *p == '#') && (p == v || isspace((unsigned char)p[-1]))) {
      *p = '\0';
      break;
    }
  rstrip(v);
}

/* An indented line that inih hands over as more of the previous value. */
static int on_continuation(parser *ps, const char *section, const char *name,
                           const char *value) {
  assign *a = ps->nas > 0 ? &ps->as[ps->nas - 1] : NULL;
  if (!a || strcmp(keys[a->key].name, name) != 0 ||
      strcmp(section_names[keys[a->key].section], section) != 0) {
    ps->err = ISING_ERR_INTERNAL; /* reader and inih disagree: a bug here */
    ps->err_line = ps->line;
    snprintf(ps->msg, sizeof ps->msg, "%s:%d: internal error: unexpected continuation line",
             show_path(ps->name).s, ps->line);
    return 0;
  }
  char *more = strdup(value);
  if (!more) return deck_error(ps, ps->line, "out of memory");
  strip_comment(more);
  if (more[0] == '[' && strchr(more, ']')) {
    deck_error(ps, ps->line,
               "indented section header '%s' is read as more of the value of [%s] %s (line %d); "
               "start each section header at the beginning of its line",
               show(more).s, section, name, a->line);
    free(more);
    return 0;
  }
  if (strpbrk(more, "=:")) {
    deck_error(ps, ps->line,
               "indented line '%s' is read as more of the value of [%s] %s (line %d); "
               "start each key at the beginning of its line",
               show(more).s, section, name, a->line);
    free(more);
    return 0;
  }
  size_t old = strlen(a->value), add = strlen(more);
  if (add > 0) {
    if (old + 1 + add >= ISING_PATH_MAX) {
      free(more);
      return deck_error(ps, ps->line, "[%s] %s: the value, continued over several lines, is "
                        "longer than %d characters", section, name, ISING_PATH_MAX - 1);
    }
    char *v = realloc(a->value, old + 1 + add + 1);
    if (!v) {
      free(more);
      return deck_error(ps, ps->line, "out of memory");
    }
    if (old > 0) v[old++] = ' ';
    memcpy(v + old, more, add + 1);
    a->value = v;
  }
  free(more);
  return 1;
}

/* inih's handler: one key = value line (or a continuation of one). */
static int on_key(void *user, const char *section, const char *name, const char *value) {
  parser *ps = user;
  if (ps->err) return 0;
  if (ps->cont) return on_continuation(ps, section, name, value);
  ps->have_prev = name[0] != '\0';
  if (!section[0]) {
    char hint[256];
    size_t used = 0;
    for (int s = 0; s < N_SECTIONS; s++)
      used = append(hint, used, sizeof hint, "%s[%s]", s ? ", " : "", section_names[s]);
    append_belongs(-1, name, hint, used, sizeof hint);
    return deck_error(ps, ps->line, "%s = %s: key outside any section; put it under one of %s",
                      show(name).s, show_value(value).s, hint);
  }
  int s = find_section(section, strlen(section));
  if (s < 0) { /* the reader rejects unknown headers; kept for safety */
    char allowed[256];
    describe_sections(section, strlen(section), allowed, sizeof allowed);
    return deck_error(ps, ps->line, "unknown section [%s]; %s", show(section).s, allowed);
  }
  if (!name[0])
    return deck_error(ps, ps->line, "[%s] = %s: missing key name before '='", section,
                      show_value(value).s);
  int k = find_key(s, name);
  if (k < 0) {
    char allowed[256];
    describe_keys(s, name, allowed, sizeof allowed);
    return deck_error(ps, ps->line, "[%s] %s: unknown key; %s", section, show(name).s, allowed);
  }
  for (int i = 0; i < ps->nas; i++)
    if (ps->as[i].key == k)
      return deck_error(ps, ps->line, "[%s] %s: duplicate key (first set on line %d)", section,
                        name, ps->as[i].line);
  if (!push(ps, k, ps->line, -1, value)) return deck_error(ps, ps->line, "out of memory");
  strip_comment(ps->as[ps->nas - 1].value);
  return 1;
}

/* How inih will read `line` (its ini_parse_stream, mirrored): a comment or
 * blank, a continuation, a section header, or a key.  Unknown section
 * headers are reported here, also when no key follows them. */
static void classify(parser *ps, const char *line) {
  const char *start = line;
#if INI_ALLOW_BOM
  if (ps->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
      (unsigned char)start[2] == 0xBF)
    start += 3;
#endif
  while (isspace((unsigned char)*start)) start++;
  ps->cont = 0;
  if (!*start || strchr(INI_START_COMMENT_PREFIXES, *start)) return;
#if INI_ALLOW_MULTILINE
  if (ps->have_prev && start > line) {
    ps->cont = 1;
    return;
  }
#endif
  if (*start != '[') return; /* a key line: on_key keeps have_prev */
  /* inih's find_chars_or_comment(start + 1, "]") */
  const char *end = start + 1;
  int was_space = 0;
  while (*end && *end != ']' &&
         !(INI_ALLOW_INLINE_COMMENTS && was_space && strchr(INI_INLINE_COMMENT_PREFIXES, *end))) {
    was_space = isspace((unsigned char)*end);
    end++;
  }
  if (*end != ']') return; /* inih reports this line as a syntax error */
  ps->have_prev = 0;
  size_t len = (size_t)(end - start - 1);
  char name[SHOW_MAX + 1];
  snprintf(name, sizeof name, "%.*s", (int)(len < SHOW_MAX ? len : SHOW_MAX), start + 1);
  if (find_section(start + 1, len) < 0) {
    char allowed[256];
    describe_sections(start + 1, len, allowed, sizeof allowed);
    deck_error(ps, ps->line, "unknown section [%s]; %s", show(name).s, allowed);
    return;
  }
  /* inih drops whatever follows the ']'; only a comment may */
  const char *rest = end + 1;
  while (isspace((unsigned char)*rest)) rest++;
  if (*rest && !(rest > end + 1 && (*rest == ';' || *rest == '#')))
    deck_error(ps, ps->line, "text after the section header [%s]: '%s'; put each key on a line "
               "of its own (a comment after a header starts with a blank and ; or #)",
               show(name).s, show(rest).s);
}

/* inih's ini_reader: the next line of ps->text, without its line end. */
static char *read_line(char *str, int num, void *stream) {
  parser *ps = stream;
  if (ps->err || !*ps->next) return NULL;
  if (ps->line == INT_MAX) {
    deck_error(ps, ps->line, "too many lines");
    return NULL;
  }
  const char *s = ps->next;
  size_t n = strcspn(s, "\n");
  ps->next = s + n + (s[n] == '\n');
  ps->line++;
  if (n > 0 && s[n - 1] == '\r') n--; /* CRLF */
  if (memchr(s, '\r', n)) {
    deck_error(ps, ps->line, "a carriage return (\\r) that does not end the line: lines must "
               "end in LF or CR LF; a deck with CR-only line ends (old Mac) must be converted, "
               "e.g. tr '\\r' '\\n' < old.ini > new.ini");
    return NULL;
  }
  /* inih takes a line that fills its buffer (num - 1 bytes) without a '\n'
   * as cut, and would read on into the next lines to find its end */
  if (num < 2 || n > (size_t)num - 2) {
    deck_error(ps, ps->line, "line is longer than %d characters, the limit of the INI reader; "
               "shorten it", num < 2 ? 0 : num - 2);
    return NULL;
  }
  memcpy(str, s, n);
  str[n] = '\0';
  classify(ps, str);
  return ps->err ? NULL : str;
}

/* inih rejected line `lineno`: say what it expected. */
static int syntax_error(parser *ps, int lineno) {
  const char *s = ps->text;
  for (int l = 1; l < lineno && *s; l++) {
    s += strcspn(s, "\n");
    if (*s) s++;
  }
  size_t n = strcspn(s, "\n");
  char line[SHOW_MAX + 1];
  snprintf(line, sizeof line, "%.*s", (int)(n < SHOW_MAX ? n : SHOW_MAX), s);
  char *p = line;
  if (lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  while (isspace((unsigned char)*p)) p++;
  rstrip(p);
  if (*p == '[')
    return ISING_ERR(ISING_ERR_INPUT, "%s:%d: cannot parse '%s': a section header is [name] "
                     "(a ';' after a blank starts a comment)", show_path(ps->name).s, lineno,
                     show(p).s);
  return ISING_ERR(ISING_ERR_INPUT, "%s:%d: cannot parse '%s': expected key = value, "
                   "[section] or a comment (; or #)", show_path(ps->name).s, lineno, show(p).s);
}

static int value_error(const parser *ps, int key, int i, const char *why);

/* Run inih over the deck.  A structural error (syntax, unknown name,
 * duplicate, long line) is reported only after the values read before it
 * have been checked, so that the message is always about the first faulty
 * line. */
static int parse_deck(parser *ps) {
  int r = ini_parse_stream(read_line, ps, on_key, ps);
  if (r < 0)
    return ISING_ERR(ISING_ERR_INTERNAL, "%s: the INI parser failed (%d)", show_path(ps->name).s, r);
  int syntax = r > 0 && (!ps->err || r < ps->err_line);
  if (!syntax && !ps->err) return ISING_OK;
  int bad_line = syntax ? r : ps->err_line;
  ising_config scratch;
  ising_config_defaults(&scratch);
  lattice_values lv;
  char why[512];
  for (int i = 0; i < ps->nas; i++)
    if (ps->as[i].line < bad_line &&
        !keys[ps->as[i].key].parse(ps->as[i].value, &scratch, &lv, why, sizeof why))
      return value_error(ps, ps->as[i].key, i, why);
  return syntax ? syntax_error(ps, r) : ISING_ERR(ps->err, "%s", ps->msg);
}

static char *trimmed_copy(const char *b, const char *e) {
  while (b < e && isspace((unsigned char)*b)) b++;
  while (e > b && isspace((unsigned char)e[-1])) e--;
  return strndup(b, (size_t)(e - b));
}

/* Override i, "section.key=value": known section and key, given once. */
static int read_override(parser *ps, int i) {
  const char *s = ps->set[i];
  if (!s) return ISING_ERR(ISING_ERR_INTERNAL, "override %d is NULL", i);
  if (strpbrk(s, "\r\n"))
    return ISING_ERR(ISING_ERR_INPUT, "--set %s: an override must be a single line", show(s).s);
  const char *eq = strchr(s, '=');
  const char *dot = eq ? memchr(s, '.', (size_t)(eq - s)) : NULL;
  if (!dot)
    return ISING_ERR(ISING_ERR_INPUT, "--set %s: expected section.key=value "
                     "(e.g. --set lattice.L=32)", show(s).s);
  char *sec = trimmed_copy(s, dot), *name = trimmed_copy(dot + 1, eq),
       *value = trimmed_copy(eq + 1, eq + 1 + strlen(eq + 1));
  int rc = ISING_OK;
  if (!sec || !name || !value) {
    rc = ISING_ERR(ISING_ERR_MEM, "out of memory reading --set %s", show(s).s);
    goto done;
  }
  if (!sec[0] || !name[0]) {
    rc = ISING_ERR(ISING_ERR_INPUT, "--set %s: expected section.key=value "
                   "(e.g. --set lattice.L=32)", show(s).s);
    goto done;
  }
  char allowed[256];
  int sid = find_section(sec, strlen(sec));
  if (sid < 0) {
    describe_sections(sec, strlen(sec), allowed, sizeof allowed);
    rc = ISING_ERR(ISING_ERR_INPUT, "--set %s: unknown section [%s]; %s", show(s).s,
                   show(sec).s, allowed);
    goto done;
  }
  int k = find_key(sid, name);
  if (k < 0) {
    describe_keys(sid, name, allowed, sizeof allowed);
    rc = ISING_ERR(ISING_ERR_INPUT, "--set %s: [%s] %s: unknown key; %s", show(s).s, sec,
                   show(name).s, allowed);
    goto done;
  }
  for (int j = 0; j < ps->nas; j++)
    if (ps->as[j].key == k && ps->as[j].set >= 0) {
      rc = ISING_ERR(ISING_ERR_INPUT, "--set %s: [%s] %s is already set by --set %s", show(s).s,
                     sec, name, show(ps->set[ps->as[j].set]).s);
      goto done;
    }
  if (!push(ps, k, 0, i, value)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory reading --set");
done:
  free(sec);
  free(name);
  free(value);
  return rc;
}

/* The message for key `key` whose value is assignment i (-1: the default),
 * starting "deck.ini:12: [lattice] L = 17", "--set lattice.L=17: [lattice]
 * L = 17" or "[lattice] L = 64 (default)". */
static int value_error(const parser *ps, int key, int i, const char *why) {
  const char *sec = section_names[keys[key].section], *name = keys[key].name;
  if (i < 0 && !keys[key].deflt)
    return ISING_ERR(ISING_ERR_INPUT, "[%s] %s (not set): %s", sec, name, why);
  if (i < 0)
    return ISING_ERR(ISING_ERR_INPUT, "[%s] %s = %s (default): %s", sec, name, keys[key].deflt,
                     why);
  const assign *a = &ps->as[i];
  if (a->set >= 0)
    return ISING_ERR(ISING_ERR_INPUT, "--set %s: [%s] %s = %s: %s", show(ps->set[a->set]).s, sec,
                     name, show_value(a->value).s, why);
  return ISING_ERR(ISING_ERR_INPUT, "%s:%d: [%s] %s = %s: %s", show_path(ps->name).s, a->line,
                   sec, name, show_value(a->value).s, why);
}

/* Another key for a message: "[tempering] ladder = geometric (line 7)",
 * "... (--set)", "[tempering] ladder = list (default)" or "[tempering] T_min
 * (not set)". */
static size_t append_key(const parser *ps, int key, char *buf, size_t used, size_t n) {
  const char *sec = section_names[keys[key].section], *name = keys[key].name;
  int i = ps->final[key];
  if (i < 0 && !keys[key].deflt) return append(buf, used, n, "[%s] %s (not set)", sec, name);
  if (i < 0) return append(buf, used, n, "[%s] %s = %s (default)", sec, name, keys[key].deflt);
  const assign *a = &ps->as[i];
  if (a->set >= 0) return append(buf, used, n, "[%s] %s = %s (--set)", sec, name,
                                 show_value(a->value).s);
  return append(buf, used, n, "[%s] %s = %s (line %d)", sec, name, show_value(a->value).s,
                a->line);
}

/* The value of `key` as the user wrote it (or its default). */
static const char *value_text(const parser *ps, int key) {
  int i = ps->final[key];
  return i >= 0 ? ps->as[i].value : keys[key].deflt ? keys[key].deflt : "";
}

/* The temperatures of a generated ladder: linear T_i = T_min + i (T_max -
 * T_min) / (count - 1) or geometric T_i = T_min (T_max / T_min)^(i / (count -
 * 1)) (through logarithms: the ratio may overflow), ends exact. */
static void ladder_fill(ising_config *cfg) {
  const int c = cfg->count;
  const double lo = cfg->T_min, hi = cfg->T_max, log_lo = log(lo), log_hi = log(hi);
  cfg->n_temps = c;
  cfg->temps[0] = lo;
  for (int i = 1; i < c - 1; i++)
    cfg->temps[i] = cfg->ladder == ISING_LADDER_LINEAR
                        ? lo + (hi - lo) * i / (c - 1)
                        : exp(log_lo + (log_hi - log_lo) * i / (c - 1));
  cfg->temps[c - 1] = hi;
}

/* The checks between the temperature and tempering keys; a generated ladder
 * is built here. */
static int check_tempering(const parser *ps, ising_config *cfg) {
  char why[1024];
  size_t used;
  static const int generator_keys[] = {K_T_MIN, K_T_MAX, K_COUNT};
  if (cfg->ladder == ISING_LADDER_LIST) {
    int first = -1; /* the first of them the user wrote */
    for (int j = 0; j < 3; j++) {
      int k = generator_keys[j];
      if (ps->final[k] >= 0 && (first < 0 || ps->final[k] < ps->final[first])) first = k;
    }
    if (first >= 0) {
      used = append(why, 0, sizeof why, "%s is only used with ladder = linear or geometric, "
                    "but ", keys[first].name);
      used = append_key(ps, K_LADDER, why, used, sizeof why);
      append(why, used, sizeof why, "; remove %s, or set ladder = linear or geometric",
             keys[first].name);
      return value_error(ps, first, ps->final[first], why);
    }
  } else {
    if (ps->final[K_T] >= 0) {
      used = append(why, 0, sizeof why, "T cannot be combined with a generated ladder, ");
      used = append_key(ps, K_LADDER, why, used, sizeof why);
      append(why, used, sizeof why, "; remove T, or set ladder = list");
      return value_error(ps, K_T, ps->final[K_T], why);
    }
    used = append(why, 0, sizeof why, "a generated ladder needs T_min, T_max and count in "
                  "[tempering]; missing:");
    int missing = 0;
    for (int j = 0; j < 3; j++)
      if (ps->final[generator_keys[j]] < 0)
        used = append(why, used, sizeof why, "%s%s", missing++ ? ", " : " ",
                      keys[generator_keys[j]].name);
    if (missing) return value_error(ps, K_LADDER, ps->final[K_LADDER], why);
    if (!(cfg->T_min < cfg->T_max)) {
      used = append(why, 0, sizeof why, "T_max must be larger than ");
      append_key(ps, K_T_MIN, why, used, sizeof why);
      return value_error(ps, K_T_MAX, ps->final[K_T_MAX], why);
    }
    ladder_fill(cfg);
    for (int i = 1; i < cfg->n_temps; i++)
      if (!(cfg->temps[i] > cfg->temps[i - 1])) {
        snprintf(why, sizeof why, "%d temperatures from T_min = %s to T_max = %s are not all "
                 "distinct in double precision (numbers %d and %d); lower count or widen the "
                 "range", cfg->count, show_value(value_text(ps, K_T_MIN)).s,
                 show_value(value_text(ps, K_T_MAX)).s, i, i + 1);
        return value_error(ps, K_COUNT, ps->final[K_COUNT], why);
      }
  }
  if (ps->final[K_CLUSTERS] >= 0 && cfg->algorithm != ISING_ALG_WOLFF) {
    used = append(why, 0, sizeof why, "clusters_per_sweep applies to algorithm = wolff only, ");
    append_key(ps, K_ALGORITHM, why, used, sizeof why);
    return value_error(ps, K_CLUSTERS, ps->final[K_CLUSTERS], why);
  }
  if (cfg->n_temps * cfg->copies > ISING_MAX_REPLICAS) { /* <= 1024 * 64 */
    snprintf(why, sizeof why, "%d temperatures x %d copies = %d replicas, more than %d",
             cfg->n_temps, cfg->copies, cfg->n_temps * cfg->copies, ISING_MAX_REPLICAS);
    return value_error(ps, K_COPIES, ps->final[K_COPIES], why);
  }
  if (cfg->adapt == ISING_ADAPT_FEEDBACK) {
    if (cfg->n_temps < 3) {
      snprintf(why, sizeof why, "feedback needs at least 3 temperatures, the ladder has %d",
               cfg->n_temps);
      return value_error(ps, K_ADAPT, ps->final[K_ADAPT], why);
    }
    /* the rounds share the first half of the thermalisation (run.c); round
     * r (0-based) lasts 2^r times the first, which sees 10 attempts */
    const int64_t rounds = ((int64_t)1 << cfg->adapt_rounds) - 1, per = 2 * ADAPT_MIN_ATTEMPTS * rounds;
    const int64_t k = cfg->exchange_interval;
    if (k > cfg->thermalization / per) { /* thermalization < per * k, without overflow */
      used = append(why, 0, sizeof why, "feedback needs thermalization >= 2 x %d x interval x "
                    "(2^adapt_rounds - 1) = 2 x %d x %lld x %lld", ADAPT_MIN_ATTEMPTS,
                    ADAPT_MIN_ATTEMPTS, (long long)k, (long long)rounds);
      if (k <= INT64_MAX / per)
        used = append(why, used, sizeof why, " = %lld sweeps", (long long)(k * per));
      else
        used = append(why, used, sizeof why, ", more than 2^63 sweeps");
      used = append(why, used, sizeof why, " (the rounds use the first half of it; %d exchange "
                    "attempts in the first, shortest round), but ", ADAPT_MIN_ATTEMPTS);
      used = append_key(ps, K_THERMALIZATION, why, used, sizeof why);
      append(why, used, sizeof why, "; raise thermalization, or lower [tempering] interval or "
             "adapt_rounds");
      return value_error(ps, K_ADAPT, ps->final[K_ADAPT], why);
    }
  }
  return ISING_OK;
}

int ising_config_check_scales(int dim, double J, double H, double T, char *why, size_t n) {
  if (!(fabs(J) <= ISING_ENERGY_MAX))
    return snprintf(why, n, "J = %g: |J| must be at most %g", J, ISING_ENERGY_MAX), ISING_ERR_INPUT;
  if (!(fabs(H) <= ISING_ENERGY_MAX))
    return snprintf(why, n, "H = %g: |H| must be at most %g", H, ISING_ENERGY_MAX), ISING_ERR_INPUT;
  if (!temperature_ok(T))
    return snprintf(why, n, "T = %g: T must be between %g and %g", T, ISING_T_LOWEST,
                    ISING_T_HIGHEST), ISING_ERR_INPUT;
  /* each term <= 6e100 and T >= 1e-100: no overflow */
  const double field = (2.0 * dim * fabs(J) + fabs(H)) / T;
  if (!(field <= ISING_FIELD_OVER_T_MAX))
    return snprintf(why, n, "at T = %g the largest local field in units of T, (2 dim |J| + |H|) / "
                    "T with dim = %d, J = %g, H = %g, is %g, above %g (beyond which the specific "
                    "heat and its error overflow; every move is decided exactly long before)", T,
                    dim, J, H, field, ISING_FIELD_OVER_T_MAX), ISING_ERR_INPUT;
  return ISING_OK;
}

/* The lowest temperature (the others are higher, and so is every one a
 * feedback-adapted ladder takes: its ends stay) within the field range.
 * The message names the temperature key when the user set it, else the
 * coupling or field that dominates. */
static int check_scales(const parser *ps, const ising_config *cfg) {
  char why[512];
  if (ising_config_check_scales(cfg->dim, cfg->J, cfg->H, cfg->temps[0], why, sizeof why) ==
      ISING_OK)
    return ISING_OK;
  int key = cfg->ladder == ISING_LADDER_LIST ? K_T : K_T_MIN;
  if (ps->final[key] < 0) key = 2.0 * cfg->dim * fabs(cfg->J) >= fabs(cfg->H) ? K_J : K_H;
  size_t used = strlen(why);
  append(why, used, sizeof why, "; raise T or lower |J| and |H|");
  return value_error(ps, key, ps->final[key], why);
}

/* Every value in the order given, then the checks that need several keys. */
static int check_disorder(const parser *ps, ising_config *cfg);

static int validate(parser *ps, ising_config *cfg) {
  char why[512];
  lattice_values lv = {0, {0}};
  for (int k = 0; k < N_KEYS; k++) ps->final[k] = -1;
  (void)keys[K_L].parse(keys[K_L].deflt, cfg, &lv, why, sizeof why); /* cannot fail */
  for (int i = 0; i < ps->nas; i++) {
    const assign *a = &ps->as[i];
    ps->final[a->key] = i;
    if (!keys[a->key].parse(a->value, cfg, &lv, why, sizeof why))
      return value_error(ps, a->key, i, why);
  }
  if (lv.n != 1 && lv.n != cfg->dim) {
    snprintf(why, sizeof why, "needs exactly dim = %d values (or one for all axes)", cfg->dim);
    return value_error(ps, K_L, ps->final[K_L], why);
  }
  lattice_fill(cfg, &lv);
  int64_t sites = ising_config_sites(cfg); /* <= 2^60: no overflow */
  if (sites > SITES_MAX) {
    snprintf(why, sizeof why, "the %dD lattice would have %lld sites, more than 2^40 = %lld",
             cfg->dim, (long long)sites, (long long)SITES_MAX);
    return value_error(ps, K_L, ps->final[K_L], why);
  }
  if (cfg->interval > cfg->sweeps) {
    snprintf(why, sizeof why, "interval must be between 1 and sweeps = %lld",
             (long long)cfg->sweeps);
    return value_error(ps, K_INTERVAL, ps->final[K_INTERVAL], why);
  }
  int64_t Lmin = cfg->L[0];
  for (int k = 1; k < cfg->dim; k++)
    if (cfg->L[k] < Lmin) Lmin = cfg->L[k];
  if (cfg->corr_rmax > Lmin / 2) {
    snprintf(why, sizeof why, "correlation_rmax must be between 0 and L/2 = %lld (half the "
             "smallest axis; 0 = L/2), got %lld", (long long)(Lmin / 2), (long long)cfg->corr_rmax);
    return value_error(ps, K_CORR_RMAX, ps->final[K_CORR_RMAX], why);
  }
  int rc = check_tempering(ps, cfg);
  if (rc == ISING_OK) rc = check_disorder(ps, cfg);
  return rc != ISING_OK ? rc : check_scales(ps, cfg);
}

/* The [disorder] keys against each other and the rest of the deck. */
static int check_disorder(const parser *ps, ising_config *cfg) {
  char why[1024];
  size_t used;
  cfg->disorder = 0;
  for (int k = K_DIS_COUPLINGS; k <= K_DIS_FILE; k++) cfg->disorder |= ps->final[k] >= 0;
  if (ps->final[K_DIS_FILE] >= 0) {
    static const int drawn[] = {K_DIS_COUPLINGS, K_DIS_DILUTION, K_DIS_FIELDS, K_DIS_STRENGTH,
                                K_DIS_SEED};
    for (int j = 0; j < 5; j++)
      if (ps->final[drawn[j]] >= 0) {
        used = append(why, 0, sizeof why, "%s draws couplings, but ", keys[drawn[j]].name);
        used = append_key(ps, K_DIS_FILE, why, used, sizeof why);
        append(why, used, sizeof why, " gives them; remove one of the two");
        return value_error(ps, drawn[j], ps->final[drawn[j]], why);
      }
  }
  if (cfg->dis_fields == ISING_FIELDS_NONE && ps->final[K_DIS_STRENGTH] >= 0) {
    used = append(why, 0, sizeof why, "field_strength needs random fields, but ");
    used = append_key(ps, K_DIS_FIELDS, why, used, sizeof why);
    append(why, used, sizeof why, "; set fields = bimodal or gaussian, or remove field_strength");
    return value_error(ps, K_DIS_STRENGTH, ps->final[K_DIS_STRENGTH], why);
  }
  if (cfg->dis_fields != ISING_FIELDS_NONE && !(cfg->field_strength > 0)) {
    used = append(why, 0, sizeof why, "random fields need field_strength > 0, but ");
    append_key(ps, K_DIS_STRENGTH, why, used, sizeof why);
    return value_error(ps, K_DIS_FIELDS, ps->final[K_DIS_FIELDS], why);
  }
  int64_t all = (int64_t)cfg->samples * cfg->n_temps * cfg->copies;
  if (all > ISING_MAX_ALL_REPLICAS) {
    snprintf(why, sizeof why, "%d samples x %d temperatures x %d copies = %lld replicas, more "
             "than %d", cfg->samples, cfg->n_temps, cfg->copies, (long long)all,
             ISING_MAX_ALL_REPLICAS);
    return value_error(ps, K_DIS_SAMPLES, ps->final[K_DIS_SAMPLES], why);
  }
  if (cfg->overlap == 1 && cfg->copies < 2) {
    used = append(why, 0, sizeof why, "overlaps are between copies of a sample: they need "
                  "copies >= 2, but ");
    append_key(ps, K_COPIES, why, used, sizeof why);
    return value_error(ps, K_OVERLAP, ps->final[K_OVERLAP], why);
  }
  int uniform = ps->final[K_DIS_FILE] < 0 && cfg->dis_couplings == ISING_DIS_UNIFORM &&
                cfg->bond_dilution == 0 && cfg->dis_fields == ISING_FIELDS_NONE;
  if (!uniform && ising_algorithm_is_cluster(cfg->algorithm)) {
    used = append(why, 0, sizeof why, "%s takes uniform couplings only (no random couplings, "
                  "dilution, fields or couplings file in [disorder]); use metropolis or heatbath "
                  "with ", ising_algorithm_name(cfg->algorithm));
    append_key(ps, K_DIS_COUPLINGS, why, used, sizeof why);
    return value_error(ps, K_ALGORITHM, ps->final[K_ALGORITHM], why);
  }
  return ISING_OK;
}

/* Fill entries and deck_text (deck, then "# --set ..." lines). */
static int record(parser *ps, ising_config *cfg) {
  cfg->entries = calloc(N_KEYS, sizeof *cfg->entries);
  if (!cfg->entries) return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
  cfg->n_entries = N_KEYS;
  for (int k = 0; k < N_KEYS; k++) {
    int i = ps->final[k];
    if (i < 0) continue;
    struct ising_config_entry *e = &cfg->entries[k];
    e->line = ps->as[i].line;
    e->value = ps->as[i].value;
    ps->as[i].value = NULL;
    if (ps->as[i].set >= 0 && !(e->set = strdup(ps->set[ps->as[i].set])))
      return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
  }
  size_t len = strlen(ps->text), total = len + 2;
  for (int i = 0; i < ps->nset; i++) total += strlen(ps->set[i]) + 9;
  char *t = malloc(total);
  if (!t) return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
  memcpy(t, ps->text, len);
  if (ps->nset > 0 && len > 0 && t[len - 1] != '\n') t[len++] = '\n';
  for (int i = 0; i < ps->nset; i++) len += (size_t)sprintf(t + len, "# --set %s\n", ps->set[i]);
  t[len] = '\0';
  cfg->deck_text = t;
  /* the pieces again, so that a resume can parse exactly what this run did */
  if (!(cfg->deck_source = strdup(ps->text)))
    return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
  if (ps->nset > 0 && !(cfg->set_list = calloc((size_t)ps->nset, sizeof *cfg->set_list)))
    return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
  for (int i = 0; i < ps->nset; i++) {
    if (!(cfg->set_list[i] = strdup(ps->set[i])))
      return ISING_ERR(ISING_ERR_MEM, "out of memory storing the deck");
    cfg->n_set = i + 1;
  }
  return ISING_OK;
}

int ising_config_parse_string(const char *text, const char *name, int nset, char *const *set,
                              ising_config *cfg) {
  if (!cfg) return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_parse_string: cfg is NULL");
  ising_config_defaults(cfg);
  if (!text || nset < 0 || (nset > 0 && !set))
    return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_parse_string: bad arguments");
  if (!name) name = "(deck)";
  if (strlen(name) >= ISING_PATH_MAX)
    return ISING_ERR(ISING_ERR_INPUT, "deck name '%s' is longer than %d bytes",
                     show_path(name).s, ISING_PATH_MAX - 1);
  memcpy(cfg->deck_name, name, strlen(name) + 1);

  parser ps;
  memset(&ps, 0, sizeof ps);
  ps.name = name;
  ps.text = ps.next = text;
  ps.set = set;
  ps.nset = nset;
  int rc = parse_deck(&ps);
  for (int i = 0; rc == ISING_OK && i < nset; i++) rc = read_override(&ps, i);
  if (rc == ISING_OK) rc = validate(&ps, cfg);
  if (rc == ISING_OK) rc = record(&ps, cfg);
  for (int i = 0; i < ps.nas; i++) free(ps.as[i].value);
  free(ps.as);
  if (rc != ISING_OK) ising_config_free(cfg);
  return rc;
}

int ising_config_read_file(const char *path, char **text) {
  if (!text) return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_read_file: text is NULL");
  *text = NULL;
  if (!path) return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_read_file: path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f)
    return ISING_ERR(ISING_ERR_INPUT, "cannot read deck '%s': %s", show_path(path).s,
                     strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    fclose(f);
    return ISING_ERR(ISING_ERR_INPUT, "cannot read deck '%s': it is a directory, not a file",
                     show_path(path).s);
  }
  char *buf = malloc(DECK_MAX_BYTES + 1);
  if (!buf) {
    fclose(f);
    return ISING_ERR(ISING_ERR_MEM, "out of memory reading deck '%s'", show_path(path).s);
  }
  size_t len = 0, got;
  while (len <= DECK_MAX_BYTES && (got = fread(buf + len, 1, DECK_MAX_BYTES + 1 - len, f)) > 0)
    len += got;
  int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
  fclose(f);
  int rc = ISING_OK;
  if (read_errno)
    rc = ISING_ERR(ISING_ERR_INPUT, "cannot read deck '%s': %s", show_path(path).s,
                   strerror(read_errno));
  else if (len > DECK_MAX_BYTES)
    rc = ISING_ERR(ISING_ERR_INPUT, "deck '%s' is larger than %d bytes: is it really a deck?",
                   show_path(path).s, DECK_MAX_BYTES);
  else if (memchr(buf, '\0', len)) {
    int line = 1;
    for (const char *p = buf; *p; p++) line += *p == '\n';
    rc = ISING_ERR(ISING_ERR_INPUT, "%s:%d: the deck contains a NUL byte: is it a text file "
                   "(UTF-16 text must be converted to UTF-8)?", show_path(path).s, line);
  }
  if (rc != ISING_OK) {
    free(buf);
    return rc;
  }
  buf[len] = '\0';
  *text = buf;
  return ISING_OK;
}

int ising_config_parse_file(const char *path, int nset, char *const *set, ising_config *cfg) {
  if (!cfg) return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_parse_file: cfg is NULL");
  ising_config_defaults(cfg);
  char *text = NULL;
  int rc = ising_config_read_file(path, &text);
  if (rc == ISING_OK) rc = ising_config_parse_string(text, path, nset, set, cfg);
  free(text);
  return rc;
}

const char *ising_config_where(const ising_config *cfg, const char *section, const char *key,
                               char *buf, int size) {
  if (!buf || size <= 0) return buf;
  size_t n = (size_t)size;
  int s = section ? find_section(section, strlen(section)) : -1;
  int k = s >= 0 && key ? find_key(s, key) : -1;
  if (k < 0) {
    snprintf(buf, n, "[%s] %s (not a deck key)", show(section ? section : "").s,
             show(key ? key : "").s);
    return buf;
  }
  const struct ising_config_entry *e =
      cfg && cfg->entries && cfg->n_entries == N_KEYS ? &cfg->entries[k] : NULL;
  section = section_names[s];
  key = keys[k].name;
  if (e && e->option)
    snprintf(buf, n, "%s", show(e->option).s);
  else if (e && e->set)
    snprintf(buf, n, "--set %s", show(e->set).s);
  else if (e && e->value)
    snprintf(buf, n, "%s:%d: [%s] %s = %s", show_path(cfg->deck_name).s, e->line, section, key,
             show_value(e->value).s);
  else if (k == K_T && cfg && cfg->ladder != ISING_LADDER_LIST)
    snprintf(buf, n, "[model] T (not set: the temperatures come from [tempering] ladder = %s)",
             cfg->ladder == ISING_LADDER_LINEAR ? "linear" : "geometric");
  else if (!keys[k].deflt)
    snprintf(buf, n, "[%s] %s (not set)", section, key);
  else
    snprintf(buf, n, "[%s] %s = %s (default)", section, key, keys[k].deflt);
  return buf;
}

int ising_config_given(const ising_config *cfg, const char *section, const char *key) {
  int s = section ? find_section(section, strlen(section)) : -1;
  int k = s >= 0 && key ? find_key(s, key) : -1;
  if (k < 0 || !cfg || !cfg->entries || cfg->n_entries != N_KEYS) return 0;
  const struct ising_config_entry *e = &cfg->entries[k];
  return e->option || e->set || e->value;
}

int ising_config_set_sweeps(ising_config *cfg, int64_t sweeps, const char *option) {
  if (!cfg || !option || !cfg->entries || cfg->n_entries != N_KEYS)
    return ISING_ERR(ISING_ERR_INTERNAL, "ising_config_set_sweeps: no parsed config or option");
  if (sweeps < 1 || sweeps > COUNT_MAX)
    return ISING_ERR(ISING_ERR_INPUT, "%s: sweeps must be an integer between 1 and "
                     "1000000000000000000", show(option).s);
  if (cfg->interval > sweeps) {
    char w[512];
    return ISING_ERR(ISING_ERR_INPUT, "%s: sweeps must be at least %s", show(option).s,
                     ising_config_where(cfg, "measurement", "interval", w, sizeof w));
  }
  char *copy = strdup(option);
  if (!copy) return ISING_ERR(ISING_ERR_MEM, "out of memory");
  free(cfg->entries[K_SWEEPS].option);
  cfg->entries[K_SWEEPS].option = copy;
  cfg->sweeps = sweeps;
  return ISING_OK;
}

int64_t ising_config_sites(const ising_config *cfg) {
  int64_t n = 1;
  int dim = cfg->dim < 1 ? 1 : cfg->dim > ISING_MAX_DIM ? ISING_MAX_DIM : cfg->dim;
  for (int k = 0; k < dim; k++) n *= cfg->L[k];
  return n;
}

void ising_config_free(ising_config *cfg) {
  if (!cfg) return;
  if (cfg->entries) {
    for (int k = 0; k < cfg->n_entries; k++) {
      free(cfg->entries[k].value);
      free(cfg->entries[k].set);
      free(cfg->entries[k].option);
    }
    free(cfg->entries);
  }
  cfg->entries = NULL;
  cfg->n_entries = 0;
  free(cfg->deck_text);
  cfg->deck_text = NULL;
  free(cfg->deck_source);
  cfg->deck_source = NULL;
  for (int i = 0; i < cfg->n_set; i++) free(cfg->set_list[i]);
  free(cfg->set_list);
  cfg->set_list = NULL;
  cfg->n_set = 0;
}
