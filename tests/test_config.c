/*
 * test_config.c -- Check suite for the input deck (src/config.c): the user
 * decks in inputs/, defaults, every class of error message (file:line, key,
 * what is allowed), the bad decks in tests/decks/ (one defect each), --set
 * overrides, where() strings, and the syntax corners (long lines, CRLF, BOM,
 * comments, continuation lines, empty deck).
 */
#include "ising/config.h"
#include "ising/sweeper.h"
#include "ising/error.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

/* Path of `rel` (e.g. "inputs/default.ini") in the source tree:
 * $ISING_SOURCE_DIR, then "." and "..". */
static const char *src_path(const char *rel, char *buf, size_t n) {
  const char *env = getenv("ISING_SOURCE_DIR");
  const char *bases[] = {env, ".", ".."};
  struct stat st;
  for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
    if (!bases[i] || !*bases[i]) continue;
    snprintf(buf, n, "%s/%s", bases[i], rel);
    if (stat(buf, &st) == 0) return buf;
  }
  ck_abort_msg("cannot find %s (set ISING_SOURCE_DIR to the source tree)", rel);
  return NULL;
}

/* The whole content of a file, malloc'ed. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = malloc(1 << 16);
  ck_assert_ptr_nonnull(buf);
  size_t n = fread(buf, 1, (1 << 16) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot create %s", path);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  ck_assert_int_eq(fclose(f), 0);
}

/* The last call failed with ISING_ERR_INPUT, left cfg freed, and its one-line
 * message contains every needle (NULL-terminated list). */
static void expect_input_error(int rc, const ising_config *cfg, const char *const *needles) {
  const char *msg = ising_err_message();
  ck_assert_msg(rc == ISING_ERR_INPUT, "expected ISING_ERR_INPUT, got %d (%s)", rc, msg);
  ck_assert_ptr_null(cfg->deck_text);
  ck_assert_ptr_null(cfg->entries);
  ck_assert_int_eq(cfg->n_entries, 0);
  ck_assert_msg(strchr(msg, '\n') == NULL && strchr(msg, '\r') == NULL,
                "message is not one line: %s", msg);
  for (; *needles; needles++)
    ck_assert_msg(strstr(msg, *needles) != NULL, "message '%s' lacks '%s'", msg, *needles);
  ising_err_clear();
}

#define EXPECT_ERROR(rc, cfg, ...)                                                            \
  do {                                                                                        \
    const char *needles_[] = {__VA_ARGS__, NULL};                                            \
    expect_input_error((rc), (cfg), needles_);                                               \
  } while (0)

/* Parse `text` as "deck.ini" with overrides; expect success. */
static void parse_ok(const char *text, int nset, char *const *set, ising_config *cfg) {
  int rc = ising_config_parse_string(text, "deck.ini", nset, set, cfg);
  ck_assert_msg(rc == ISING_OK, "parse failed (%d): %s", rc, ising_err_message());
}

static int parse_bad(const char *text, int nset, char *const *set, ising_config *cfg) {
  ising_err_clear();
  return ising_config_parse_string(text, "deck.ini", nset, set, cfg);
}

/* Parse as parse_bad, then check the kernel against the registry of update
 * backends (sweeper.h), as every run does before its work. */
static int validate_bad(const char *text, ising_config *cfg) {
  int rc = parse_bad(text, 0, NULL, cfg);
  if (!rc) rc = ising_sweeper_validate(cfg);
  if (rc) ising_config_free(cfg);
  return rc;
}

/* A plain run at temperature T: one temperature, from [model] T. */
static void expect_T(const ising_config *c, double T) {
  ck_assert_int_eq(c->n_temps, 1);
  ck_assert_double_eq(c->temps[0], T);
}

/* Equal to the defaults in every value field. */
static void expect_defaults(const ising_config *c) {
  ck_assert_int_eq(c->dim, 2);
  ck_assert_int_eq(c->L[0], 64);
  ck_assert_int_eq(c->L[1], 64);
  ck_assert_int_eq(c->L[2], 1);
  ck_assert_double_eq(c->J, 1.0);
  ck_assert_double_eq(c->H, 0.0);
  expect_T(c, 2.269185314213022);
  ck_assert_int_eq(c->algorithm, ISING_ALG_METROPOLIS);
  ck_assert_int_eq(c->start, ISING_START_HOT);
  ck_assert_str_eq(c->kernel, "fast");
  ck_assert_uint_eq(c->seed, 1);
  ck_assert_int_eq(c->thermalization, 1000);
  ck_assert_int_eq(c->sweeps, 10000);
  ck_assert_int_eq(c->copies, 1);
  ck_assert_int_eq(c->ladder, ISING_LADDER_LIST);
  ck_assert_double_eq(c->T_min, 0.0);
  ck_assert_double_eq(c->T_max, 0.0);
  ck_assert_int_eq(c->count, 0);
  ck_assert_int_eq(c->exchange_interval, 10);
  ck_assert_int_eq(c->adapt, ISING_ADAPT_NONE);
  ck_assert_int_eq(c->adapt_rounds, 5);
  ck_assert_int_eq(c->ranks_per_replica, 0);
  ck_assert_int_eq(c->interval, 1);
  ck_assert_str_eq(c->file, "ising.h5");
  ck_assert_double_eq(c->progress, 10.0);
}

/* ------------------------------------------------------------ defaults */

START_TEST(test_defaults) {
  ising_config c;
  ising_config_defaults(&c);
  expect_defaults(&c);
  ck_assert_ptr_null(c.deck_text);
  ck_assert_ptr_null(c.entries);
  ck_assert_int_eq(ising_config_sites(&c), 4096);
  char w[128];
  ck_assert_str_eq(ising_config_where(&c, "lattice", "L", w, sizeof w),
                   "[lattice] L = 64 (default)");
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w),
                   "[model] T = 2.269185314213022 (default)");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "ladder", w, sizeof w),
                   "[tempering] ladder = list (default)");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "count", w, sizeof w),
                   "[tempering] count (not set)");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "interval", w, sizeof w),
                   "[tempering] interval = 10 (default)");
  ck_assert_str_eq(ising_config_where(&c, "parallel", "ranks_per_replica", w, sizeof w),
                   "[parallel] ranks_per_replica = 0 (default)");
  ising_config_free(&c); /* safe on defaults, twice */
  ising_config_free(&c);
  ck_assert_ptr_null(c.deck_text);
}
END_TEST

START_TEST(test_empty_deck) {
  const char *decks[] = {"", "\n\n", "; only a comment\n# another\n", "[lattice]\n[output]\n"};
  for (size_t i = 0; i < sizeof decks / sizeof *decks; i++) {
    ising_config c;
    parse_ok(decks[i], 0, NULL, &c);
    expect_defaults(&c);
    ck_assert_str_eq(c.deck_text, decks[i]);
    ck_assert_str_eq(c.deck_name, "deck.ini");
    ck_assert_int_eq(c.n_entries > 0, 1);
    char w[128];
    ck_assert_str_eq(ising_config_where(&c, "montecarlo", "seed", w, sizeof w),
                     "[montecarlo] seed = 1 (default)");
    ising_config_free(&c);
    ising_config_free(&c);
    ck_assert_ptr_null(c.deck_text);
    ck_assert_ptr_null(c.entries);
  }
}
END_TEST

/* ------------------------------------------------------------ inputs/ */

START_TEST(test_input_default) {
  char path[4096];
  src_path("inputs/default.ini", path, sizeof path);
  ising_config c;
  int rc = ising_config_parse_file(path, 0, NULL, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.dim, 2);
  ck_assert_int_eq(c.L[0], 64);
  ck_assert_int_eq(c.L[1], 64);
  ck_assert_double_eq(c.J, 1.0);
  ck_assert_double_eq(c.H, 0.0);
  expect_T(&c, 2.5);
  ck_assert_int_eq(c.algorithm, ISING_ALG_METROPOLIS);
  ck_assert_int_eq(c.start, ISING_START_HOT);
  ck_assert_str_eq(c.kernel, "fast");
  ck_assert_uint_eq(c.seed, 20261123);
  ck_assert_int_eq(c.thermalization, 2000);
  ck_assert_int_eq(c.sweeps, 200000);
  ck_assert_int_eq(c.interval, 10);
  ck_assert_str_eq(c.file, "default.h5");
  ck_assert_double_eq(c.progress, 5.0);
  ck_assert_str_eq(c.deck_name, path);
  char *text = slurp(path);
  ck_assert_str_eq(c.deck_text, text); /* the exact file */
  free(text);
  char w[4200], want[4200];
  ising_config_where(&c, "model", "T", w, sizeof w);
  snprintf(want, sizeof want, "%s:", path);
  ck_assert_msg(strncmp(w, want, strlen(want)) == 0 && strstr(w, ": [model] T = 2.5"), "%s", w);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_input_3d) {
  char path[4096];
  src_path("inputs/3d.ini", path, sizeof path);
  ising_config c;
  int rc = ising_config_parse_file(path, 0, NULL, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.dim, 3);
  for (int k = 0; k < 3; k++) ck_assert_int_eq(c.L[k], 16);
  ck_assert_int_eq(ising_config_sites(&c), 4096);
  expect_T(&c, 4.0);
  ck_assert_int_eq(c.sweeps, 20000);
  ck_assert_int_eq(c.thermalization, 1000);
  ck_assert_int_eq(c.interval, 5);
  ck_assert_str_eq(c.file, "3d.h5");
  ising_config_free(&c);
}
END_TEST

START_TEST(test_input_heatbath) {
  char path[4096];
  src_path("inputs/heatbath.ini", path, sizeof path);
  ising_config c;
  int rc = ising_config_parse_file(path, 0, NULL, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.dim, 2);
  ck_assert_int_eq(c.L[0], 32);
  ck_assert_int_eq(c.L[1], 32);
  expect_T(&c, 2.0);
  ck_assert_int_eq(c.algorithm, ISING_ALG_HEATBATH);
  ck_assert_int_eq(c.start, ISING_START_COLD);
  ck_assert_str_eq(c.file, "heatbath.h5");
  ising_config_free(&c);
}
END_TEST

START_TEST(test_input_tempering) {
  char path[4096];
  src_path("inputs/tempering.ini", path, sizeof path);
  ising_config c;
  int rc = ising_config_parse_file(path, 0, NULL, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.dim, 2);
  ck_assert_int_eq(c.L[0], 32);
  ck_assert_int_eq(c.L[1], 32);
  ck_assert_int_eq(c.ladder, ISING_LADDER_GEOMETRIC);
  ck_assert_double_eq(c.T_min, 1.8);
  ck_assert_double_eq(c.T_max, 3.0);
  ck_assert_int_eq(c.count, 12);
  ck_assert_int_eq(c.n_temps, 12);
  ck_assert_double_eq(c.temps[0], 1.8);
  ck_assert_double_eq(c.temps[11], 3.0);
  ck_assert_int_eq(c.copies, 1);
  ck_assert_int_eq(c.exchange_interval, 10);
  ck_assert_int_eq(c.adapt, ISING_ADAPT_NONE);
  ck_assert_int_eq(c.adapt_rounds, 5);
  ck_assert_int_eq(c.ranks_per_replica, 0);
  ck_assert_int_eq(c.thermalization, 20000);
  ck_assert_int_eq(c.sweeps, 200000);
  ck_assert_int_eq(c.interval, 10);
  ck_assert_str_eq(c.file, "tempering.h5");
  char w[4200];
  ising_config_where(&c, "model", "T", w, sizeof w);
  ck_assert_str_eq(w, "[model] T (not set: the temperatures come from [tempering] ladder = "
                      "geometric)");
  ising_config_free(&c);
  /* its own advice: feedback fits its thermalization, and a --set list replaces the ladder */
  char *fb[] = {"tempering.adapt=feedback"};
  rc = ising_config_parse_file(path, 1, fb, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.adapt, ISING_ADAPT_FEEDBACK);
  ising_config_free(&c);
}
END_TEST

/* ------------------------------------------------------------ temperatures and tempering */

/* "[model]\nT = 1 2 ... n\n" with the values on continuation lines (a deck
 * line holds at most 198 characters), malloc'ed. */
