/*
 * test_config.c -- Check suite for the input deck (src/config.c): the user
 * decks in inputs/, defaults, every class of error message (file:line, key,
 * what is allowed), the bad decks in tests/decks/ (one defect each), --set
 * overrides, where() strings, and the syntax corners (long lines, CRLF, BOM,
 * comments, continuation lines, empty deck).
 */
#include "ising/config.h"
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

/* Equal to the defaults in every value field. */
static void expect_defaults(const ising_config *c) {
  ck_assert_int_eq(c->dim, 2);
  ck_assert_int_eq(c->L[0], 64);
  ck_assert_int_eq(c->L[1], 64);
  ck_assert_int_eq(c->L[2], 1);
  ck_assert_double_eq(c->J, 1.0);
  ck_assert_double_eq(c->H, 0.0);
  ck_assert_double_eq(c->T, 2.269185314213022);
  ck_assert_int_eq(c->algorithm, ISING_ALG_METROPOLIS);
  ck_assert_int_eq(c->start, ISING_START_HOT);
  ck_assert_int_eq(c->kernel, ISING_KERNEL_FAST);
  ck_assert_uint_eq(c->seed, 1);
  ck_assert_int_eq(c->thermalization, 1000);
  ck_assert_int_eq(c->sweeps, 10000);
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
  ck_assert_double_eq(c.T, 2.5);
  ck_assert_int_eq(c.algorithm, ISING_ALG_METROPOLIS);
  ck_assert_int_eq(c.start, ISING_START_HOT);
  ck_assert_int_eq(c.kernel, ISING_KERNEL_FAST);
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
  ck_assert_double_eq(c.T, 4.0);
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
  ck_assert_double_eq(c.T, 2.0);
  ck_assert_int_eq(c.algorithm, ISING_ALG_HEATBATH);
  ck_assert_int_eq(c.start, ISING_START_COLD);
  ck_assert_str_eq(c.file, "heatbath.h5");
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
  parse_ok("[model]\nJ = -1.5\nH = 1e-3\nT = 1e300\n[output]\nprogress = 0\n", 0, NULL, &c);
  ck_assert_double_eq(c.J, -1.5);
  ck_assert_double_eq(c.H, 1e-3);
  ck_assert_double_eq(c.T, 1e300);
  ck_assert_double_eq(c.progress, 0.0);
  ising_config_free(&c);
  const char *bad[] = {"T = 0", "T = 1e400", "T = inf", "T = nan", "T = 2.5x", "T = ", "T = 1 2"};
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
  ck_assert_int_eq(c.kernel, ISING_KERNEL_REFERENCE);
  ising_config_free(&c);
  EXPECT_ERROR(parse_bad("[montecarlo]\nalgorithm = Metropolis\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] algorithm = Metropolis: algorithm must be metropolis "
               "or heatbath");
  EXPECT_ERROR(parse_bad("[montecarlo]\nstart = warm\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] start = warm: start must be hot");
  EXPECT_ERROR(parse_bad("[montecarlo]\nkernel = simd\n", 0, NULL, &c), &c,
               "deck.ini:2: [montecarlo] kernel = simd: kernel must be fast or reference");
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
               "measurement, output");
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
  ck_assert_double_eq(c.T, 3.0);
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
               "Is a directory");
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
    {"bad_algorithm.ini", 3, "[montecarlo] algorithm = wolff: algorithm must be"},
    {"interval_gt_sweeps.ini", 5, "[measurement] interval = 50: interval must be between 1 and "
                                  "sweeps = 20"},
    {"lattice_too_big.ini", 4, "[lattice] L = 16384: the 3D lattice would have"},
    {"key_outside_section.ini", 2, "T = 2.0: key outside any section"},
    {"missing_equals.ini", 3, "cannot parse 'T 2.0': expected key = value"},
    {"unclosed_section.ini", 2, "cannot parse '[model': a section header is [name]"},
    {"indented_key.ini", 4, "indented line 'L = 16' is read as more of the value of [lattice] dim"},
    {"empty_file.ini", 3, "[output] file = \"\": file must be a non-empty path"},
    {"progress_negative.ini", 3, "[output] progress = -1: progress must be a finite number >= 0"},
    {"long_line.ini", 3, "line is longer than 199 characters"},
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
  ck_assert_double_eq(c.T, 3.5);
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
  /* "file = " + name: exactly 199 characters is fine, 200 is not */
  int n = snprintf(deck, sizeof deck, "[output]\nfile = ");
  memset(deck + n, 'x', 192);
  deck[n + 192] = '\0';
  strcat(deck, "\r\n"); /* the line end does not count */
  parse_ok(deck, 0, NULL, &c);
  ck_assert_uint_eq(strlen(c.file), 192);
  ising_config_free(&c);
  n = snprintf(deck, sizeof deck, "[output]\nfile = ");
  memset(deck + n, 'x', 193);
  deck[n + 193] = '\0';
  strcat(deck, "\n[model]\nT = 2\n");
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c,
               "deck.ini:2: line is longer than 199 characters");
  /* a long comment line is still a long line (inih would split it) */
  memset(deck, ';', 300);
  strcpy(deck + 300, "\n");
  EXPECT_ERROR(parse_bad(deck, 0, NULL, &c), &c, "deck.ini:1: line is longer than 199");
}
END_TEST