static char *list_deck(int n) {
  char *d = malloc((size_t)n * 8 + 64);
  ck_assert_ptr_nonnull(d);
  size_t len = (size_t)sprintf(d, "[model]\nT =");
  for (int i = 1; i <= n; i++) len += (size_t)sprintf(d + len, i % 20 ? " %d" : "\n  %d", i);
  strcpy(d + len, "\n");
  return d;
}

START_TEST(test_temperature_lists) {
  ising_config c;
  parse_ok("[model]\nT = 1.5\t2.0   2.5 ; a ladder\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, 3);
  ck_assert_double_eq(c.temps[0], 1.5);
  ck_assert_double_eq(c.temps[1], 2.0);
  ck_assert_double_eq(c.temps[2], 2.5);
  ck_assert_int_eq(c.ladder, ISING_LADDER_LIST);
  char w[256];
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w),
                   "deck.ini:2: [model] T = 1.5\\x092.0   2.5"); /* the tab shown */
  ising_config_free(&c);
  /* ISING_MAX_TEMPS values: the limit; the explicit ladder = list changes nothing */
  char *d = list_deck(ISING_MAX_TEMPS);
  parse_ok(d, 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, ISING_MAX_TEMPS);
  for (int i = 0; i < ISING_MAX_TEMPS; i++) ck_assert_double_eq(c.temps[i], i + 1.0);
  ising_config_free(&c);
  free(d);
  d = list_deck(ISING_MAX_TEMPS + 1);
  EXPECT_ERROR(parse_bad(d, 0, NULL, &c), &c, "deck.ini:2: [model] T = 1 2 3 ",
               "...: T takes at most 1024 temperatures, got 1025");
  free(d);
  /* exact messages */
  EXPECT_ERROR(parse_bad("[model]\nT = 2.0 1.5\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 2.0 1.5: temperatures must be strictly increasing "
               "(1.5 after 2.0)");
  EXPECT_ERROR(parse_bad("[model]\nT = 1 2 2.0\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 1 2 2.0: temperatures must be strictly increasing "
               "(2.0 after 2)");
  EXPECT_ERROR(parse_bad("[model]\nT = 1 -2\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 1 -2: every temperature must be a finite number > 0, "
               "between 1e-100 and 1e+100 (got -2)");
  const char *bad[] = {"0 1", "1 0", "1 inf", "nan 2", "1 2x", "1 1e400", "1,2 3", "1 2\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char deck[64];
    snprintf(deck, sizeof deck, "[model]\nT = %s\n", bad[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [model] T = ",
                 "every temperature must be a finite number > 0, between 1e-100 and 1e+100 (got ");
  }
  /* a bad value is reported before the order */
  EXPECT_ERROR(parse_bad("[model]\nT = 3 2 x\n", 0, NULL, &c), &c,
               "strictly increasing (2 after 3)");
  /* over --set, without the line limit */
  char *big = malloc(8 * 1100);
  ck_assert_ptr_nonnull(big);
  size_t len = (size_t)sprintf(big, "model.T=");
  for (int i = 1; i <= 1100; i++) len += (size_t)sprintf(big + len, "%s%d", i > 1 ? " " : "", i);
  char *set[] = {big};
  EXPECT_ERROR(parse_bad("", 1, set, &c), &c, "--set model.T=1 2 3",
               "T takes at most 1024 temperatures, got 1100");
  free(big);
}
END_TEST

START_TEST(test_ladder_linear) {
  ising_config c;
  parse_ok("[tempering]\nladder = linear\nT_min = 1\nT_max = 2\ncount = 11\n", 0, NULL, &c);
  ck_assert_int_eq(c.ladder, ISING_LADDER_LINEAR);
  ck_assert_int_eq(c.n_temps, 11);
  ck_assert_int_eq(c.count, 11);
  for (int i = 0; i < 11; i++) ck_assert_double_eq_tol(c.temps[i], 1.0 + 0.1 * i, 1e-12);
  ck_assert_double_eq(c.temps[0], 1.0);
  ck_assert_double_eq(c.temps[10], 2.0);
  ising_config_free(&c);
  /* two temperatures: just the ends; ends exact also where the steps round */
  parse_ok("[tempering]\nladder = linear\nT_min = 0.1\nT_max = 0.3\ncount = 2\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, 2);
  ck_assert_double_eq(c.temps[0], 0.1);
  ck_assert_double_eq(c.temps[1], 0.3);
  ising_config_free(&c);
  parse_ok("[tempering]\nladder = linear\nT_min = 0.1\nT_max = 0.7\ncount = 1024\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, 1024);
  ck_assert_double_eq(c.temps[0], 0.1);
  ck_assert_double_eq(c.temps[1023], 0.7);
  for (int i = 1; i < 1024; i++) {
    ck_assert(c.temps[i] > c.temps[i - 1]);
    ck_assert_double_eq_tol(c.temps[i], 0.1 + 0.6 * i / 1023.0, 1e-12);
  }
  ising_config_free(&c);
}
END_TEST

START_TEST(test_ladder_geometric) {
  ising_config c;
  parse_ok("[tempering]\nladder = geometric\nT_min = 1.8\nT_max = 3.0\ncount = 12\n", 0, NULL, &c);
  ck_assert_int_eq(c.ladder, ISING_LADDER_GEOMETRIC);
  ck_assert_int_eq(c.n_temps, 12);
  ck_assert_double_eq(c.temps[0], 1.8);
  ck_assert_double_eq(c.temps[11], 3.0);
  for (int i = 0; i < 12; i++)
    ck_assert_double_eq_tol(c.temps[i], 1.8 * pow(3.0 / 1.8, i / 11.0), 1e-12);
  for (int i = 1; i < 11; i++) /* constant ratio */
    ck_assert_double_eq_tol(c.temps[i + 1] / c.temps[i], c.temps[i] / c.temps[i - 1], 1e-12);
  ising_config_free(&c);
  /* the widest range allowed (J = H = 0: no field bound), through logarithms */
  parse_ok("[model]\nJ = 0\n[tempering]\nladder = geometric\nT_min = 1e-100\nT_max = 1e100\n"
           "count = 201\n", 0, NULL, &c);
  ck_assert_double_eq(c.temps[0], 1e-100);
  ck_assert_double_eq(c.temps[200], 1e100);
  for (int i = 1; i < 200; i++) {
    ck_assert(c.temps[i] > c.temps[i - 1]);
    ck_assert_double_eq_tol(log10(c.temps[i]), -100.0 + i, 1e-9);
  }
  ising_config_free(&c);
  /* too many temperatures for the range: not distinct in double precision */
  EXPECT_ERROR(parse_bad("[tempering]\nladder = geometric\nT_min = 1\nT_max = 1.00000000000001\n"
                         "count = 1024\n", 0, NULL, &c),
               &c, "deck.ini:5: [tempering] count = 1024: 1024 temperatures from T_min = 1 to "
               "T_max = 1.00000000000001 are not all distinct in double precision");
}
END_TEST

START_TEST(test_ladder_conflicts) {
  ising_config c;
  /* [model] T, even at its default value, with a generated ladder */
  EXPECT_ERROR(parse_bad("[model]\nT = 2.269185314213022\n[tempering]\nladder = geometric\n"
                         "T_min = 1\nT_max = 2\ncount = 4\n", 0, NULL, &c),
               &c, "deck.ini:2: [model] T = 2.269185314213022: T cannot be combined with a "
               "generated ladder, [tempering] ladder = geometric (line 4); remove T, or set "
               "ladder = list");
  const char *gen = "[tempering]\nladder = linear\nT_min = 1\nT_max = 2\ncount = 4\n";
  char *setT[] = {"model.T=2"};
  EXPECT_ERROR(parse_bad(gen, 1, setT, &c), &c, "--set model.T=2: [model] T = 2: T cannot be "
               "combined with a generated ladder, [tempering] ladder = linear (line 2)");
  char *setL[] = {"tempering.ladder=geometric", "tempering.T_min=1", "tempering.T_max=2",
                  "tempering.count=3"};
  EXPECT_ERROR(parse_bad("[model]\nT = 2\n", 4, setL, &c), &c,
               "deck.ini:2: [model] T = 2: T cannot be combined with a generated ladder, "
               "[tempering] ladder = geometric (--set)");
  /* generator keys with the list ladder, default or explicit; the first one written is named */
  EXPECT_ERROR(parse_bad("[tempering]\nT_min = 1.8\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] T_min = 1.8: T_min is only used with ladder = linear or "
               "geometric, but [tempering] ladder = list (default); remove T_min, or set "
               "ladder = linear or geometric");
  EXPECT_ERROR(parse_bad("[tempering]\ncount = 3\nT_max = 3\nladder = list\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] count = 3: count is only used with ladder = linear or "
               "geometric, but [tempering] ladder = list (line 4)");
  char *setLst[] = {"tempering.ladder=list"};
  EXPECT_ERROR(parse_bad(gen, 1, setLst, &c), &c,
               "deck.ini:3: [tempering] T_min = 1: T_min is only used with ladder = linear or "
               "geometric, but [tempering] ladder = list (--set)");
  /* a generator key given by --set is named as such */
  char *fix[] = {"tempering.ladder=list", "tempering.T_min=1"};
  EXPECT_ERROR(parse_bad("[model]\nT = 1 2\n", 2, fix, &c), &c,
               "--set tempering.T_min=1: [tempering] T_min = 1: T_min is only used");
}
END_TEST

START_TEST(test_ladder_missing) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[tempering]\nladder = linear\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] ladder = linear: a generated ladder needs T_min, T_max "
               "and count in [tempering]; missing: T_min, T_max, count");
  EXPECT_ERROR(parse_bad("[tempering]\nladder = geometric\nT_max = 3\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] ladder = geometric: ", "missing: T_min, count");
  EXPECT_ERROR(parse_bad("[tempering]\nladder = geometric\nT_max = 3\ncount = 3\n", 0, NULL, &c),
               &c, "missing: T_min");
  char *lad[] = {"tempering.ladder=linear"};
  EXPECT_ERROR(parse_bad("", 1, lad, &c), &c, "--set tempering.ladder=linear: [tempering] ladder "
               "= linear: a generated ladder needs T_min, T_max and count");
  /* T_min < T_max */
  EXPECT_ERROR(parse_bad("[tempering]\nladder = linear\nT_min = 2\nT_max = 1.5\ncount = 3\n", 0,
                         NULL, &c),
               &c, "deck.ini:4: [tempering] T_max = 1.5: T_max must be larger than [tempering] "
               "T_min = 2 (line 3)");
  EXPECT_ERROR(parse_bad("[tempering]\nladder = linear\nT_max = 2\nT_min = 2.0\ncount = 3\n", 0,
                         NULL, &c),
               &c, "deck.ini:3: [tempering] T_max = 2: T_max must be larger than [tempering] "
               "T_min = 2.0 (line 4)");
  /* each generator key on its own */
  const char *bad_t[] = {"0", "-1", "inf", "nan", "x", ""};
  for (size_t i = 0; i < sizeof bad_t / sizeof *bad_t; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[tempering]\nT_min = %s\n", bad_t[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [tempering] T_min = ",
                 "T_min must be a finite number > 0");
    snprintf(deck, sizeof deck, "[tempering]\nT_max = %s\n", bad_t[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [tempering] T_max = ",
                 "T_max must be a finite number > 0");
  }
  const char *bad_count[] = {"1", "0", "-3", "1025", "2.5", "x", ""};
  for (size_t i = 0; i < sizeof bad_count / sizeof *bad_count; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[tempering]\nladder = linear\ncount = %s\n", bad_count[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:3: [tempering] count = ",
                 "count must be an integer between 2 and 1024");
  }
  EXPECT_ERROR(parse_bad("[tempering]\nladder = Linear\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] ladder = Linear: ladder must be list (the temperatures "
               "of [model] T), linear or geometric (from T_min, T_max and count)");
}
END_TEST

START_TEST(test_copies_interval_ranks) {
  ising_config c;
  parse_ok("[montecarlo]\ncopies = 64\n[tempering]\ninterval = 1\n[parallel]\n"
           "ranks_per_replica = 2147483647\n", 0, NULL, &c);
  ck_assert_int_eq(c.copies, 64);
  ck_assert_int_eq(c.exchange_interval, 1);
  ck_assert_int_eq(c.interval, 1); /* [measurement] interval is another key */
  ck_assert_int_eq(c.ranks_per_replica, 2147483647);
  ising_config_free(&c);
  parse_ok("[tempering]\ninterval = 1000000000000000000\n[measurement]\ninterval = 7\n"
           "[parallel]\nranks_per_replica = 4\n", 0, NULL, &c);
  ck_assert_int_eq(c.exchange_interval, 1000000000000000000LL);
  ck_assert_int_eq(c.interval, 7);
  ck_assert_int_eq(c.ranks_per_replica, 4);
  ising_config_free(&c);
  const char *bad_copies[] = {"0", "65", "-1", "1.5", "x", ""};
  for (size_t i = 0; i < sizeof bad_copies / sizeof *bad_copies; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[montecarlo]\ncopies = %s\n", bad_copies[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [montecarlo] copies = ",
                 "copies must be an integer between 1 and 64");
  }
  const char *bad_interval[] = {"0", "-10", "1e3", "1000000000000000001", ""};
  for (size_t i = 0; i < sizeof bad_interval / sizeof *bad_interval; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[tempering]\ninterval = %s\n", bad_interval[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [tempering] interval = ",
                 "interval must be an integer between 1 and 1000000000000000000 (sweeps "
                 "between replica-exchange attempts)");
  }
  const char *bad_ranks[] = {"-1", "2147483648", "1.0", "all", ""};
  for (size_t i = 0; i < sizeof bad_ranks / sizeof *bad_ranks; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[parallel]\nranks_per_replica = %s\n", bad_ranks[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [parallel] ranks_per_replica = ",
                 "ranks_per_replica must be an integer between 0 and 2147483647 (0: all ranks "
                 "form one replica group)");
  }
}
END_TEST

START_TEST(test_replica_limit) {
  ising_config c;
  /* n_temps x copies <= 4096 */
  parse_ok("[montecarlo]\ncopies = 4\n[tempering]\nladder = linear\nT_min = 1\nT_max = 2\n"
           "count = 1024\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps * c.copies, ISING_MAX_REPLICAS);
  ising_config_free(&c);
  parse_ok("[montecarlo]\ncopies = 64\n[tempering]\nladder = linear\nT_min = 1\nT_max = 2\n"
           "count = 64\n", 0, NULL, &c);
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[montecarlo]\ncopies = 64\n[tempering]\nladder = linear\nT_min = 1\n"
                         "T_max = 2\ncount = 65\n", 0, NULL, &c),
               &c, "deck.ini:2: [montecarlo] copies = 64: 65 temperatures x 64 copies = 4160 "
               "replicas, more than 4096");
  char *d = list_deck(1024);
  char *cp[] = {"montecarlo.copies=5"};
  EXPECT_ERROR(parse_bad(d, 1, cp, &c), &c, "--set montecarlo.copies=5: [montecarlo] copies = 5: "
               "1024 temperatures x 5 copies = 5120 replicas, more than 4096");
  free(d);
}
END_TEST

START_TEST(test_adapt) {
  ising_config c;
  const char *ladder = "[tempering]\nladder = geometric\nT_min = 1.8\nT_max = 3\ncount = 12\n";
  char deck[512];
  /* defaults: interval 10, 5 rounds: 2 x 10 x 10 x (2^5 - 1) = 6200 sweeps */
  snprintf(deck, sizeof deck, "%sadapt = feedback\n[montecarlo]\nthermalization = 6200\n", ladder);
  parse_ok(deck, 0, NULL, &c);
  ck_assert_int_eq(c.adapt, ISING_ADAPT_FEEDBACK);
  ck_assert_int_eq(c.adapt_rounds, 5);
  ising_config_free(&c);
  snprintf(deck, sizeof deck, "%sadapt = feedback\n[montecarlo]\nthermalization = 6199\n", ladder);
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c,
               "deck.ini:6: [tempering] adapt = feedback: feedback needs thermalization >= 2 x 10 x "
               "interval x (2^adapt_rounds - 1) = 2 x 10 x 10 x 31 = 6200 sweeps (the rounds use the "
               "first half of it; 10 exchange attempts in the first, shortest round), but "
               "[montecarlo] thermalization = 6199 "
               "(line 8); raise thermalization, or lower [tempering] interval or adapt_rounds");
  snprintf(deck, sizeof deck, "%sadapt = feedback\n", ladder);
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "= 6200 sweeps",
               "but [montecarlo] thermalization = 1000 (default)");
  /* one round of exchanges every sweep: 2 x 10 sweeps */
  snprintf(deck, sizeof deck, "%sadapt = feedback\nadapt_rounds = 1\ninterval = 1\n"
           "[montecarlo]\nthermalization = 20\n", ladder);
  parse_ok(deck, 0, NULL, &c);
  ck_assert_int_eq(c.adapt_rounds, 1);
  ising_config_free(&c);
  char *set9[] = {"montecarlo.thermalization=19"};
  EXPECT_ERROR(parse_bad(deck, 1, set9, &c), &c, "= 2 x 10 x 1 x 1 = 20 sweeps",
               "thermalization = 19 (--set)");
  /* the largest numbers do not overflow */
  snprintf(deck, sizeof deck, "%sadapt = feedback\nadapt_rounds = 30\n"
           "interval = 1000000000000000000\n[montecarlo]\nthermalization = 1000000000000000000\n",
           ladder);
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c,
               "= 2 x 10 x 1000000000000000000 x 1073741823, more than 2^63 sweeps");
  snprintf(deck, sizeof deck, "%sadapt = feedback\nadapt_rounds = 30\n"
           "[montecarlo]\nthermalization = 214748364600\n", ladder);
  parse_ok(deck, 0, NULL, &c);
  ising_config_free(&c);
  /* at least 3 temperatures, however they are given */
  EXPECT_ERROR(parse_bad("[model]\nT = 2 3\n[tempering]\nadapt = feedback\n[montecarlo]\n"
                         "thermalization = 100000\n", 0, NULL, &c),
               &c, "deck.ini:4: [tempering] adapt = feedback: feedback needs at least 3 "
               "temperatures, the ladder has 2");
  EXPECT_ERROR(parse_bad("[tempering]\nadapt = feedback\n", 0, NULL, &c), &c,
               "the ladder has 1");
  parse_ok("[model]\nT = 2 2.2 2.5\n[tempering]\nadapt = feedback\n[montecarlo]\n"
           "thermalization = 6200\n", 0, NULL, &c);
  ising_config_free(&c);
  /* adapt_rounds is checked also without feedback */
  const char *bad_rounds[] = {"0", "31", "-1", "5.0", ""};
  for (size_t i = 0; i < sizeof bad_rounds / sizeof *bad_rounds; i++) {
    snprintf(deck, sizeof deck, "[tempering]\nadapt_rounds = %s\n", bad_rounds[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [tempering] adapt_rounds = ",
                 "adapt_rounds must be an integer between 1 and 30");
  }
  EXPECT_ERROR(parse_bad("[tempering]\nadapt = Feedback\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] adapt = Feedback: adapt must be none (a fixed ladder) or "
               "feedback");
  parse_ok("[tempering]\nadapt = none\nadapt_rounds = 30\n", 0, NULL, &c);
  ck_assert_int_eq(c.adapt, ISING_ADAPT_NONE);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_set_tempering) {
  ising_config c;
  char *set[] = {"tempering.ladder=geometric", "tempering.T_min=1.8",
                 "tempering.T_max = 3.0",      "tempering.count=12",
                 "tempering.interval=5",       "tempering.adapt=feedback",
                 "tempering.adapt_rounds=3",   "montecarlo.copies=2",
                 "parallel.ranks_per_replica=4", "measurement.interval=20"};
  parse_ok("[montecarlo]\nthermalization = 700\n", 10, set, &c);
  ck_assert_int_eq(c.ladder, ISING_LADDER_GEOMETRIC);
  ck_assert_int_eq(c.n_temps, 12);
  ck_assert_double_eq(c.temps[0], 1.8);
  ck_assert_double_eq(c.temps[11], 3.0);
  ck_assert_int_eq(c.exchange_interval, 5);
  ck_assert_int_eq(c.adapt, ISING_ADAPT_FEEDBACK);
  ck_assert_int_eq(c.adapt_rounds, 3);
  ck_assert_int_eq(c.copies, 2);
  ck_assert_int_eq(c.ranks_per_replica, 4);
  ck_assert_int_eq(c.interval, 20);
  ck_assert_ptr_nonnull(strstr(c.deck_text, "# --set tempering.T_max = 3.0\n"));
  char w[256];
  ck_assert_str_eq(ising_config_where(&c, "tempering", "count", w, sizeof w),
                   "--set tempering.count=12");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "interval", w, sizeof w),
                   "--set tempering.interval=5");
  ck_assert_str_eq(ising_config_where(&c, "measurement", "interval", w, sizeof w),
                   "--set measurement.interval=20");
  ising_config_free(&c);
  /* a list by --set; an override completes a ladder of the deck */
  char *lst[] = {"model.T=1 1.5  2"};
  parse_ok("[model]\nT = 3\n", 1, lst, &c);
  ck_assert_int_eq(c.n_temps, 3);
  ck_assert_double_eq(c.temps[1], 1.5);
  ising_config_free(&c);
  char *cnt[] = {"tempering.count=5"};
  parse_ok("[tempering]\nladder = linear\nT_min = 1\nT_max = 2\n", 1, cnt, &c);
  ck_assert_int_eq(c.n_temps, 5);
  ck_assert_double_eq_tol(c.temps[1], 1.25, 1e-12);
  ising_config_free(&c);
  /* bad values by --set are reported like deck lines */
  struct {
    const char *set, *needle;
  } cases[] = {
      {"model.T=2 1", "--set model.T=2 1: [model] T = 2 1: temperatures must be strictly "
                      "increasing (1 after 2)"},
      {"montecarlo.copies=65", "--set montecarlo.copies=65: [montecarlo] copies = 65: copies must"},
      {"tempering.ladder=log", "--set tempering.ladder=log: [tempering] ladder = log: ladder must"},
      {"tempering.count=1", "--set tempering.count=1: [tempering] count = 1: count must"},
      {"tempering.interval=0", "--set tempering.interval=0: [tempering] interval = 0: interval"},
      {"tempering.adapt=on", "--set tempering.adapt=on: [tempering] adapt = on: adapt must"},
      {"parallel.ranks_per_replica=-2", "--set parallel.ranks_per_replica=-2: [parallel] "
                                        "ranks_per_replica = -2: ranks_per_replica must"},
      {"parallel.ranks=2", "--set parallel.ranks=2: [parallel] ranks: unknown key; allowed in "
                           "[parallel]: ranks_per_replica"},
      {"tempering.T=2", "--set tempering.T=2: [tempering] T: unknown key; allowed in "
                        "[tempering]: ladder, T_min, T_max, count, interval, adapt, adapt_rounds "
                        "(T belongs in [model])"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *one[] = {(char *)cases[i].set};
    EXPECT_ERROR(parse_bad("", 1, one, &c), &c, cases[i].needle);
  }
}
END_TEST

START_TEST(test_where_tempering) {
  ising_config c;
  char *set[] = {"parallel.ranks_per_replica=8"};
  int rc = ising_config_parse_string("[tempering]\nladder = linear\nT_min = 1\nT_max = 2\n"
                                     "count = 12\n[montecarlo]\ncopies = 3\n",
                                     "pt.ini", 1, set, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  char w[256];
  ck_assert_str_eq(ising_config_where(&c, "tempering", "count", w, sizeof w),
                   "pt.ini:5: [tempering] count = 12");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "ladder", w, sizeof w),
                   "pt.ini:2: [tempering] ladder = linear");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "T_min", w, sizeof w),
                   "pt.ini:3: [tempering] T_min = 1");
  ck_assert_str_eq(ising_config_where(&c, "montecarlo", "copies", w, sizeof w),
                   "pt.ini:7: [montecarlo] copies = 3");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "interval", w, sizeof w),
                   "[tempering] interval = 10 (default)");
  ck_assert_str_eq(ising_config_where(&c, "measurement", "interval", w, sizeof w),
                   "[measurement] interval = 1 (default)");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "adapt", w, sizeof w),
                   "[tempering] adapt = none (default)");
  ck_assert_str_eq(ising_config_where(&c, "tempering", "adapt_rounds", w, sizeof w),
                   "[tempering] adapt_rounds = 5 (default)");
  ck_assert_str_eq(ising_config_where(&c, "parallel", "ranks_per_replica", w, sizeof w),
                   "--set parallel.ranks_per_replica=8");
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w),
                   "[model] T (not set: the temperatures come from [tempering] ladder = linear)");
  ising_config_where(&c, "tempering", "T", w, sizeof w);
  ck_assert_str_eq(w, "[tempering] T (not a deck key)");
  ising_config_where(&c, "parallel", "count", w, sizeof w);
  ck_assert_str_eq(w, "[parallel] count (not a deck key)");
  ising_config_free(&c);
  /* a list ladder: T_min and friends are not set */
  parse_ok("[model]\nT = 1 2\n", 0, NULL, &c);
  ck_assert_str_eq(ising_config_where(&c, "tempering", "T_max", w, sizeof w),
                   "[tempering] T_max (not set)");
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w),
                   "deck.ini:2: [model] T = 1 2");
  ising_config_free(&c);
}
END_TEST