START_TEST(test_crlf_bom) {
  ising_config c;
  parse_ok("\xEF\xBB\xBF[lattice]\r\ndim = 3\r\nL = 4 6 8\r\n[model]\r\nT = 1.5\r\n"
           "[output]\r\nfile = a.h5\r\n",
           0, NULL, &c);
  ck_assert_int_eq(c.dim, 3);
  ck_assert_int_eq(c.L[2], 8);
  ck_assert_double_eq(c.T, 1.5);
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
  ck_assert_double_eq(c.T, 3.0);
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
  ck_assert_double_eq(c.T, 4.0);
  ising_config_free(&c);
  /* continuation lines cannot build an endless value */
  char *big = malloc(30 * 200 + 64);
  ck_assert_ptr_nonnull(big);
  strcpy(big, "[output]\nfile = x\n");
  for (int i = 0; i < 30; i++) {
    size_t len = strlen(big);
    memcpy(big + len, "  ", 2);
    memset(big + len + 2, 'y', 180);
    strcpy(big + len + 182, "\n");
  }
  EXPECT_ERROR(parse_bad(big, 0, NULL, &c), &c, "[output] file: the value, continued over "
               "several lines, is longer than 4095 characters");
  free(big);
  /* a continued scalar is not a scalar any more */
  EXPECT_ERROR(parse_bad("[model]\nT = 2\n  3\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 2 3: T must be a finite number > 0");
}
END_TEST

START_TEST(test_messages_sanitised) {
  ising_config c;
  EXPECT_ERROR(parse_bad("[model]\nT = 1\x01\x7f\n", 0, NULL, &c), &c,
               "deck.ini:2: [model] T = 1\\x01\\x7f: T must be");
  EXPECT_ERROR(parse_bad("[model]\nT = 1\r2\n", 0, NULL, &c), &c, "T = 1\\x0d2");
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
  ck_assert_double_eq(c.T, 2.0);
  ising_config_free(&c);
  ising_config_free(NULL);
}
END_TEST

static Suite *config_suite(void) {
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_empty_deck);
  tcase_add_test(tc, test_input_default);
  tcase_add_test(tc, test_input_3d);
  tcase_add_test(tc, test_input_heatbath);
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
  tcase_add_test(tc, test_where);
  tcase_add_test(tc, test_long_line);
  tcase_add_test(tc, test_crlf_bom);
  tcase_add_test(tc, test_comments_and_continuation);
  tcase_add_test(tc, test_messages_sanitised);
  tcase_add_test(tc, test_failure_leaves_freed);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return ising_test_run_suite(config_suite()); }