/* ------------------------------------------------------------ values */

START_TEST(test_lattice_values) {
  ising_config c;
  parse_ok("[lattice]\ndim = 3\nL = 4 6 8\n", 0, NULL, &c);
  ck_assert_int_eq(c.L[0], 4);
  ck_assert_int_eq(c.L[1], 6);
  ck_assert_int_eq(c.L[2], 8);
  ck_assert_int_eq(ising_config_sites(&c), 192);
  ising_config_free(&c);
  parse_ok("[lattice]\nL = 4\t 10\n", 0, NULL, &c); /* dim 2 by default */
  ck_assert_int_eq(c.L[0], 4);
  ck_assert_int_eq(c.L[1], 10);
  ck_assert_int_eq(c.L[2], 1);
  ising_config_free(&c);
  parse_ok("[lattice]\nL = 1048576\n", 0, NULL, &c); /* 2^40 sites: the limit */
  ck_assert_int_eq(ising_config_sites(&c), (int64_t)1 << 40);
  ising_config_free(&c);
  parse_ok("[lattice]\nL = 2\ndim = 3\n", 0, NULL, &c); /* order does not matter */
  ck_assert_int_eq(ising_config_sites(&c), 8);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_real_values) {
  ising_config c;
  parse_ok("[model]\nJ = -1.5\nH = 1e-3\nT = 1e100\n[output]\nprogress = 0\n", 0, NULL, &c);
  ck_assert_double_eq(c.J, -1.5);
  ck_assert_double_eq(c.H, 1e-3);
  expect_T(&c, 1e100);
  ck_assert_double_eq(c.progress, 0.0);
  ising_config_free(&c);
  const char *bad[] = {"T = 0", "T = 1e400", "T = inf", "T = nan", "T = 2.5x", "T = ", "T = -0",
                       "T = 1,2", "T = 1e-400"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char deck[64];
    snprintf(deck, sizeof deck, "[model]\n%s\n", bad[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [model] T = ",
                 "T must be a finite number > 0");
  }
  EXPECT_ERROR(parse_bad("[model]\nH = -inf\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] H = -inf: H must be a finite number");
  EXPECT_ERROR(parse_bad("[output]\nprogress = -0.5\n", 0, NULL, &c), &c,
               "deck.ini:2: [output] progress = -0.5: progress must be a finite number >= 0");
  /* two values are a list now (test_temperature_lists) */
  parse_ok("[model]\nT = 1 2\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, 2);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_integer_values) {
  ising_config c;
  parse_ok("[montecarlo]\nthermalization = 0\nsweeps = +7\n[measurement]\ninterval = 007\n", 0,
           NULL, &c);
  ck_assert_int_eq(c.thermalization, 0);
  ck_assert_int_eq(c.sweeps, 7);
  ck_assert_int_eq(c.interval, 7);
  ising_config_free(&c);
  const char *bad[] = {"1e3", "10.5", "0x10", "12abc", "", "1 000", "99999999999999999999", "0"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[montecarlo]\nsweeps = %s\n", bad[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [montecarlo] sweeps = ",
                 "sweeps must be an integer");
  }
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 2.0\n", 0, NULL, &c), &c,
               "deck.ini:2: [lattice] dim = 2.0: dim must be 2 or 3");
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 4\n", 0, NULL, &c), &c, "dim must be 2 or 3");
}
END_TEST

/* [disorder]: absent = the uniform model; given keys parsed; overlap auto
 * follows [disorder] and copies. */
START_TEST(test_disorder_keys) {
  ising_config c;
  parse_ok("[montecarlo]\ncopies = 2\n", 0, NULL, &c);
  ck_assert_int_eq(c.disorder, 0);
  ck_assert_int_eq(c.samples, 1);
  ck_assert_int_eq(ising_config_overlap(&c), 0);
  ising_config_free(&c);
  parse_ok("[montecarlo]\ncopies = 2\n[disorder]\ncouplings = gaussian\nbond_dilution = 0.25\n"
           "fields = bimodal\nfield_strength = 1.5\nsamples = 40\nseed = 77\n", 0, NULL, &c);
  ck_assert_int_eq(c.disorder, 1);
  ck_assert_int_eq(c.dis_couplings, ISING_DIS_GAUSSIAN);
  ck_assert_double_eq(c.bond_dilution, 0.25);
  ck_assert_int_eq(c.dis_fields, ISING_FIELDS_BIMODAL);
  ck_assert_double_eq(c.field_strength, 1.5);
  ck_assert_int_eq(c.samples, 40);
  ck_assert_uint_eq(c.dis_seed, 77);
  ck_assert_int_eq(ising_config_overlap(&c), 1);
  ising_config_free(&c);
  char *off[] = {"measurement.overlap=no"};
  parse_ok("[montecarlo]\ncopies = 2\n[disorder]\nsamples = 3\n", 1, off, &c);
  ck_assert_int_eq(ising_config_overlap(&c), 0);
  ising_config_free(&c);
  ck_assert_int_eq(parse_bad("[disorder]\nfields = gaussian\n", 0, NULL, &c), ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "field_strength > 0"));
  ck_assert_int_eq(parse_bad("[disorder]\nfile = a.h5\nseed = 3\n", 0, NULL, &c), ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "deck.ini:3: [disorder] seed = 3: seed draws couplings"));
}
END_TEST

START_TEST(test_seed_range) {
  ising_config c;
  parse_ok("[montecarlo]\nseed = 18446744073709551615\n", 0, NULL, &c);
  ck_assert_uint_eq(c.seed, UINT64_MAX);
  ising_config_free(&c);
  parse_ok("[montecarlo]\nseed = 9223372036854775808\n", 0, NULL, &c);
  ck_assert_uint_eq(c.seed, (uint64_t)1 << 63);
  ising_config_free(&c);
  parse_ok("[montecarlo]\nseed = 0\n", 0, NULL, &c);
  ck_assert_uint_eq(c.seed, 0);
  ising_config_free(&c);
  const char *bad[] = {"-1", "18446744073709551616", "1e3", "0x10", "-0", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char deck[96];
    snprintf(deck, sizeof deck, "[montecarlo]\nseed = %s\n", bad[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:2: [montecarlo] seed = ",
                 "seed must be an integer between 0 and 18446744073709551615");
  }
}
END_TEST

START_TEST(test_enum_values) {
  ising_config c;
  parse_ok("[montecarlo]\nalgorithm = heatbath\nstart = cold\nkernel = reference\n", 0, NULL, &c);
  ck_assert_int_eq(c.algorithm, ISING_ALG_HEATBATH);
  ck_assert_int_eq(c.start, ISING_START_COLD);
  ck_assert_str_eq(c.kernel, "reference");
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[montecarlo]\nalgorithm = Metropolis\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] algorithm = Metropolis: algorithm must be metropolis, "
               "heatbath, swendsen-wang or wolff");
  EXPECT_ERROR(parse_bad("[montecarlo]\nalgorithm = metropolis\nclusters_per_sweep = 4\n", 0, NULL, &c),
               &c, "deck.ini:3: [montecarlo] clusters_per_sweep = 4: clusters_per_sweep applies to "
               "algorithm = wolff only, [montecarlo] algorithm = metropolis (line 2)");
  EXPECT_ERROR(parse_bad("[montecarlo]\nalgorithm = wolff\nclusters_per_sweep = -1\n", 0, NULL, &c),
               &c, "deck.ini:3: [montecarlo] clusters_per_sweep = -1: clusters_per_sweep must be an "
               "integer between 0 (automatic) and 1000000000");
  parse_ok("[montecarlo]\nalgorithm = wolff\nclusters_per_sweep = 7\n", 0, NULL, &c);
  ck_assert_int_eq(c.algorithm, ISING_ALG_WOLFF);
  ck_assert_int_eq(c.clusters_per_sweep, 7);
  ising_config_free(&c);
  parse_ok("[montecarlo]\nalgorithm = swendsen-wang\n", 0, NULL, &c);
  ck_assert_int_eq(c.algorithm, ISING_ALG_SWENDSEN_WANG);
  ck_assert_int_eq(c.clusters_per_sweep, 0);
  ck_assert_int_eq(ising_config_given(&c, "montecarlo", "algorithm"), 1);
  ck_assert_int_eq(ising_config_given(&c, "montecarlo", "kernel"), 0);
  ck_assert_int_eq(ising_sweeper_validate(&c), ISING_OK);
  ising_config_free(&c);
  /* a cluster algorithm chooses its backend: a kernel key is refused */
  EXPECT_ERROR(validate_bad("[montecarlo]\nalgorithm = swendsen-wang\nkernel = msc\n", &c), &c,
               "deck.ini:3: [montecarlo] kernel = msc: kernel chooses a local-update kernel");
  EXPECT_ERROR(validate_bad("[model]\nH = 0.5\n[montecarlo]\nalgorithm = wolff\n", &c), &c,
               "[montecarlo] algorithm = wolff", "wolff runs at H = 0 only");
  EXPECT_ERROR(validate_bad("[montecarlo]\nalgorithm = wolff\nthermalization = 0\n", &c), &c,
               "clusters_per_sweep = 0 (automatic) is chosen during the thermalization");
  /* the cluster backends are not kernels */
  EXPECT_ERROR(validate_bad("[montecarlo]\nkernel = wolff\n", &c), &c,
               "kernel = wolff: kernel must be fast, reference, msc or msc-async");
  EXPECT_ERROR(parse_bad("[montecarlo]\nstart = warm\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] start = warm: start must be hot");
  EXPECT_ERROR(validate_bad("[montecarlo]\nkernel = simd\n", &c), &c,
               "deck.ini:2: [montecarlo] kernel = simd: kernel must be fast, reference, msc or "
               "msc-async");
  parse_ok("[montecarlo]\nkernel = msc-async\ncopies = 64\n", 0, NULL, &c);
  ck_assert_str_eq(c.kernel, "msc-async");
  ck_assert_int_eq(ising_sweeper_validate(&c), ISING_OK);
  ising_config_free(&c);
  EXPECT_ERROR(validate_bad("[model]\nJ = -1\n[montecarlo]\nkernel = msc-async\n", &c), &c,
               "deck.ini:4: [montecarlo] kernel = msc-async: the multi-spin-coding kernel needs a "
               "ferromagnet");
  /* rows of at most 2^19 sites for msc-async (2^20 for msc) */
  EXPECT_ERROR(validate_bad("[lattice]\nL = 1048576 2\n[montecarlo]\nkernel = msc-async\n", &c), &c,
               "deck.ini:4: [montecarlo] kernel = msc-async: this kernel takes x rows of at most "
               "524288 sites");
  parse_ok("[lattice]\nL = 1048576 2\n[montecarlo]\nkernel = msc\n", 0, NULL, &c);
  ck_assert_int_eq(ising_sweeper_validate(&c), ISING_OK);
  ising_config_free(&c);
  /* a name the parser accepts but no backend has */
  parse_ok("[montecarlo]\nkernel = msc-asink\n", 0, NULL, &c);
  ising_config_free(&c);
  EXPECT_ERROR(validate_bad("[montecarlo]\nkernel = msc-asink\n", &c), &c,
               "deck.ini:2: [montecarlo] kernel = msc-asink: kernel must be fast, reference, msc or "
               "msc-async");
  EXPECT_ERROR(parse_bad("[montecarlo]\nkernel = Fast\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] kernel = Fast: kernel must be a backend name");
}
END_TEST

START_TEST(test_file_values) {
  ising_config c;
  parse_ok("[output]\nfile = out/run 1.h5\n", 0, NULL, &c);
  ck_assert_str_eq(c.file, "out/run 1.h5");
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[output]\nfile =\n", 0, NULL, &c), &c,
               "deck.ini:2: [output] file = \"\": file must be a non-empty path");
  EXPECT_ERROR(parse_bad("[output]\nfile = \"run.h5\"\n", 0, NULL, &c), &c,
               "deck.ini:2: [output] file = \"run.h5\"", "without quotes");
  char *set[] = {"output.file=a\tb"};
  EXPECT_ERROR(parse_bad("", 1, set, &c), &c, "--set output.file=a\\x09b",
               "without control characters");
}
END_TEST

/* ------------------------------------------------------------ error classes */

START_TEST(test_error_unknown_section) {
  ising_config c;
  EXPECT_ERROR(parse_bad("; deck\n[lattice]\nL = 8\n[latice]\ndim = 2\n", 0, NULL, &c), &c,
               "deck.ini:4: unknown section [latice]; allowed: lattice, model, montecarlo, "
               "tempering, measurement, output, parallel, checkpoint");
  EXPECT_ERROR(parse_bad("[Tempering]\nladder = list\n", 0, NULL, &c), &c,
               "deck.ini:1: unknown section [Tempering]", "case-sensitive: [tempering]");
  EXPECT_ERROR(parse_bad("[replica]\n", 0, NULL, &c), &c,
               "deck.ini:1: unknown section [replica]; allowed: lattice, model, montecarlo, "
               "tempering, measurement, output, parallel, checkpoint");
  /* also without any key after it, and with a case hint */
  EXPECT_ERROR(parse_bad("[Lattice]\n", 0, NULL, &c), &c, "deck.ini:1: unknown section [Lattice]",
               "case-sensitive: [lattice]");
  EXPECT_ERROR(parse_bad("[]\n", 0, NULL, &c), &c, "deck.ini:1: unknown section []");
}
END_TEST

START_TEST(test_error_unknown_key) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[model]\nJ = 1\nH = 0\n\n; x\n\nj = 1\n", 0, NULL, &c), &c,
               "deck.ini:7: [model] j: unknown key; allowed in [model]: J, H, T",
               "case-sensitive: J");
  EXPECT_ERROR(parse_bad("[model]\nL = 8\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] L: unknown key", "(L belongs in [lattice])");
  EXPECT_ERROR(parse_bad("[model]\n= 8\n", 0, NULL, &c), &c, "deck.ini:2: [model] = 8",
               "missing key name");
  /* the new sections and keys are listed, and misplaced keys are pointed home */
  EXPECT_ERROR(parse_bad("[tempering]\nT = 2\n", 0, NULL, &c), &c,
               "deck.ini:2: [tempering] T: unknown key; allowed in [tempering]: ladder, T_min, "
               "T_max, count, interval, adapt, adapt_rounds (T belongs in [model])");
  EXPECT_ERROR(parse_bad("[montecarlo]\nranks_per_replica = 2\n", 0, NULL, &c), &c,
               "allowed in [montecarlo]: algorithm, start, kernel, rng, seed, thermalization, sweeps, "
               "copies, clusters_per_sweep (ranks_per_replica belongs in [parallel])");
  EXPECT_ERROR(parse_bad("[parallel]\nranks = 2\n", 0, NULL, &c), &c,
               "deck.ini:2: [parallel] ranks: unknown key; allowed in [parallel]: "
               "ranks_per_replica");
  EXPECT_ERROR(parse_bad("[model]\ninterval = 2\n", 0, NULL, &c), &c,
               "(interval belongs in [tempering] or [measurement])");
  EXPECT_ERROR(parse_bad("[tempering]\nt_min = 2\n", 0, NULL, &c), &c,
               "(names are case-sensitive: T_min)");
  EXPECT_ERROR(parse_bad("count = 4\n[tempering]\n", 0, NULL, &c), &c,
               "deck.ini:1: count = 4: key outside any section; put it under one of [lattice], "
               "[model], [montecarlo], [tempering], [measurement], [output], [parallel], [checkpoint], [disorder] (count "
               "belongs in [tempering])");
}
END_TEST

START_TEST(test_error_duplicate) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[model]\n\nJ = 1\nT = 2\nJ = 1\n", 0, NULL, &c), &c,
               "deck.ini:5: [model] J: duplicate key (first set on line 3)");
  /* a section may reopen, a key still counts once */
  EXPECT_ERROR(parse_bad("[model]\nJ = 1\n[lattice]\n[model]\nJ: 2\n", 0, NULL, &c), &c,
               "deck.ini:5: [model] J: duplicate key (first set on line 2)");
  parse_ok("[model]\nJ = 1\n[lattice]\nL = 8\n[model]\nT = 3\n", 0, NULL, &c);
  expect_T(&c, 3.0);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_error_L) {
  ising_config c;
  EXPECT_ERROR(parse_bad("; 1\n; 2\n; 3\n; 4\n; 5\n; 6\n; 7\n; 8\n; 9\n; 10\n[lattice]\nL = 17\n",
                         0, NULL, &c),
               &c, "deck.ini:12: [lattice] L = 17: L must be even (each axis), got 17");
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 2\nL = 8 9\n", 0, NULL, &c), &c,
               "deck.ini:3: [lattice] L = 8 9: L must be even (each axis), got 9");
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 3\nL = 8 8\n", 0, NULL, &c), &c,
               "deck.ini:3: [lattice] L = 8 8: needs exactly dim = 3 values (or one for all axes)");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 8 8 8\n", 0, NULL, &c), &c,
               "deck.ini:2: [lattice] L = 8 8 8: needs exactly dim = 2 values");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 2 2 2 2\n", 0, NULL, &c), &c,
               "deck.ini:2: [lattice] L = 2 2 2 2", "at most 3 values");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 0\n", 0, NULL, &c), &c, "L must be >= 2 (each axis)");
  EXPECT_ERROR(parse_bad("[lattice]\nL = -4\n", 0, NULL, &c), &c, "L must be >= 2 (each axis)");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 2097152\n", 0, NULL, &c), &c,
               "L must be <= 1048576 (each axis), got 2097152");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 123456789012345678901234567890123456\n", 0, NULL, &c),
               &c, "L must be <= 1048576");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 8,8\n", 0, NULL, &c), &c,
               "deck.ini:2: [lattice] L = 8,8: L must be even integers separated by blanks");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 16.0\n", 0, NULL, &c), &c, "got 16.0");
  EXPECT_ERROR(parse_bad("[lattice]\nL =\n", 0, NULL, &c), &c, "deck.ini:2: [lattice] L = \"\"",
               "L needs a value");
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 3\nL = 1048576 1048576 2\n", 0, NULL, &c), &c,
               "deck.ini:3: [lattice] L = 1048576 1048576 2", "more than 2^40");
}
END_TEST

START_TEST(test_error_interval) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[measurement]\ninterval = 50\n[montecarlo]\nsweeps = 20\n", 0, NULL,
                         &c),
               &c, "deck.ini:2: [measurement] interval = 50: ",
               "must be between 1 and sweeps = 20");
  EXPECT_ERROR(parse_bad("[measurement]\ninterval = 0\n", 0, NULL, &c), &c,
               "deck.ini:2: [measurement] interval = 0: interval must be an integer");
  parse_ok("[montecarlo]\nsweeps = 20\n[measurement]\ninterval = 20\n", 0, NULL, &c);
  ck_assert_int_eq(c.interval, 20);
  ising_config_free(&c);
}
END_TEST

/* [measurement] correlation_rmax: 0 (L/2) by default, at most L/2 of the
 * smallest axis, checked once the lattice is known (also when L comes
 * later in the deck or from --set). */
START_TEST(test_correlation_rmax) {
  ising_config c;
  parse_ok("", 0, NULL, &c);
  ck_assert_int_eq(c.corr_rmax, 0);
  ising_config_free(&c);
  parse_ok("[measurement]\ncorrelation_rmax = 32\n", 0, NULL, &c);
  ck_assert_int_eq(c.corr_rmax, 32);
  ising_config_free(&c);
  parse_ok("[measurement]\ncorrelation_rmax = 5\n[lattice]\nL = 10 16\n", 0, NULL, &c);
  ck_assert_int_eq(c.corr_rmax, 5);
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[measurement]\ncorrelation_rmax = 33\n", 0, NULL, &c), &c,
               "deck.ini:2: [measurement] correlation_rmax = 33: ",
               "must be between 0 and L/2 = 32", "got 33");
  EXPECT_ERROR(parse_bad("[measurement]\ncorrelation_rmax = 6\n[lattice]\nL = 10 16\n", 0, NULL, &c),
               &c, "deck.ini:2: [measurement] correlation_rmax = 6: ", "L/2 = 5");
  char *set[] = {"lattice.L=8"};
  EXPECT_ERROR(parse_bad("[measurement]\ncorrelation_rmax = 6\n", 1, set, &c), &c,
               "correlation_rmax = 6: ", "L/2 = 4");
  EXPECT_ERROR(parse_bad("[measurement]\ncorrelation_rmax = -1\n", 0, NULL, &c), &c,
               "deck.ini:2: [measurement] correlation_rmax = -1: ", "integer between 0 and L/2");
}
END_TEST

START_TEST(test_error_syntax) {
  ising_config c;
  EXPECT_ERROR(parse_bad("T = 2\n[model]\n", 0, NULL, &c), &c,
               "deck.ini:1: T = 2: key outside any section", "(T belongs in [model])");
  EXPECT_ERROR(parse_bad("[model]\nT 2\n", 0, NULL, &c), &c, "deck.ini:2: cannot parse 'T 2'",
               "expected key = value");
  EXPECT_ERROR(parse_bad("[model\nT = 2\n", 0, NULL, &c), &c,
               "deck.ini:1: cannot parse '[model'", "section header");
  /* a ';' after a blank starts a comment, also inside a header */
  EXPECT_ERROR(parse_bad("[model ;]\n", 0, NULL, &c), &c, "deck.ini:1: cannot parse");
  /* the first error wins: the syntax error (line 2) before the bad value (line 3) */
  EXPECT_ERROR(parse_bad("[model]\nnonsense\nT = -1\n", 0, NULL, &c), &c,
               "deck.ini:2: cannot parse 'nonsense'");
  EXPECT_ERROR(parse_bad("[model]\nT = -1\nnonsense\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = -1: T must be a finite number > 0");
  EXPECT_ERROR(parse_bad("[model]\nnonsense\n[latice]\n", 0, NULL, &c), &c,
               "deck.ini:2: cannot parse");
  /* a bad value before an unknown key or a duplicate is reported first */
  EXPECT_ERROR(parse_bad("[model]\nT = -1\nj = 1\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = -1");
  EXPECT_ERROR(parse_bad("[model]\nT = x\nJ = 1\nJ = 2\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = x");
  EXPECT_ERROR(parse_bad("[model]\nT = 2\nJ = 1\nJ = 2\n", 0, NULL, &c), &c,
               "deck.ini:4: [model] J: duplicate key");
  /* an indented key is a continuation in INI: say so */
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 2\n  L = 16\n", 0, NULL, &c), &c,
               "deck.ini:3: indented line 'L = 16'", "[lattice] dim (line 2)",
               "beginning of its line");
}
END_TEST

START_TEST(test_error_missing_file) {
  ising_config c;
  char dir[512], path[600];
  ising_test_tmpdir("config", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/x.ini", dir);
  ising_err_clear();
  EXPECT_ERROR(ising_config_parse_file(path, 0, NULL, &c), &c, "cannot read deck '", "x.ini': ",
               "No such file or directory");
  ising_err_clear();
  EXPECT_ERROR(ising_config_parse_file(dir, 0, NULL, &c), &c, "cannot read deck '",
               "': it is a directory, not a file");
  /* a binary file */
  write_file(path, "[model]\nT = 2\0\n", 15);
  ising_err_clear();
  EXPECT_ERROR(ising_config_parse_file(path, 0, NULL, &c), &c, "x.ini:2: ", "NUL byte");
  /* not a deck at all: more than 1 MiB */
  size_t big = (1u << 20) + 1;
  char *junk = malloc(big);
  ck_assert_ptr_nonnull(junk);
  memset(junk, ';', big);
  write_file(path, junk, big);
  free(junk);
  ising_err_clear();
  EXPECT_ERROR(ising_config_parse_file(path, 0, NULL, &c), &c, "x.ini' is larger than 1048576");
  remove(path);
  rmdir(dir);
  /* programming errors are internal errors, not input errors */
  ck_assert_int_eq(ising_config_parse_string(NULL, "deck.ini", 0, NULL, &c), ISING_ERR_INTERNAL);
  ck_assert_ptr_null(c.deck_text);
  ising_err_clear();
  ck_assert_int_eq(ising_config_parse_string("", "deck.ini", 1, NULL, &c), ISING_ERR_INTERNAL);
  ising_err_clear();
}
END_TEST

/* Every deck in tests/decks/ has one defect; the table says where and what,
 * and every file there must be in the table. */
static const struct bad_deck {
  const char *file;
  int line;
  const char *needle;
} bad_decks[] = {
    {"unknown_section.ini", 4, "unknown section [latice]; allowed: lattice, model"},
    {"unknown_key.ini", 4, "[model] j: unknown key; allowed in [model]: J, H, T"},
    {"duplicate_key.ini", 5, "[model] J: duplicate key (first set on line 3)"},
    {"odd_L.ini", 4, "[lattice] L = 17: L must be even (each axis), got 17"},
    {"L_count.ini", 3, "[lattice] L = 8 8: needs exactly dim = 3 values"},
    {"T_negative.ini", 3, "[model] T = -1: T must be a finite number > 0"},
    {"J_nan.ini", 3, "[model] J = nan: J must be a finite number"},
    {"sweeps_real.ini", 3, "[montecarlo] sweeps = 1e3: sweeps must be an integer"},
    {"thermalization_negative.ini", 3, "thermalization must be an integer between 0 and"},
    {"seed_overflow.ini", 3, "seed must be an integer between 0 and 18446744073709551615"},
    {"bad_algorithm.ini", 3, "[montecarlo] algorithm = cluster: algorithm must be"},
    {"interval_gt_sweeps.ini", 5, "[measurement] interval = 50: interval must be between 1 and "
                                  "sweeps = 20"},
    {"lattice_too_big.ini", 4, "[lattice] L = 16384: the 3D lattice would have"},
    {"key_outside_section.ini", 2, "T = 2.0: key outside any section"},
    {"missing_equals.ini", 3, "cannot parse 'T 2.0': expected key = value"},
    {"unclosed_section.ini", 2, "cannot parse '[model': a section header is [name]"},
    {"indented_key.ini", 4, "indented line 'L = 16' is read as more of the value of [lattice] dim"},
    {"empty_file.ini", 3, "[output] file = \"\": file must be a non-empty path"},
    {"progress_negative.ini", 3, "[output] progress = -1: progress must be a finite number >= 0"},
    {"long_line.ini", 3, "line is longer than 198 characters"},
    {"header_text.ini", 1, "text after the section header [lattice]: 'L = 8'"},
    {"cr_only.ini", 1, "a carriage return (\\r) that does not end the line"},
    {"indented_header.ini", 3, "indented section header '[model]' is read as more of the value "
                               "of [lattice] L (line 2)"},
    {"T_subnormal.ini", 2, "[model] T = 1e-320: T must be a finite number > 0, between 1e-100 "
                           "and 1e+100"},
    {"J_huge.ini", 2, "[model] J = 1e300: J must be a finite number between -1e+100 and 1e+100"},
    {"field_over_T.ini", 2, "[model] T = 1e-60 1: at T = 1e-60 the largest local field"},
    {"T_not_increasing.ini", 3, "[model] T = 2.0 1.5: temperatures must be strictly increasing "
                                "(1.5 after 2.0)"},
    {"T_list_negative.ini", 3, "[model] T = 1 -2: every temperature must be a finite number > 0"},
    {"T_too_many.ini", 3, "T takes at most 1024 temperatures, got 1025"},
    {"T_with_ladder.ini", 3, "[model] T = 2.5: T cannot be combined with a generated ladder, "
                             "[tempering] ladder = geometric (line 5)"},
    {"T_min_with_list.ini", 6, "[tempering] T_min = 1.8: T_min is only used with ladder = "
                               "linear or geometric, but [tempering] ladder = list (line 5)"},
    {"ladder_missing_count.ini", 3, "[tempering] ladder = linear: a generated ladder needs T_min, "
                                    "T_max and count in [tempering]; missing: count"},
    {"ladder_reversed.ini", 5, "[tempering] T_max = 1.8: T_max must be larger than [tempering] "
                               "T_min = 3.0 (line 4)"},
    {"ladder_not_distinct.ini", 6, "[tempering] count = 3: 3 temperatures from T_min = 1 to "
                                   "T_max = 1.0000000000000002 are not all distinct"},
    {"bad_ladder.ini", 3, "[tempering] ladder = exponential: ladder must be list"},
    {"count_one.ini", 4, "[tempering] count = 1: count must be an integer between 2 and 1024"},
    {"copies_zero.ini", 3, "[montecarlo] copies = 0: copies must be an integer between 1 and 64"},
    {"exchange_interval_zero.ini", 3, "[tempering] interval = 0: interval must be an integer "
                                      "between 1 and"},
    {"bad_adapt.ini", 3, "[tempering] adapt = yes: adapt must be none"},
    {"adapt_rounds_big.ini", 3, "[tempering] adapt_rounds = 31: adapt_rounds must be an integer "
                                "between 1 and 30"},
    {"adapt_few_temps.ini", 5, "[tempering] adapt = feedback: feedback needs at least 3 "
                               "temperatures, the ladder has 2"},
    {"adapt_short_thermalization.ini", 9, "[tempering] adapt = feedback: feedback needs "
                                          "thermalization >= 2 x 10 x interval x (2^adapt_rounds - 1) "
                                          "= 2 x 10 x 10 x 31 = 6200 sweeps"},
    {"ranks_negative.ini", 3, "[parallel] ranks_per_replica = -1: ranks_per_replica must be an "
                              "integer between 0 and"},
    {"too_many_replicas.ini", 3, "[montecarlo] copies = 5: 1024 temperatures x 5 copies = 5120 "
                                 "replicas, more than 4096"},
    {"misplaced_T.ini", 4, "[tempering] T: unknown key; allowed in [tempering]: ladder, T_min, "
                           "T_max, count, interval, adapt, adapt_rounds (T belongs in [model])"},
};

START_TEST(test_bad_decks) {
  size_t n = sizeof bad_decks / sizeof *bad_decks;
  for (size_t i = 0; i < n; i++) {
    char rel[256], path[4096], where[4200];
    snprintf(rel, sizeof rel, "tests/decks/%s", bad_decks[i].file);
    src_path(rel, path, sizeof path);
    snprintf(where, sizeof where, "%s:%d: ", path, bad_decks[i].line);
    ising_config c;
    ising_err_clear();
    int rc = ising_config_parse_file(path, 0, NULL, &c);
    EXPECT_ERROR(rc, &c, where, bad_decks[i].needle);
  }
  char dirpath[4096];
  src_path("tests/decks", dirpath, sizeof dirpath);
  DIR *d = opendir(dirpath);
  ck_assert_ptr_nonnull(d);
  int seen = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".ini") != 0) continue;
    int found = 0;
    for (size_t i = 0; i < n; i++) found |= strcmp(bad_decks[i].file, e->d_name) == 0;
    ck_assert_msg(found, "tests/decks/%s is not checked by test_bad_decks", e->d_name);
    seen++;
  }
  closedir(d);
  ck_assert_int_eq(seen, (int)n);
}
END_TEST

/* ------------------------------------------------------------ --set */

START_TEST(test_set_good) {
  ising_config c;
  char *set[] = {"model.T=3.5", " lattice . L = 32 16 ", "montecarlo.seed=18446744073709551615"};
  parse_ok("[model]\nT = 2.0\n[lattice]\nL = 8", 3, set, &c);
  expect_T(&c, 3.5);
  ck_assert_int_eq(c.L[0], 32);
  ck_assert_int_eq(c.L[1], 16);
  ck_assert_uint_eq(c.seed, UINT64_MAX);
  ck_assert_str_eq(c.deck_text, "[model]\nT = 2.0\n[lattice]\nL = 8\n# --set model.T=3.5\n"
                                "# --set  lattice . L = 32 16 \n"
                                "# --set montecarlo.seed=18446744073709551615\n");
  char w[256];
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w), "--set model.T=3.5");
  ising_config_free(&c);

  /* on an empty deck; the deck text is just the override block */
  char *set2[] = {"lattice.dim=3", "output.file=x=y.h5"};
  parse_ok("", 2, set2, &c);
  ck_assert_int_eq(c.dim, 3);
  ck_assert_int_eq(c.L[2], 64);
  ck_assert_str_eq(c.file, "x=y.h5");
  ck_assert_str_eq(c.deck_text, "# --set lattice.dim=3\n# --set output.file=x=y.h5\n");
  ising_config_free(&c);

  /* an override can repair a cross-key problem of the deck */
  char *set3[] = {"lattice.L=8 8 8"};
  parse_ok("[lattice]\ndim = 3\nL = 8 8\n", 1, set3, &c);
  ck_assert_int_eq(c.L[2], 8);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_set_bad) {
  ising_config c;
  struct {
    const char *set, *needle;
  } cases[] = {
      {"lattice.L", "--set lattice.L: expected section.key=value"},
      {"L=3", "--set L=3: expected section.key=value"},
      {".L=3", "--set .L=3: expected section.key=value"},
      {"lattice.=3", "--set lattice.=3: expected section.key=value"},
      {"a.b.c=1", "--set a.b.c=1: unknown section [a]; allowed: lattice, model"},
      {"model.j=1", "--set model.j=1: [model] j: unknown key; allowed in [model]: J, H, T"},
      {"model.T=abc", "--set model.T=abc: [model] T = abc: T must be a finite number > 0"},
      {"model.T=", "--set model.T=: [model] T = \"\": T must be"},
      {"lattice.L=17", "--set lattice.L=17: [lattice] L = 17: L must be even (each axis)"},
      {"montecarlo.seed=-1", "--set montecarlo.seed=-1: [montecarlo] seed = -1: seed must be"},
      {"model.T=2\n[lattice]", "--set model.T=2\\x0a[lattice]: an override must be a single line"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *set[] = {(char *)cases[i].set};
    EXPECT_ERROR(parse_bad("[model]\nT = 2\n", 1, set, &c), &c, cases[i].needle);
  }
  char *twice[] = {"model.T=2", "model.T=3"};
  EXPECT_ERROR(parse_bad("", 2, twice, &c), &c,
               "--set model.T=3: [model] T is already set by --set model.T=2");
  /* the deck's own errors come first; a bad deck value is not hidden by an override */
  char *fix[] = {"model.T=2"};
  EXPECT_ERROR(parse_bad("[model]\nT = -1\n", 1, fix, &c), &c, "deck.ini:2: [model] T = -1");
  /* cross-key checks name the key at fault, wherever it came from */
  char *iv[] = {"measurement.interval=50"};
  EXPECT_ERROR(parse_bad("[montecarlo]\nsweeps = 20\n", 1, iv, &c), &c,
               "--set measurement.interval=50: [measurement] interval = 50: interval must be "
               "between 1 and sweeps = 20");
  char *sw[] = {"montecarlo.sweeps=5"};
  EXPECT_ERROR(parse_bad("[measurement]\ninterval = 10\n", 1, sw, &c), &c,
               "deck.ini:2: [measurement] interval = 10: interval must be between 1 and "
               "sweeps = 5");
  char *d3[] = {"lattice.dim=3"};
  EXPECT_ERROR(parse_bad("[lattice]\nL = 8 8\n", 1, d3, &c), &c,
               "deck.ini:2: [lattice] L = 8 8: needs exactly dim = 3 values");
}
END_TEST

/* ------------------------------------------------------------ where() */

START_TEST(test_where) {
  ising_config c;
  char *set[] = {"lattice.L=10"};
  int rc = ising_config_parse_string("[lattice]\n\ndim = 2\n[model]\nT = 3 ; warm\n", "run.ini",
                                     1, set, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  char w[256];
  ck_assert_str_eq(ising_config_where(&c, "lattice", "dim", w, sizeof w),
                   "run.ini:3: [lattice] dim = 2");
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w), "run.ini:5: [model] T = 3");
  ck_assert_str_eq(ising_config_where(&c, "lattice", "L", w, sizeof w), "--set lattice.L=10");
  ck_assert_str_eq(ising_config_where(&c, "model", "J", w, sizeof w),
                   "[model] J = 1.0 (default)");
  ck_assert_str_eq(ising_config_where(&c, "output", "file", w, sizeof w),
                   "[output] file = ising.h5 (default)");
  ising_config_where(&c, "model", "nope", w, sizeof w);
  ck_assert_ptr_nonnull(strstr(w, "not a deck key"));
  char small[8];
  ck_assert_ptr_eq(ising_config_where(&c, "lattice", "dim", small, sizeof small), small);
  ck_assert_str_eq(small, "run.ini");
  ck_assert_str_eq(ising_config_where(NULL, "lattice", "L", w, sizeof w),
                   "[lattice] L = 64 (default)");
  ising_config_free(&c);
  /* after free: defaults again */
  ck_assert_str_eq(ising_config_where(&c, "lattice", "dim", w, sizeof w),
                   "[lattice] dim = 2 (default)");
}
END_TEST

/* ------------------------------------------------------------ syntax corners */

START_TEST(test_long_line) {
  ising_config c;
  char deck[512];
  /* "file = " + name: exactly 198 characters is fine, also with lines after
   * it (inih's 200-byte buffer holds 198 characters, the '\n' and the NUL) */
  int n = snprintf(deck, sizeof deck, "[output]\nfile = ");
  memset(deck + n, 'x', 191);
  deck[n + 191] = '\0';
  strcat(deck, "\r\n[model]\nT = 2\n"); /* the line end does not count */
  parse_ok(deck, 0, NULL, &c);
  ck_assert_uint_eq(strlen(c.file), 191);
  expect_T(&c, 2.0);
  ising_config_free(&c);
  /* 199 characters fill inih's buffer: it would take the line as cut and
   * read on into the next lines, so 199 is refused, naming that line */
  for (int len = 192; len <= 193; len++) {
    n = snprintf(deck, sizeof deck, "[output]\nfile = ");
    memset(deck + n, 'x', (size_t)len);
    deck[n + len] = '\0';
    strcat(deck, "\n[model]\nT = 2\n");
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c,
                 "deck.ini:2: line is longer than 198 characters");
  }
  /* a long comment line is still a long line (inih would split it) */
  memset(deck, ';', 300);
  strcpy(deck + 300, "\n");
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:1: line is longer than 198");
}
END_TEST

START_TEST(test_crlf_bom) {
  ising_config c;
  parse_ok("\xEF\xBB\xBF[lattice]\r\ndim = 3\r\nL = 4 6 8\r\n[model]\r\nT = 1.5\r\n"
           "[output]\r\nfile = a.h5\r\n",
           0, NULL, &c);
  ck_assert_int_eq(c.dim, 3);
  ck_assert_int_eq(c.L[2], 8);
  expect_T(&c, 1.5);
  ck_assert_str_eq(c.file, "a.h5"); /* no stray '\r' */
  char w[128];
  ck_assert_str_eq(ising_config_where(&c, "model", "T", w, sizeof w),
                   "deck.ini:5: [model] T = 1.5");
  ising_config_free(&c);
  /* a BOM before a key: still an error that names line 1 */
  EXPECT_ERROR(parse_bad("\xEF\xBB\xBFT = 2\r\n", 0, NULL, &c), &c,
               "deck.ini:1: T = 2: key outside any section");
  /* the same through a file */
  char dir[512], path[600];
  ising_test_tmpdir("config", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/crlf.ini", dir);
  const char *text = "\xEF\xBB\xBF; crlf\r\n[montecarlo]\r\nsweeps = 20\r\nalgorithm = heatbath";
  write_file(path, text, strlen(text));
  int rc = ising_config_parse_file(path, 0, NULL, &c);
  ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(c.sweeps, 20);
  ck_assert_int_eq(c.algorithm, ISING_ALG_HEATBATH);
  ck_assert_str_eq(c.deck_text, text);
  ising_config_free(&c);
  remove(path);
  rmdir(dir);
}
END_TEST

START_TEST(test_comments_and_continuation) {
  ising_config c;
  parse_ok("# hash comment\n; semicolon comment\n  ; indented comment\n"
           "[model]   ; after a header\n"
           "T = 3 ; inline\nJ = 2 # inline too\nH: 0.5\n"
           "[output]\nfile = run#1.h5\n",
           0, NULL, &c);
  expect_T(&c, 3.0);
  ck_assert_double_eq(c.J, 2.0);
  ck_assert_double_eq(c.H, 0.5);
  ck_assert_str_eq(c.file, "run#1.h5"); /* '#' without a blank before it is data */
  ising_config_free(&c);
  /* a value continued on indented lines is joined with blanks */
  parse_ok("[lattice]\ndim = 3\nL = 4\n    6 ; y\n\n    8 # z\n[model]\nT = 2\n", 0, NULL, &c);
  ck_assert_int_eq(c.L[0], 4);
  ck_assert_int_eq(c.L[1], 6);
  ck_assert_int_eq(c.L[2], 8);
  char w[128];
  ck_assert_str_eq(ising_config_where(&c, "lattice", "L", w, sizeof w),
                   "deck.ini:3: [lattice] L = 4 6 8");
  ising_config_free(&c);
  parse_ok("[output]\nfile =\n\tlong/name.h5\n", 0, NULL, &c);
  ck_assert_str_eq(c.file, "long/name.h5");
  ising_config_free(&c);
  /* right after a header an indented key is a key */
  parse_ok("[model]\n  T = 4\n", 0, NULL, &c);
  expect_T(&c, 4.0);
  ising_config_free(&c);
  /* continuation lines cannot build an endless value */
  char *big = malloc(30 * 200 + 64);
  ck_assert_ptr_nonnull(big);
  strcpy(big, "[output]\nfile = x\n");
  for (int i = 0; i < 30; i++) {
    size_t len = strlen(big);
    memcpy(big + len, "  ", 2);
    memset(big + len + 2, 'y', 179);
    strcpy(big + len + 181, "/\n"); /* names of a path stay short */
  }
  EXPECT_ERROR(parse_bad(big, 0, NULL, &c), &c, "[output] file: the value, continued over "
               "several lines, is longer than 4095 characters");
  free(big);
  /* a continued value is a list: fine for T, which must then increase */
  parse_ok("[model]\nT = 2\n  3 ; more\n", 0, NULL, &c);
  ck_assert_int_eq(c.n_temps, 2);
  ck_assert_double_eq(c.temps[1], 3.0);
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[model]\nT = 3\n  2\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 3 2: temperatures must be strictly increasing (2 after 3)");
  EXPECT_ERROR(parse_bad("[model]\nJ = 2\n  3\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] J = 2 3: J must be a finite number");
}
END_TEST

/* What inih would read differently from what the deck says is refused,
 * naming the line: text after a header, a CR that does not end a line
 * (CR-only decks), an indented header, a BOM past the first line. */
START_TEST(test_reader_exact) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[lattice] L = 8\n", 0, NULL, &c), &c,
               "deck.ini:1: text after the section header [lattice]: 'L = 8'");
  EXPECT_ERROR(parse_bad("; x\n[model]\nT = 2\n[lattice]L=8\n", 0, NULL, &c), &c,
               "deck.ini:4: text after the section header [lattice]: 'L=8'");
  EXPECT_ERROR(parse_bad("[lattice];c\nL = 8\n", 0, NULL, &c), &c,
               "deck.ini:1: text after the section header [lattice]: ';c'");
  EXPECT_ERROR(parse_bad("[model]\nT = 2\n[lattice] ]\n", 0, NULL, &c), &c,
               "deck.ini:3: text after the section header [lattice]: ']'");
  /* a comment after a blank is fine, as after a value */
  parse_ok("[lattice] ; c\nL = 8\n[model]\t# c\nT = 2\n", 0, NULL, &c);
  ck_assert_int_eq(c.L[0], 8);
  expect_T(&c, 2.0);
  ising_config_free(&c);
  /* CR-only line ends: refused at the first, not read as one line */
  EXPECT_ERROR(parse_bad("[lattice]\rL = 8\r[output]\rfile = cr.h5\r", 0, NULL, &c), &c,
               "deck.ini:1: a carriage return (\\r) that does not end the line",
               "LF or CR LF");
  EXPECT_ERROR(parse_bad("[lattice]\nL = 8\r\r\n", 0, NULL, &c), &c, "deck.ini:2: a carriage");
  EXPECT_ERROR(parse_bad("; comment\rmore\n", 0, NULL, &c), &c, "deck.ini:1: a carriage");
  /* CR LF, also mixed with LF, and a last line without an end */
  parse_ok("[lattice]\r\nL = 8\n[model]\r\nT = 2", 0, NULL, &c);
  ck_assert_int_eq(c.L[0], 8);
  expect_T(&c, 2.0);
  ising_config_free(&c);
  /* an indented header after a key would be more of its value */
  EXPECT_ERROR(parse_bad("[lattice]\nL = 8\n  [model]\nT = 2\n", 0, NULL, &c), &c,
               "deck.ini:3: indented section header '[model]' is read as more of the value of "
               "[lattice] L (line 2)");
  /* a BOM is skipped on the first line only */
  EXPECT_ERROR(parse_bad("[lattice]\n\xEF\xBB\xBFL = 8\n", 0, NULL, &c), &c,
               "deck.ini:2: [lattice] \xEF\xBB\xBFL: unknown key");
  EXPECT_ERROR(parse_bad("\xEF\xBB\xBF[lattice] L = 8\n", 0, NULL, &c), &c,
               "deck.ini:1: text after the section header [lattice]");
  /* a key line that inih splits at ':' is read exactly so */
  parse_ok("[output]\nfile: a:b.h5\n", 0, NULL, &c);
  ck_assert_str_eq(c.file, "a:b.h5");
  ising_config_free(&c);
}
END_TEST

/* ising_config_read_file: the text exactly, or one error naming the path. */
START_TEST(test_read_file) {
  char dir[512], path[600];
  ising_test_tmpdir("config", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/r.ini", dir);
  const char *t = "[lattice]\r\nL = 8\n";
  write_file(path, t, strlen(t));
  char *text = (char *)1;
  ck_assert_int_eq(ising_config_read_file(path, &text), ISING_OK);
  ck_assert_str_eq(text, t);
  free(text);
  ising_err_clear();
  text = (char *)1;
  ck_assert_int_eq(ising_config_read_file(dir, &text), ISING_ERR_INPUT);
  ck_assert_ptr_null(text);
  ck_assert_msg(strstr(ising_err_message(), "it is a directory, not a file"), "%s",
                ising_err_message());
  ising_err_clear();
  write_file(path, "[lattice]\nL = 8\n\0[model]\n", 24);
  ck_assert_int_eq(ising_config_read_file(path, &text), ISING_ERR_INPUT);
  ck_assert_ptr_null(text);
  ck_assert_msg(strstr(ising_err_message(), "r.ini:3: the deck contains a NUL byte"), "%s",
                ising_err_message());
  ising_err_clear();
  remove(path);
  rmdir(dir);
}
END_TEST

/* J, H and the temperatures within the ranges of config.h, at parse time,
 * each error naming the key. */
START_TEST(test_physics_ranges) {
  ising_config c;
  parse_ok("[model]\nJ = -1e100\nH = 1e100\nT = 1e51\n", 0, NULL, &c);
  ising_config_free(&c);
  parse_ok("[model]\nJ = 0\nH = 0\nT = 1e-100\n", 0, NULL, &c);
  ising_config_free(&c);
  parse_ok("[model]\nT = 4e-50\n", 0, NULL, &c); /* (2 dim |J| + |H|) / T = 1e50 */
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[model]\nJ = 1e300\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] J = 1e300: J must be a finite number between -1e+100 and "
               "1e+100");
  EXPECT_ERROR(parse_bad("[model]\nH = -1.1e100\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] H = -1.1e100: H must be a finite number between");
  const char *badT[] = {"1e-320", "1e-200", "1e-101", "1.1e100", "1e300"};
  for (size_t i = 0; i < sizeof badT / sizeof *badT; i++) {
    char deck[64], needle[96];
    snprintf(deck, sizeof deck, "[model]\nT = %s\n", badT[i]);
    snprintf(needle, sizeof needle, "deck.ini:2: [model] T = %s: T must be a finite number > 0, "
             "between 1e-100 and 1e+100", badT[i]);
    EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, needle);
  }
  EXPECT_ERROR(parse_bad("[model]\nT = 1e-320 1\n", 0, NULL, &c), &c,
               "every temperature must be a finite number > 0, between 1e-100 and 1e+100 (got "
               "1e-320)");
  EXPECT_ERROR(parse_bad("[tempering]\nladder = linear\nT_min = 1e-320\nT_max = 1\ncount = 3\n",
                         0, NULL, &c), &c, "deck.ini:3: [tempering] T_min = 1e-320: T_min must be");
  EXPECT_ERROR(parse_bad("[tempering]\nladder = linear\nT_min = 1\nT_max = 1e101\ncount = 3\n",
                         0, NULL, &c), &c, "deck.ini:4: [tempering] T_max = 1e101: T_max must be");
  /* the field over T at the lowest temperature: names the temperature key */
  EXPECT_ERROR(parse_bad("[model]\nT = 1e-60 1\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 1e-60 1: at T = 1e-60 the largest local field in units "
               "of T, (2 dim |J| + |H|) / T with dim = 2, J = 1, H = 0, is 4e+60, above 1e+50");
  EXPECT_ERROR(parse_bad("[lattice]\ndim = 3\n[model]\nH = 2\n[tempering]\nladder = geometric\n"
                         "T_min = 1e-50\nT_max = 1\ncount = 5\n", 0, NULL, &c), &c,
               "deck.ini:7: [tempering] T_min = 1e-50: at T = 1e-50", "is 8e+50");
  /* ... or, at the default T, the coupling or field that is too large */
  EXPECT_ERROR(parse_bad("[model]\nJ = 1e99\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] J = 1e99: at T = 2.26919", "raise T or lower |J| and |H|");
  EXPECT_ERROR(parse_bad("[model]\nJ = 1\nH = 1e99\n", 0, NULL, &c), &c,
               "deck.ini:3: [model] H = 1e99: at T = 2.26919");
  char *set[] = {"model.T=1e-60"};
  EXPECT_ERROR(parse_bad("[model]\nT = 2\n", 1, set, &c), &c, "--set model.T=1e-60: [model] T = "
               "1e-60: at T = 1e-60");
  /* the function itself (bench uses it) */
  char why[512];
  ck_assert_int_eq(ising_config_check_scales(2, 1.0, 0.0, 2.269, why, sizeof why), ISING_OK);
  ck_assert_int_eq(ising_config_check_scales(3, 1.0, 0.0, 1e-320, why, sizeof why),
                   ISING_ERR_INPUT);
  ck_assert_msg(strstr(why, "T must be between 1e-100 and 1e+100"), "%s", why);
  ck_assert_int_eq(ising_config_check_scales(3, NAN, 0.0, 1.0, why, sizeof why), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_config_check_scales(3, 1.0, INFINITY, 1.0, why, sizeof why),
                   ISING_ERR_INPUT);
  ck_assert_int_eq(ising_config_check_scales(3, 1e100, 1e100, 1e51, why, sizeof why),
                   ISING_OK); /* 7e100 / 1e51 */
  ck_assert_int_eq(ising_config_check_scales(3, 1e100, 1e100, 1e50, why, sizeof why),
                   ISING_ERR_INPUT);
  ck_assert_msg(strstr(why, "is 7e+50, above 1e+50"), "%s", why);
}
END_TEST

/* The output name leaves room for OUTPUT.ckpt.old within NAME_MAX (a deck
 * line is too short for such names: --set). */
START_TEST(test_file_name_length) {
  ising_config c;
  char set0[400], name[300];
  char *set[] = {set0};
  memset(name, 'a', 246);
  name[246] = '\0';
  snprintf(set0, sizeof set0, "output.file=d/%s", name);
  parse_ok("", 1, set, &c);
  ck_assert_uint_eq(strlen(c.file), 248);
  ising_config_free(&c);
  name[246] = 'a';
  name[247] = '\0';
  snprintf(set0, sizeof set0, "output.file=d/%s", name);
  EXPECT_ERROR(parse_bad("", 1, set, &c), &c, "--set output.file=d/aaa",
               "has 247 bytes; with the suffix '.ckpt.old' of its checkpoint it must fit in the "
               "file system's 255, so at most 246");
  memset(name, 'b', 256);
  name[256] = '\0';
  snprintf(set0, sizeof set0, "output.file=%s/x.h5", name);
  EXPECT_ERROR(parse_bad("", 1, set, &c), &c, "the directory name '", "has 256 bytes, more "
               "than the file system's 255");
}
END_TEST

/* resume --sweeps N: checked like the key, and named by later messages. */
START_TEST(test_set_sweeps) {
  ising_config c;
  parse_ok("[montecarlo]\nsweeps = 100\n[measurement]\ninterval = 4\n", 0, NULL, &c);
  char w[128];
  ck_assert_int_eq(ising_config_set_sweeps(&c, 700, "--sweeps 700"), ISING_OK);
  ck_assert_int_eq(c.sweeps, 700);
  ck_assert_str_eq(ising_config_where(&c, "montecarlo", "sweeps", w, sizeof w), "--sweeps 700");
  ising_err_clear();
  ck_assert_int_eq(ising_config_set_sweeps(&c, 3, "--sweeps 3"), ISING_ERR_INPUT);
  ck_assert_str_eq(ising_err_message(), "--sweeps 3: sweeps must be at least deck.ini:4: "
                   "[measurement] interval = 4");
  ck_assert_int_eq(c.sweeps, 700);
  ising_err_clear();
  ck_assert_int_eq(ising_config_set_sweeps(&c, 0, "--sweeps 0"), ISING_ERR_INPUT);
  ising_err_clear();
  ising_config_free(&c);
  ising_config_free(&c);
}
END_TEST

START_TEST(test_messages_sanitised) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[model]\nT = 1\x01\x7f\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 1\\x01\\x7f: T must be");
  EXPECT_ERROR(parse_bad("[model]\nT = 1\r2\n", 0, NULL, &c), &c,
               "deck.ini:2: a carriage return (\\r) that does not end the line");
  /* a long value is cut, the message stays short */
  char deck[256] = "[model]\nT = ";
  memset(deck + strlen(deck), '9', 180);
  strcat(deck, "x\n");
  ising_err_clear();
  int rc = ising_config_parse_string(deck, "deck.ini", 0, NULL, &c);
  ck_assert_int_eq(rc, ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "...: T must be a finite number > 0"));
  ck_assert_uint_lt(strlen(ising_err_message()), 300);
  ising_err_clear();
  /* a long deck name keeps its tail */
  char name[600];
  memset(name, 'd', 500);
  strcpy(name + 500, "/deck.ini");
  rc = ising_config_parse_string("[x]\n", name, 0, NULL, &c);
  ck_assert_int_eq(rc, ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "ddd/deck.ini:1: unknown section [x]"));
  ck_assert_int_eq(strncmp(ising_err_message(), "...ddd", 6), 0);
  ising_err_clear();
  /* a deck name that does not fit deck_name */
  char *huge = malloc(ISING_PATH_MAX + 16);
  ck_assert_ptr_nonnull(huge);
  memset(huge, 'n', ISING_PATH_MAX + 8);
  huge[ISING_PATH_MAX + 8] = '\0';
  EXPECT_ERROR(ising_config_parse_string("", huge, 0, NULL, &c), &c, "deck name '...nnn",
               "is longer than 4095 bytes");
  free(huge);
}
END_TEST

START_TEST(test_failure_leaves_freed) {
  ising_config c;
  /* fails late: after entries would have been built */
  char *set[] = {"measurement.interval=99"};
  EXPECT_ERROR(parse_bad("[montecarlo]\nsweeps = 10\n", 1, set, &c), &c, "interval");
  ising_config_free(&c);
  ising_config_free(&c);
  /* a config can be parsed again after free */
  parse_ok("[model]\nT = 1\n", 0, NULL, &c);
  ising_config_free(&c);
  parse_ok("[model]\nT = 2\n", 0, NULL, &c);
  expect_T(&c, 2.0);
  ising_config_free(&c);
  ising_config_free(NULL);
}
END_TEST

static Suite *config_suite(void) {
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_disorder_keys);
  tcase_add_test(tc, test_empty_deck);
  tcase_add_test(tc, test_input_default);
  tcase_add_test(tc, test_input_3d);
  tcase_add_test(tc, test_input_heatbath);
  tcase_add_test(tc, test_input_tempering);
  tcase_add_test(tc, test_temperature_lists);
  tcase_add_test(tc, test_ladder_linear);
  tcase_add_test(tc, test_ladder_geometric);
  tcase_add_test(tc, test_ladder_conflicts);
  tcase_add_test(tc, test_ladder_missing);
  tcase_add_test(tc, test_copies_interval_ranks);
  tcase_add_test(tc, test_replica_limit);
  tcase_add_test(tc, test_adapt);
  tcase_add_test(tc, test_lattice_values);
  tcase_add_test(tc, test_real_values);
  tcase_add_test(tc, test_integer_values);
  tcase_add_test(tc, test_seed_range);
  tcase_add_test(tc, test_enum_values);
  tcase_add_test(tc, test_file_values);
  tcase_add_test(tc, test_error_unknown_section);
  tcase_add_test(tc, test_error_unknown_key);
  tcase_add_test(tc, test_error_duplicate);
  tcase_add_test(tc, test_error_L);
  tcase_add_test(tc, test_error_interval);
  tcase_add_test(tc, test_error_syntax);
  tcase_add_test(tc, test_error_missing_file);
  tcase_add_test(tc, test_bad_decks);
  tcase_add_test(tc, test_set_good);
  tcase_add_test(tc, test_set_bad);
  tcase_add_test(tc, test_set_tempering);
  tcase_add_test(tc, test_where);
  tcase_add_test(tc, test_where_tempering);
  tcase_add_test(tc, test_long_line);
  tcase_add_test(tc, test_crlf_bom);
  tcase_add_test(tc, test_comments_and_continuation);
  tcase_add_test(tc, test_reader_exact);
  tcase_add_test(tc, test_read_file);
  tcase_add_test(tc, test_physics_ranges);
  tcase_add_test(tc, test_file_name_length);
  tcase_add_test(tc, test_set_sweeps);
  tcase_add_test(tc, test_messages_sanitised);
  tcase_add_test(tc, test_failure_leaves_freed);
  tcase_add_test(tc, test_correlation_rmax);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return ising_test_run_suite(config_suite()); }
